#!/usr/bin/env bash
# 5,000 manifest HEADs, 16 at a time, every one answered and right.
regvault --jobs 16 -o json ls -l "$RV_REG_PLAIN/$RV_FX_MANYTAGS_REPO" >out.json || exit 1
jq -r --arg d "$RV_FX_MANYTAGS_DIGEST" "
	(.tags | length),
	([.tags[] | select(.digest == \$d and .size > 0 and (.mediaType | length) > 0)] | length),
	([.tags[] | select(has(\"error\"))] | length)" out.json
