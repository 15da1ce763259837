#!/usr/bin/env bash
# An OCI index and a Docker manifest list are kept whole: every child, its
# config and layers; show counts them, verify re-hashes them all.
regvault backup "$RV_REG_PLAIN/$RV_FX_MULTI" "$RV_REG_PLAIN/$RV_FX_DOCKERLIST" \
	"$RV_REG_PLAIN/$RV_FX_DOCKER" --to ./store --catalog ./cat.db || exit 1
for r in "$RV_FX_MULTI" "$RV_FX_DOCKERLIST" "$RV_FX_DOCKER"; do
	regvault --catalog ./cat.db -o json catalog show "$RV_REG_PLAIN/$r" |
		jq -r "\"\(.reference) \(.digest) \(.mediaType) \(.objects) \(.totalSize > .size) \(.copies | length)\""
done
regvault --catalog ./cat.db catalog show "$RV_REG_PLAIN/fx/multi@$RV_FX_MULTI_ARM64_DIGEST" | sed -n "1,3p"
regvault --catalog ./cat.db catalog verify --deep | cut -d"(" -f1
