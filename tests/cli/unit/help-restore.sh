#!/usr/bin/env bash
regvault help restore
