#!/usr/bin/env bash
# tests/security/names_test.sh — ctest `security_names`: references holding
# quotes, SQL or LIKE wildcards never get as far as the catalog. Every
# command that takes a reference, directly or from a deployed source,
# refuses it with exit 2 (prune: 3, deployed state unknown) and one error
# line naming it, before anything is opened or contacted (the catalog is
# not created). test_sql_names checks the catalog API with such names.
# Environment: REGVAULT. No registry is needed: nothing may be contacted.
set -euo pipefail
[[ -x ${REGVAULT:-} ]] || { echo "REGVAULT not set" >&2; exit 1; }
W=$(mktemp -d "${TMPDIR:-/tmp}/rv-names.XXXXXX")
trap 'rm -rf "$W"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
export REGVAULT_CATALOG=$W/catalog.db
# A port nothing listens on: a command that got past parsing would fail
# with exit 1 (connection refused), not 2.
H=127.0.0.1:9
n=0

# refuse WANT_RC ERROR_PATTERN ARGS...: exit WANT_RC, exactly one stderr
# line, an error matching ERROR_PATTERN (extended regex).
refuse() {
	local want=$1 pat=$2 rc=0
	shift 2
	"$REGVAULT" "$@" >"$W/out" 2>"$W/err" || rc=$?
	n=$((n + 1))
	[[ $rc == "$want" ]] || fail "regvault $* exited $rc, want $want: $(cat "$W/err")"
	[[ $(wc -l <"$W/err") == 1 ]] || fail "regvault $*: want one line on stderr, got: $(cat "$W/err")"
	grep -qE "^regvault: error: .*$pat" "$W/err" || fail "regvault $*: $(cat "$W/err")"
	[[ ! -s $W/out ]] || fail "regvault $* printed on stdout: $(cat "$W/out")"
	[[ -n ${MAY_OPEN_CATALOG:-} || ! -e $REGVAULT_CATALOG ]] ||
		fail "regvault $* created the catalog"
}

evil=("$H/a'b" "$H/a\"b;DROP TABLE manifests;--" "$H/x'); DELETE FROM runs;--" "$H/a%_b"
	"$H/a\\b c")
tags=("v1'--" "v1\";DROP" "v%" "v1 OR 1=1")
for r in "${evil[@]}"; do
	q=$(printf '%s' "$r" | sed 's/[][\.*^$()+?{}|]/\\&/g')
	refuse 2 "invalid reference \"$q:v1\"" inspect "$r:v1"
	refuse 2 "invalid reference \"$q\"" ls "$r"
	refuse 2 "invalid reference \"$q:v1\"" mirror "$r:v1" --to "$H/dst"
	refuse 2 "invalid reference \"$q:v1\"" backup "$r:v1" --to "$W/store"
	refuse 2 "invalid reference \"$q:v1\"" restore "$r:v1"
	refuse 2 "invalid reference \"$q:v1\"" catalog show "$r:v1"
	refuse 2 "invalid reference \"$q:v1\"" catalog history "$r:v1"
	printf '%s:v1\n' "$r" >"$W/refs.txt"
	refuse 2 "refs.txt:1: invalid reference" deployed --deployed "refs-file:$W/refs.txt"
	jq -n --arg i "$r:v1" '{kind: "List", items: [{kind: "Pod", metadata: {name: "p",
		namespace: "n"}, spec: {containers: [{name: "c", image: $i}]}}]}' >"$W/cluster.json"
	refuse 2 "image: invalid reference" deployed --deployed "kubernetes-json:$W/cluster.json"
done
for t in "${tags[@]}"; do
	refuse 2 "invalid reference" inspect "$H/repo:$t"
	refuse 2 "invalid reference" restore "$H/repo:$t" --to "$H/other"
	refuse 2 "invalid reference" catalog history "$H/repo:$t"
done
cat >"$W/policy.yaml" <<POL
version: 1
registry: $H
repositories: ["*"]
safekeeping:
  archive: $W/store
deployed:
  - refs-file: $W/refs.txt
keep:
  - tags: ["*"]
POL
# prune opens its catalog before it reads what is deployed.
MAY_OPEN_CATALOG=1 refuse 3 "refused for safety: .*invalid reference" prune --policy "$W/policy.yaml"
[[ ! -e $W/store ]] || fail "an archive store was created"
echo "security_names: $n commands refused"
