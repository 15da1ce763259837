#!/usr/bin/env bash
# Digest-level truth for an index's children: a tag pushed onto a platform
# child while prune --execute runs (after the plan, before the deletes)
# keeps that child -- deleting it by digest would delete the new tag. The
# race is made deterministic by a fake kubectl that pushes the tag when it
# is run the second time (execute reads what is deployed again first).
h="$RV_REG_PLAIN/t/cli/$$" api="http://$RV_REG_PLAIN/v2/t/cli/$$"
skopeo copy -q --all --preserve-digests --policy "$RV_SKOPEO_POLICY" \
	"oci:$RV_FX_LAYOUT:multi" "docker://$h/idx:v1" --dest-tls-verify=false || exit 1
skopeo copy -q --preserve-digests --policy "$RV_SKOPEO_POLICY" \
	"oci:$RV_FX_LAYOUT:image" "docker://$h/dep:v1" --dest-tls-verify=false || exit 1
accept=application/vnd.oci.image.index.v1+json,application/vnd.oci.image.manifest.v1+json
curl -fsS -H "Accept: $accept" "$api/idx/manifests/$RV_FX_MULTI_DIGEST" >index.json || exit 1
child=$(jq -r '.manifests[0].digest' index.json)
type=$(jq -r '.manifests[0].mediaType' index.json)
curl -fsS -H "Accept: $accept" "$api/idx/manifests/$child" >child.json || exit 1
printf '{"apiVersion":"v1","kind":"List","items":[{"apiVersion":"v1","kind":"Pod",' >pods.json
printf '"metadata":{"name":"p","namespace":"default"},"spec":{"containers":' >>pods.json
printf '[{"name":"c","image":"%s/dep:v1"}]}}]}\n' "$h" >>pods.json
cat >kubectl <<KUBECTL
#!/bin/sh
n=\$(cat "$PWD/calls" 2>/dev/null || echo 0)
echo \$((n + 1)) >"$PWD/calls"
if [ "\$n" = 1 ]; then
	curl -fsS -o /dev/null -X PUT -H "Content-Type: $type" --data-binary "@$PWD/child.json" \
		"$api/idx/manifests/pinned" || exit 1
fi
cat "$PWD/pods.json"
KUBECTL
chmod +x kubectl
printf 'version: 1\nregistry: %s\nrepositories: ["t/cli/%s/*"]\n' "$RV_REG_PLAIN" "$$" >p.yaml
printf 'safekeeping: {archive: ./vault}\ndeployed:\n  - kubectl: {context: prod}\n' >>p.yaml
printf 'keep: [{tags: ["nothing-matches"]}]\nmax_delete: 100%%\n' >>p.yaml
regvault --catalog ./cat.db -o json prune --policy ./p.yaml --execute --kubectl ./kubectl \
	>run.json 2>/dev/null
echo "exit $? after $(cat calls) kubectl runs"
jq -r --arg c "$child" '.run.deletions[] | select(.digest == $c) | "\(.status): \(.error.message // "")"' run.json
code() { curl -s -o /dev/null -w '%{http_code}' -I -H "Accept: $accept" "$api/idx/manifests/$1"; }
echo "index $(code "$RV_FX_MULTI_DIGEST"), pinned child $(code pinned), other child $(code "$(jq -r '.manifests[1].digest' index.json)")"
