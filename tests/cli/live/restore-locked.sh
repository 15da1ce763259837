#!/usr/bin/env bash
# During an incident a long run may hold the catalog's lock: restore then
# reads the catalog without it and restores anyway, unrecorded (-vv says
# so). Without the lock it takes the lock and records the run.
h="$RV_REG_PLAIN/t/cli/$$/app"
skopeo copy -q --preserve-digests --policy "$RV_SKOPEO_POLICY" \
	"oci:$RV_FX_LAYOUT:image" "docker://$h:v1" --dest-tls-verify=false || exit 1
regvault backup "$h:v1" --to ./store --catalog ./cat.db >/dev/null || exit 1
curl -fsS -o /dev/null -X DELETE "http://$RV_REG_PLAIN/v2/t/cli/$$/app/manifests/$RV_FX_IMAGE_DIGEST" || exit 1
flock ./cat.db.lock regvault -vv restore "$h:v1" --catalog ./cat.db 2>err | cut -d" " -f1
echo "exit ${PIPESTATUS[0]}"
grep -c "debug: another regvault run holds the catalog lock.*restoring without recording the run" err
echo "sha256:$(skopeo inspect --raw --tls-verify=false "docker://$h:v1" | sha256sum | cut -d" " -f1)"
regvault -vv restore "$h:v1" --catalog ./cat.db 2>err | cut -d" " -f1
grep -q "restoring without recording" err || echo "recorded"
