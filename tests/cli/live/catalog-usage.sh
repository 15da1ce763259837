#!/usr/bin/env bash
# catalog usage as a person reads it: a table per repository, the registry
# counted once, what a policy frees and what it costs (the numbers are
# worked out by hand in tests/usage/usage_test.sh; fixture in
# tests/usage/fixture.sh, in a private registry of its own).
source "$RV_CLI_DIR/../usage/fixture.sh"
trap usage_registry_stop EXIT
usage_registry_start "$PWD" >/dev/null || exit 1
usage_fixture_push "$PWD" || exit 1
regvault --catalog ./cat.db catalog usage "$REG"
echo "exit $?"
regvault --catalog ./cat.db -q backup "$REG/app/web@$D_OLD" --to ./vault >/dev/null || exit 1
cat >policy.yaml <<POLICY
version: 1
registry: $REG
repositories: ["app/*"]
safekeeping:
  archive: $PWD/vault
deployed: none
keep:
  - tags: ["v2"]
untagged: delete
max_delete: 100%
POLICY
regvault --catalog ./cat.db catalog usage "$REG/app/*" --policy policy.yaml \
	--price-per-gb-month 10000
echo "exit $?"
