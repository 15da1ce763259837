#!/usr/bin/env bash
# Long options match exactly: an abbreviation is unknown.
regvault --out json ls 127.0.0.1:5000
