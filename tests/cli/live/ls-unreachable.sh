#!/usr/bin/env bash
# Nothing listens on port 1: an operational failure (1), as JSON too.
regvault ls 127.0.0.1:1/fx/image
echo "exit $?"
regvault -o json ls 127.0.0.1:1/fx/image 2>/dev/null | jq -r ".error.code, (.error.message | contains(\"127.0.0.1:1\"))"
echo "exit ${PIPESTATUS[0]}"
