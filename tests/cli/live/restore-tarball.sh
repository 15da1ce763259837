#!/usr/bin/env bash
# --from FILE.tar: a tarball from `backup --to FILE.tar` brings the image
# back without the catalog, by its name in the tarball or alone; --to
# names where it goes (its tag, or the tarball name's).
h="$RV_REG_PLAIN/t/cli/$$/app"
skopeo copy -q --preserve-digests --policy "$RV_SKOPEO_POLICY" \
	"oci:$RV_FX_LAYOUT:image" "docker://$h:v1" --dest-tls-verify=false || exit 1
regvault backup "$h:v1" --to ./x.tar --catalog ./cat.db >/dev/null || exit 1
curl -fsS -o /dev/null -X DELETE "http://$RV_REG_PLAIN/v2/t/cli/$$/app/manifests/$RV_FX_IMAGE_DIGEST" || exit 1
regvault restore --from ./x.tar "$h:v1" --to "$h"
echo "exit $?"
echo "sha256:$(skopeo inspect --raw --tls-verify=false "docker://$h:v1" | sha256sum | cut -d" " -f1)"
regvault restore --from ./x.tar --to "$RV_REG_PLAIN/t/cli/$$/other:stable" --dry-run
echo "exit $?"
regvault restore --from ./x.tar --to "$RV_REG_PLAIN/t/cli/$$/other:stable" -o json |
	jq -r ".target, .source, .blobsUploaded, .dryRun"
regvault restore --from ./x.tar nope --to "$h"
echo "exit $?"
