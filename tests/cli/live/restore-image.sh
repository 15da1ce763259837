#!/usr/bin/env bash
# The incident: an image backed up, then deleted from the primary by
# digest (which removes its tag too). `regvault restore REF` brings it
# back from the archive store in one line; the registry then serves the
# same bytes under the tag, and a second restore uploads nothing.
h="$RV_REG_PLAIN/t/cli/$$/app"
skopeo copy -q --preserve-digests --policy "$RV_SKOPEO_POLICY" \
	"oci:$RV_FX_LAYOUT:image" "docker://$h:v1" --dest-tls-verify=false || exit 1
regvault backup "$h:v1" --to ./store --catalog ./cat.db >/dev/null || exit 1
curl -fsS -o /dev/null -X DELETE "http://$RV_REG_PLAIN/v2/t/cli/$$/app/manifests/$RV_FX_IMAGE_DIGEST" || exit 1
skopeo inspect --raw --tls-verify=false "docker://$h:v1" >/dev/null 2>&1 && echo "still there?"
regvault restore "$h:v1" --catalog ./cat.db
echo "exit $?"
echo "sha256:$(skopeo inspect --raw --tls-verify=false "docker://$h:v1" | sha256sum | cut -d" " -f1)"
regvault restore "$h:v1" --catalog ./cat.db | sed "s/ in [0-9.]* s,/ in T s,/"
