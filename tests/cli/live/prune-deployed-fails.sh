#!/usr/bin/env bash
# Fail closed: a deployed source that fails, cannot be parsed or lists no
# images stops prune --execute with exit 3 before the registry is asked
# for anything — never "nothing is deployed, delete everything". The
# registry keeps both tags and no safekeeping archive is created.
h="$RV_REG_PLAIN/t/cli/$$/app"
for t in v1 v2; do
	skopeo copy -q --preserve-digests --policy "$RV_SKOPEO_POLICY" \
		"oci:$RV_FX_LAYOUT:image" "docker://$h:$t" --dest-tls-verify=false || exit 1
done
policy() { # DEPLOYED-LINE
	printf 'version: 1\nregistry: %s\nrepositories: ["t/cli/%s/*"]\n' "$RV_REG_PLAIN" "$$"
	printf 'safekeeping: {archive: ./vault}\ndeployed:\n  - %s\n' "$1"
	printf 'keep: [{tags: ["nothing-matches"]}]\nmax_delete: 100%%\n'
}
echo '{not json' >bad.json
echo '{"apiVersion": "v1", "kind": "List", "items": []}' >empty-list.json
printf '# only a comment\n' >empty.txt
printf '#!/bin/sh\necho "error: You must be logged in to the server (Unauthorized)" >&2\nexit 1\n' >kubectl
chmod +x kubectl
policy 'kubernetes-json: missing.json' >missing.yaml
policy 'kubernetes-json: bad.json' >bad.yaml
policy 'kubernetes-json: empty-list.json' >empty-list.yaml
policy 'refs-file: empty.txt' >empty-refs.yaml
policy 'kubectl: {context: prod}' >kubectl.yaml
for f in missing bad empty-list empty-refs kubectl; do
	regvault --catalog ./cat.db prune --policy ./$f.yaml --execute --kubectl ./kubectl 2>&1 |
		sed -e "s#$PWD/##g"
	echo "exit ${PIPESTATUS[0]}"
done
regvault ls "$h"
ls vault 2>&1 | sed 's/^ls: //'
