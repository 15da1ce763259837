#!/usr/bin/env bash
# `restore --run` undoes prune runs only: the id of a backup run (run 1
# of a fresh catalog) is exit 2 naming what the run was, in text and in
# JSON, and nothing is pushed or marked.
h="$RV_REG_PLAIN/t/cli/$$/app"
skopeo copy -q --preserve-digests --policy "$RV_SKOPEO_POLICY" \
	"oci:$RV_FX_LAYOUT:image" "docker://$h:v1" --dest-tls-verify=false || exit 1
regvault backup "$h:v1" --to ./store --catalog ./cat.db >/dev/null || exit 1
regvault restore --run 1 --catalog ./cat.db
echo "exit $?"
regvault -o json restore --run 1 --catalog ./cat.db 2>/dev/null | jq -r .error.code
regvault restore --run 2 --catalog ./cat.db
echo "exit $?"
