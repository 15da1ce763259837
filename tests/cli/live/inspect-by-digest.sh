#!/usr/bin/env bash
# A digest names the bytes; a child of an index can be inspected alone.
regvault inspect "$RV_REG_PLAIN/fx/multi@$RV_FX_MULTI_AMD64_DIGEST" | sed -n "1,5p"
