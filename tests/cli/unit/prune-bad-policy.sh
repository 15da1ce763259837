#!/usr/bin/env bash
# A policy that is not exactly right stops prune before anything is
# contacted (the registry, 127.0.0.1:9, would refuse the connection) and
# before the catalog is created: exit 2 and one line FILE:LINE:COLUMN
# naming what is wrong. Then the same in json mode.
top='version: 1
registry: 127.0.0.1:9
repositories: ["*"]
safekeeping: {archive: ./vault}
deployed: none'
printf '%s\nkeep: [{tags: [latest]}]\nkeep_forever: true\n' "$top" >unknown-key.yaml
printf '%s\nkeep:\n  - tags: ["*"]\n    newest: 0\n' "$top" >newest-zero.yaml
printf '%s\nkeep: []\n' "$top" >empty-keep.yaml
printf '%s\n' "$top" >no-keep.yaml
printf '%s\nkeep:\n  - tags: ["*"]\n    newest: "5"\n' "$top" >quoted-number.yaml
printf '%s\nkeep: [{tags: [latest]}]\nmax_delete: 0%%\n' "$top" >max-delete-zero.yaml
: >empty.yaml
printf '# nothing but a comment\n' >comment-only.yaml
for f in unknown-key newest-zero empty-keep no-keep quoted-number max-delete-zero empty \
	comment-only missing; do
	regvault --catalog ./cat.db prune --policy ./$f.yaml --execute 2>&1
	echo "exit $?"
done
regvault --catalog ./cat.db -o json prune --policy ./newest-zero.yaml 2>/dev/null | jq -c .error
ls cat.db* vault 2>&1 | sed 's/^ls: //'
