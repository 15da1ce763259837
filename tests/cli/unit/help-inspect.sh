#!/usr/bin/env bash
regvault help inspect
