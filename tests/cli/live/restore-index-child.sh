#!/usr/bin/env bash
# An index's platform child that a pod pins by digest (its imageID), gone
# from the registry: `restore REPO@CHILD` and `deployed --restore` bring it
# back from the copy of its index. Copies are listed per top-level image,
# so the child has no holder of its own; restore used to say "no store
# holds a verified copy" (exit 1) while `catalog show` listed two.
h="$RV_REG_PLAIN/t/cli/$$/idx"
skopeo copy -q --all --preserve-digests --policy "$RV_SKOPEO_POLICY" \
	"oci:$RV_FX_LAYOUT:multi" "docker://$h:v1" --dest-tls-verify=false || exit 1
accept=application/vnd.oci.image.index.v1+json,application/vnd.oci.image.manifest.v1+json
child=$(curl -s -H "Accept: $accept" "http://$RV_REG_PLAIN/v2/t/cli/$$/idx/manifests/v1" |
	jq -r '.manifests[0].digest')
regvault --catalog ./cat.db -q backup "$h:v1" --to ./vault >/dev/null || exit 1
regvault --catalog ./cat.db -q mirror "$h:v1" --to "$RV_REG_STANDBY/t/cli/$$/sb" >/dev/null || exit 1
echo "$h@$child" >deployed.txt
curl -s -o /dev/null -w 'delete child: %{http_code}\n' -X DELETE \
	"http://$RV_REG_PLAIN/v2/t/cli/$$/idx/manifests/$child"
regvault --catalog ./cat.db deployed --deployed refs-file:deployed.txt --check >/dev/null
echo "check exit $?"
regvault --catalog ./cat.db restore "$h@$child" >/dev/null
echo "restore exit $?"
got=$(curl -s -H "Accept: $accept" "http://$RV_REG_PLAIN/v2/t/cli/$$/idx/manifests/$child" | sha256sum)
[[ "sha256:${got%% *}" == "$child" ]] && echo "digest identical"
curl -s -o /dev/null -X DELETE "http://$RV_REG_PLAIN/v2/t/cli/$$/idx/manifests/$child"
regvault --catalog ./cat.db restore --from-store registry "$h@$child" 2>&1 >/dev/null | grep -c warning
echo "restore from standby exit ${PIPESTATUS[0]}"
curl -s -o /dev/null -X DELETE "http://$RV_REG_PLAIN/v2/t/cli/$$/idx/manifests/$child"
regvault --catalog ./cat.db deployed --deployed refs-file:deployed.txt --restore >/dev/null
echo "deployed --restore exit $?"
regvault --catalog ./cat.db deployed --deployed refs-file:deployed.txt --check | tail -n 1
echo "check exit ${PIPESTATUS[0]}"
