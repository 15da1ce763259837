#!/usr/bin/env bash
# Bytes that are not UTF-8 in what was typed still give one valid JSON document.
regvault -o json inspect "$(printf "127.0.0.1:5000/\\377\\376")" 2>/dev/null | jq -r .error.code
echo "exit ${PIPESTATUS[0]}"
