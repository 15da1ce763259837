#!/usr/bin/env bash
# The store is chosen: the archive store when its directory is here, else
# the standby. With the store moved away the standby serves the restore;
# --from-store archive tries the archive first, warns why it failed and
# falls back (the JSON notes say so too). With the standby's copy gone too,
# the error names every store and why, not only the last one tried.
h="$RV_REG_PLAIN/t/cli/$$/app"
skopeo copy -q --preserve-digests --policy "$RV_SKOPEO_POLICY" \
	"oci:$RV_FX_LAYOUT:image" "docker://$h:v1" --dest-tls-verify=false || exit 1
regvault backup "$h:v1" --to ./store --catalog ./cat.db >/dev/null || exit 1
regvault mirror "$h:v1" --to "$RV_REG_STANDBY/t/cli/$$" --catalog ./cat.db >/dev/null || exit 1
del() {
	curl -fsS -o /dev/null -X DELETE "http://$RV_REG_PLAIN/v2/t/cli/$$/app/manifests/$RV_FX_IMAGE_DIGEST"
}
del || exit 1
mv store gone
regvault restore "$h:v1" --catalog ./cat.db
echo "exit $?"
echo "sha256:$(skopeo inspect --raw --tls-verify=false "docker://$h:v1" | sha256sum | cut -d" " -f1)"
del || exit 1
regvault -o json restore "$h:v1" --from-store archive --catalog ./cat.db >out.json 2>err
echo "exit $?"
jq -r ".source, (.notes | length), (.notes[0] | startswith(\"archive \"))" out.json
sed "s|/$$/|/PID/|g; s|$(pwd -P)|CWD|" err | cut -c1-60
del || exit 1
# The standby keeps the whole path under its prefix: t/cli/PID/t/cli/PID/app.
curl -fsS -o /dev/null -X DELETE \
	"http://$RV_REG_STANDBY/v2/t/cli/$$/t/cli/$$/app/manifests/$RV_FX_IMAGE_DIGEST" || exit 1
regvault -o json restore "$h:v1" --catalog ./cat.db >out.json 2>/dev/null
echo "exit $?"
jq -r '.error.message' out.json | sed "s|/$$|/PID|g; s|$(pwd -P)|CWD|g; s|sha256:[0-9a-f]*|DIGEST|g"
