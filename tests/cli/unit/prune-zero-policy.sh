#!/usr/bin/env bash
# The incident a config loader causes: every value zero, empty or null.
# Each is refused (exit 2, FILE:LINE:COLUMN), nothing contacted, no catalog
# made — never "keep nothing, delete everything".
cat >zeros.yaml <<'YAML'
version: 1
registry: 127.0.0.1:9
repositories: []
safekeeping: {}
deployed: []
rollback: 0
keep: [{newest: 0}]
max_delete: 0
YAML
cat >nulls.yaml <<'YAML'
version: 1
registry: ""
repositories: [""]
safekeeping: {archive: ~}
deployed: none
keep: [{tags: [""]}]
max_delete: 0%
YAML
cat >no-rules.yaml <<'YAML'
version: 1
registry: 127.0.0.1:9
repositories: ["*"]
safekeeping: {archive: ./vault}
deployed: none
keep: [{}]
YAML
for f in zeros nulls no-rules; do
	regvault --catalog ./cat.db prune --policy ./$f.yaml --execute 2>&1
	echo "exit $?"
done
ls cat.db* vault 2>&1 | sed 's/^ls: //'
