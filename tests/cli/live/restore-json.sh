#!/usr/bin/env bash
# -o json: one document on stdout with every field, nothing on stderr.
h="$RV_REG_PLAIN/t/cli/$$/app"
skopeo copy -q --preserve-digests --policy "$RV_SKOPEO_POLICY" \
	"oci:$RV_FX_LAYOUT:image" "docker://$h:v1" --dest-tls-verify=false || exit 1
regvault backup "$h:v1" --to ./store --catalog ./cat.db >/dev/null || exit 1
curl -fsS -o /dev/null -X DELETE "http://$RV_REG_PLAIN/v2/t/cli/$$/app/manifests/$RV_FX_IMAGE_DIGEST" || exit 1
regvault -o json restore "$h:v1" --to "$RV_REG_PLAIN/t/cli/$$/copy" --catalog ./cat.db >out.json 2>err
echo "exit $?"
jq -s length out.json
wc -c <err
jq -r "keys_unsorted | join(\",\")" out.json
jq -r --arg store "archive $(pwd -P)/store" \
	"(.ref | sub(\"/[0-9]+/\"; \"/PID/\")), (.target | sub(\"/[0-9]+/\"; \"/PID/\")), .digest,
	(.source == \$store), (.durationSeconds >= 0), .blobsUploaded, .blobsTotal,
	(.bytesUploaded > 0), .manifestsPut, .dryRun, (.notes | length)" out.json
