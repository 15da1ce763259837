#!/usr/bin/env bash
# --platform copies only the chosen children of an index: the image is
# 'partial' (the index names every child, so no complete copy is
# recorded) and the chosen child is on the standby by digest.
dst=$RV_REG_STANDBY/t/cli/mirror-platform-$$
regvault -o json mirror --platform linux/amd64 "$RV_REG_PLAIN/$RV_FX_MULTI" --to "$dst" \
	--catalog ./cat.db | jq -r ".images[0].status, .summary.partial"
echo "exit ${PIPESTATUS[0]}"
regvault inspect -o json "$dst/fx/multi@$RV_FX_MULTI_AMD64_DIGEST" | jq -r .digest
