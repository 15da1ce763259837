#!/usr/bin/env bash
# --dry-run says what would move and changes nothing: the manifest stays
# unknown, and a dry run of a restore elsewhere counts every blob.
h="$RV_REG_PLAIN/t/cli/$$/app"
skopeo copy -q --preserve-digests --policy "$RV_SKOPEO_POLICY" \
	"oci:$RV_FX_LAYOUT:image" "docker://$h:v1" --dest-tls-verify=false || exit 1
regvault backup "$h:v1" --to ./store --catalog ./cat.db >/dev/null || exit 1
curl -fsS -o /dev/null -X DELETE "http://$RV_REG_PLAIN/v2/t/cli/$$/app/manifests/$RV_FX_IMAGE_DIGEST" || exit 1
regvault restore "$h:v1" --dry-run --catalog ./cat.db
echo "exit $?"
regvault restore "$h:v1" --to "$RV_REG_PLAIN/t/cli/$$/copy" --dry-run --catalog ./cat.db
echo "exit $?"
for r in app/manifests/v1 "app/manifests/$RV_FX_IMAGE_DIGEST" copy/manifests/v1; do
	curl -s -o /dev/null -w "%{http_code}\n" -I "http://$RV_REG_PLAIN/v2/t/cli/$$/$r" \
		-H "Accept: application/vnd.oci.image.manifest.v1+json"
done
regvault -o json restore "$h:v1" --dry-run --catalog ./cat.db |
	jq -c "[.dryRun, .blobsUploaded, .manifestsPut, .digest == \"$RV_FX_IMAGE_DIGEST\"]"
