#!/usr/bin/env bash
# -o json after the bad value still makes the error JSON.
regvault --jobs 0 ls 127.0.0.1:5000 -o json | jq -e ".error.code == \"usage\"" >/dev/null || exit 1
exit "${PIPESTATUS[0]}"
