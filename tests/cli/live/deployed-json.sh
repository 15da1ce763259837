#!/usr/bin/env bash
# -o json: one array on stdout, one object per distinct reference with
# every place it was found; --check adds status and problem, --restore the
# restore report. A tag that does not resolve carries its error (exit 1).
h="$RV_REG_PLAIN/t/cli/$$/app"
skopeo copy -q --preserve-digests --policy "$RV_SKOPEO_POLICY" \
	"oci:$RV_FX_LAYOUT:image" "docker://$h:v1" --dest-tls-verify=false || exit 1
regvault backup "$h:v1" --to ./store --catalog ./cat.db >/dev/null || exit 1
printf '%s\n# twice\n%s\n%s\n' "$h:v1" "$h:v1" "$h:nope" >refs.txt
regvault -o json deployed --deployed refs-file:./refs.txt >out.json 2>err
echo "exit $?"
sed "s|/$$/|/PID/|" err
jq -c "length, (.[] | [(.ref | sub(\"/[0-9]+/\"; \"/PID/\")), .repository == \"t/cli/$$/app\",
	.tag, .digest == \"$RV_FX_IMAGE_DIGEST\", [.places[] | .where, .why],
	.error.code, has(\"status\")])" out.json
sed -i "\$d" refs.txt
curl -fsS -o /dev/null -X DELETE "http://$RV_REG_PLAIN/v2/t/cli/$$/app/manifests/$RV_FX_IMAGE_DIGEST" || exit 1
regvault -o json deployed --deployed refs-file:./refs.txt --check --catalog ./cat.db |
	jq -c ".[] | [.status, .problem, .digest == \"$RV_FX_IMAGE_DIGEST\", has(\"restore\")]"
regvault -o json deployed --deployed refs-file:./refs.txt --restore --catalog ./cat.db |
	jq -c ".[] | [.status, .problem, (.restore | .digest == \"$RV_FX_IMAGE_DIGEST\", .dryRun,
	.manifestsPut, (.source | startswith(\"archive \")))]"
echo "exit ${PIPESTATUS[0]}"
