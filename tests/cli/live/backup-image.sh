#!/usr/bin/env bash
# A first backup copies the image (its cosign signature comes with it),
# writes one volume and records it: catalog list shows it with its digest.
# Without a terminal there is no progress line: stderr stays empty.
regvault backup "$RV_REG_PLAIN/$RV_FX_IMAGE" --to ./store --catalog ./cat.db || exit 1
ls store/volumes | wc -l
regvault --catalog ./cat.db catalog list "*/fx/image:v1"
short=${RV_FX_IMAGE_DIGEST#sha256:}
regvault --catalog ./cat.db catalog list "*/fx/image:v1" | grep -c "  ${short:0:12}  "
regvault --catalog ./cat.db -o json catalog list |
	jq -r --arg store "$(pwd -P)/store" \
		".[] | \"\(.reference) \(.digest) \(.storeKind) \(.store == \$store) \(.totalSize > .size)\""
