#!/usr/bin/env bash
# A manifest still there whose layer is gone is missing too: --check
# names the blob. --restore then restores by digest (the tag the registry
# still resolves is left as it is), uploading just that blob. A tag the
# registry lost, with no catalog to say what it named, shows '-'; without
# a verified copy --restore fails (exit 1) and says why.
h="$RV_REG_PLAIN/t/cli/$$/app"
skopeo copy -q --preserve-digests --policy "$RV_SKOPEO_POLICY" \
	"oci:$RV_FX_LAYOUT:child" "docker://$h:v2" --dest-tls-verify=false || exit 1
skopeo copy -q --preserve-digests --policy "$RV_SKOPEO_POLICY" \
	"oci:$RV_FX_LAYOUT:image" "docker://$h:v1" --dest-tls-verify=false || exit 1
regvault backup "$h:v2" --to ./store --catalog ./cat.db >/dev/null || exit 1
layer=${RV_FX_CHILD_LAYERS##*,}
curl -fsS -o /dev/null -X DELETE "http://$RV_REG_PLAIN/v2/t/cli/$$/app/blobs/$layer" || exit 1
echo "$h:v2" >refs.txt
regvault deployed --deployed refs-file:./refs.txt --check
echo "exit $?"
regvault deployed --deployed refs-file:./refs.txt --restore --catalog ./cat.db
echo "exit $?"
curl -fsS -o /dev/null -X DELETE "http://$RV_REG_PLAIN/v2/t/cli/$$/app/manifests/$RV_FX_IMAGE_DIGEST" || exit 1
echo "$h:v1" >refs.txt
regvault deployed --deployed refs-file:./refs.txt --check --catalog ./none.db
echo "exit $?"
regvault deployed --deployed refs-file:./refs.txt --restore --catalog ./cat.db
echo "exit $?"
