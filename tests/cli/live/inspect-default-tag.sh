#!/usr/bin/env bash
# Without tag or digest the tag is latest (fx/image has none).
regvault inspect "$RV_REG_PLAIN/fx/image"
echo "exit $?"
regvault inspect -o json "$RV_REG_PLAIN/fx/image" 2>/dev/null | jq -r .error.code
