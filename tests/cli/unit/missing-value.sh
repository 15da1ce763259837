#!/usr/bin/env bash
# A global option at the end of the line lacks its value.
regvault ls 127.0.0.1:5000 --output
