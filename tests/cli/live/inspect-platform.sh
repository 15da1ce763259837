#!/usr/bin/env bash
# --platform picks one child of an index; without a variant any variant does.
regvault inspect --platform linux/arm64 "$RV_REG_PLAIN/$RV_FX_MULTI" | sed -n "2,3p;6p"
regvault -o json inspect --platform=linux/amd64 "$RV_REG_PLAIN/$RV_FX_MULTI" | jq -r ".index.digest, .digest"
