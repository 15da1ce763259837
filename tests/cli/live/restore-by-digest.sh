#!/usr/bin/env bash
# By digest, and elsewhere: HOST/REPO@DIGEST comes back by digest only (no
# tag is put); --to HOST/REPO sends it to another repository, where every
# blob is uploaded and the tag is set.
h="$RV_REG_PLAIN/t/cli/$$/app"
skopeo copy -q --preserve-digests --policy "$RV_SKOPEO_POLICY" \
	"oci:$RV_FX_LAYOUT:image" "docker://$h:v1" --dest-tls-verify=false || exit 1
regvault backup "$h:v1" --to ./store --catalog ./cat.db >/dev/null || exit 1
curl -fsS -o /dev/null -X DELETE "http://$RV_REG_PLAIN/v2/t/cli/$$/app/manifests/$RV_FX_IMAGE_DIGEST" || exit 1
regvault restore "$h@$RV_FX_IMAGE_DIGEST" --catalog ./cat.db
echo "exit $?"
echo "sha256:$(skopeo inspect --raw --tls-verify=false "docker://$h@$RV_FX_IMAGE_DIGEST" | sha256sum | cut -d" " -f1)"
skopeo inspect --raw --tls-verify=false "docker://$h:v1" >/dev/null 2>&1 || echo "no tag v1"
regvault restore "$h:v1" --to "$RV_REG_PLAIN/t/cli/$$/copy" --catalog ./cat.db
echo "exit $?"
regvault ls "$RV_REG_PLAIN/t/cli/$$/copy"
