#!/usr/bin/env bash
# restore --run after a prune that deleted an OCI index: the journal names
# the index and, as rows of their own, its two children, which have no
# copy of their own (copies are recorded per top-level image). The undo
# brings the index back with its children and counts all three restored:
# exit 0 for the dry run and the real one, both children there by digest.
h="$RV_REG_PLAIN/t/cli/$$/idx"
skopeo copy -q --all --preserve-digests --policy "$RV_SKOPEO_POLICY" \
	"oci:$RV_FX_LAYOUT:multi" "docker://$h:v1" --dest-tls-verify=false || exit 1
printf 'version: 1\nregistry: %s\nrepositories: ["t/cli/%s/*"]\n' "$RV_REG_PLAIN" "$$" >p.yaml
printf 'safekeeping: {archive: ./vault}\ndeployed: none\n' >>p.yaml
printf 'keep: [{tags: ["nothing-matches"]}]\nmax_delete: 100%%\n' >>p.yaml
children=$(curl -s -H "Accept: application/vnd.oci.image.index.v1+json" \
	"http://$RV_REG_PLAIN/v2/t/cli/$$/idx/manifests/$RV_FX_MULTI_DIGEST" | jq -r '.manifests[].digest')
# A scheduled backup before the prune: the catalog now remembers the
# children in this repository, as untagged manifests it saw.
regvault --catalog ./cat.db backup "$h:v1" --to ./vault >/dev/null || exit 1
regvault --catalog ./cat.db -o json prune --policy ./p.yaml --execute >run.json
echo "prune exit $?"
run=$(jq -r '.run.id' run.json)
# The children go because their index goes, and the plan says so -- not
# "untagged: delete", which this policy (untagged: keep, the default) never says.
jq -r --arg idx "$RV_FX_MULTI_DIGEST" '.plan.images[] | select(.digest != $idx) |
	"\(.decision) \(.topLevel) \(.reasons | join("; "))"' run.json | sort | uniq -c | sed 's/^ *//'
jq -r '.run.deleted' run.json
accept=application/vnd.oci.image.index.v1+json,application/vnd.oci.image.manifest.v1+json
code() { curl -s -o /dev/null -w '%{http_code}' -I -H "Accept: $accept" \
	"http://$RV_REG_PLAIN/v2/t/cli/$$/idx/manifests/$1"; }
echo "index after prune: $(code "$RV_FX_MULTI_DIGEST")"
regvault --catalog ./cat.db restore --run "$run" --dry-run | tail -n 1 | sed "s/^run $run:/run N:/"
echo "dry run exit ${PIPESTATUS[0]}"
regvault --catalog ./cat.db restore --run "$run" | tail -n 1 | sed "s/^run $run /run N /"
echo "undo exit ${PIPESTATUS[0]}"
echo "index: $(code "$RV_FX_MULTI_DIGEST") tag: $(code v1)"
for c in $children; do echo "child: $(code "$c")"; done
