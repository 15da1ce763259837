#!/usr/bin/env bash
regvault help prune
