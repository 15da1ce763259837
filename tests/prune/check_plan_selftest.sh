#!/usr/bin/env bash
# tests/prune/check_plan_selftest.sh — check_plan.sh itself, without a
# registry or regvault: a plan built from the scenario's own expectations
# passes (also with --reasons), and each kind of wrong plan is reported.
# Environment: RV_MKSCENARIO (the rv-mkscenario binary).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
gen=${RV_MKSCENARIO:-rv-mkscenario}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() {
	echo "check_plan_selftest: $*" >&2
	exit 1
}

"$gen" --out "$work/scn" --now 1717200000 --registry 127.0.0.1:5999 --prefix t/scn/selftest >/dev/null
# Twice with the same inputs: the same bytes.
"$gen" --out "$work/again" --now 1717200000 --registry 127.0.0.1:5999 --prefix t/scn/selftest >/dev/null
cmp -s "$work/scn/expected.tsv" "$work/again/expected.tsv" || fail "expected.tsv differs between runs"
cmp -s "$work/scn/layout/index.json" "$work/again/layout/index.json" || fail "index.json differs between runs"
cmp -s "$work/scn/cluster.json" "$work/again/cluster.json" || fail "cluster.json differs between runs"

# A perfect plan: the expectations in plan form, host in the repository.
jq --slurpfile s <(sed 's/^\([a-z_]*\)=\(.*\)$/{"\1": \2}/' "$work/scn/expected-summary" | jq -s add) '
	{registry: .registry, plannedAt: .now,
	 images: [.images[] | {repository: (.repository | "127.0.0.1:5999/" + .), digest, tags,
		created, size, decision, reasons}],
	 summary: ($s[0] | {protected, kept, delete})}' "$work/scn/expected.json" >"$work/good.json"
bash "$here/check_plan.sh" "$work/good.json" "$work/scn" --reasons >"$work/out" ||
	{ cat "$work/out"; fail "a plan equal to the expectations does not pass"; }

# Five mistakes, five differences.
jq '
	(.images[] | select(.tags == ["3.19"]) | .decision) = "delete"
	| del(.images[] | select(.tags == ["v1.0.0"] and (.repository | endswith("svc/api"))))
	| (.images[] | select(.tags == ["edge"]) | .tags) += ["extra"]
	| .images += [{repository: "t/scn/selftest/svc/api", digest: "sha256:\("0" * 64)",
		tags: ["ghost"], decision: "delete", reasons: []}]
	| .summary.delete += 1' "$work/good.json" >"$work/bad.json"
if bash "$here/check_plan.sh" "$work/bad.json" "$work/scn" >"$work/out"; then
	cat "$work/out"
	fail "a wrong plan passes"
fi
for want in 'base/alpine@sha256:[0-9a-f]* (3.19): delete, want keep (base)' \
	'svc/api@sha256:[0-9a-f]* (v1.0.0): missing from the plan' \
	'tags \[edge,extra\], want \[edge\]' \
	'(ghost): in the plan (delete) but not in the scenario' \
	'summary.delete is [0-9]*, want [0-9]*' \
	'5 difference(s)'; do
	grep -q -- "$want" "$work/out" || { cat "$work/out"; fail "no line like: $want"; }
done

# --reasons: a kept image whose reasons do not name its class.
jq '(.images[] | select(.tags == ["3.18"]) | .reasons) = ["rule 4: newest 3"]' \
	"$work/good.json" >"$work/why.json"
if bash "$here/check_plan.sh" "$work/why.json" "$work/scn" --reasons >"$work/out"; then
	fail "--reasons misses a wrong reason"
fi
grep -q "no reason names 'protect'" "$work/out" || { cat "$work/out"; fail "--reasons message"; }
echo "check_plan_selftest: OK"
