#!/usr/bin/env bash
regvault help mirror
