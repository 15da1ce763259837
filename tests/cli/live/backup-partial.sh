#!/usr/bin/env bash
# One image that cannot be read fails alone: the others are stored and
# recorded, the failed one is named with its reason, and the exit is 1.
regvault backup "$RV_REG_PLAIN/$RV_FX_IMAGE" "$RV_REG_PLAIN/fx/image:nope" \
	--to ./store --catalog ./cat.db
echo "exit $?"
regvault --catalog ./cat.db catalog list "*:v1" | cut -d" " -f1
regvault backup -o json "$RV_REG_PLAIN/fx/image:nope" "$RV_REG_PLAIN/$RV_FX_IMAGE" \
	--to ./store --catalog ./cat.db 2>/dev/null |
	jq -c "[.images[] | [.ref, .status, .error.code]], .summary"
echo "exit ${PIPESTATUS[0]}"
