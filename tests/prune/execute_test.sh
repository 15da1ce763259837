#!/usr/bin/env bash
# tests/prune/execute_test.sh — ctest `prune_execute`: the planner and the
# whole safety loop against the rv-mkscenario scenario on the real
# registries (tests/harness/README.md "The prune scenario").
#
#  0. the dry-run plan decides every manifest as the generator did, with a
#     reason naming each kept image's class (check_plan.sh --reasons), the
#     text form ends with the summary line, and nothing changes;
#     a plan deleting more than max_delete is refused (exit 3);
#  1. a broken standby and no archive: every delete is skipped ("no verified
#     copy"), exit 1, the registry unchanged (invariant 3);
#  2. --plan-out, then the plan goes stale (an image it deletes is deployed
#     now; a tag it deletes moved): --apply exits 3, nothing deleted;
#  3. --execute: exactly the expected manifests are gone, every deleted
#     digest has a verified copy, the run id and undo command are printed;
#  4. restore --run: every manifest is back byte for byte (check_registry);
#  5. --apply of the first (now current again) plan deletes the same set.
# RV_PRUNE_SHORT=1 (the ASan pass) leaves out 2 and 5, the saved-plan paths
# (all C they run is the plan document's, which test_prune_json and
# fuzz_plan cover), and checks a restore --dry-run of 3 deleted images, not
# all: under the sanitizers each run of the binary costs seconds.
# Environment: RV_HARNESS_ENV, RV_MKSCENARIO, REGVAULT, RV_PRUNE_SHORT.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib.sh"
SCN_QUICK=1 scn_setup exec
short=${RV_PRUNE_SHORT:-0}
policy=$scn/policy.yaml
state_is pushed || fail "the scenario did not arrive whole"

# 0. The plan.
want 0 -o json prune --policy "$policy"
cp "$work/out" "$work/dry.json"
bash "$here/check_plan.sh" "$work/dry.json" "$scn" --reasons || {
	cp "$work/dry.json" "${TMPDIR:-/tmp}/rv-plan-$$.json"
	fail "the plan differs from the expectations (kept in ${TMPDIR:-/tmp}/rv-plan-$$.json)"
}
want 0 prune --policy "$policy"
summary=$(tail -n 1 "$work/out")
[[ $summary =~ ^Protected:\ [0-9]+\ \|\ Kept:\ [0-9]+\ \|\ Delete:\ [0-9]+\ \|\ Reclaimable:\ .+$ ]] ||
	fail "the text plan ends with '$summary'"
state_is pushed || fail "a dry run changed the registry"

# put_as REPO DIGEST TAG: the manifest's bytes PUT under TAG.
put_as() {
	local accept='application/vnd.oci.image.manifest.v1+json, application/vnd.oci.image.index.v1+json'
	accept+=', application/vnd.docker.distribution.manifest.v2+json'
	accept+=', application/vnd.docker.distribution.manifest.list.v2+json'
	curl -sf -H "Accept: $accept" "http://$reg/v2/$1/manifests/$2" -o "$work/m.body" -D "$work/m.head"
	local ct
	ct=$(tr -d '\r' <"$work/m.head" | sed -n 's/^[Cc]ontent-[Tt]ype: *//p')
	curl -sf -X PUT -H "Content-Type: $ct" --data-binary @"$work/m.body" \
		"http://$reg/v2/$1/manifests/$3" >/dev/null
}

# max_delete: a plan deleting more is shown, refused (exit 3) and not run.
sed 's/^max_delete: .*/max_delete: 5/' "$policy" >"$scn/five.yaml"
want 3 prune --policy "$scn/five.yaml" --execute
grep -q 'max_delete allows 5' "$work/err" || fail "no max_delete refusal in: $(cat "$work/err")"
state_is pushed || fail "a refused plan deleted something"

# 1. No verified copy, no delete. The standby is a port nothing listens on.
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
sed -e '/^  archive:/d' -e "s#^  registry: .*#  registry: 127.0.0.1:$port/nowhere#" "$policy" >"$scn/nocopy.yaml"
# A catalog of its own: the shared one knows a verified copy of the primed
# untagged image, which would rightly be deleted.
REGVAULT_CATALOG=$work/nocopy.db want 1 prune --policy "$scn/nocopy.yaml" --execute
grep -q 'no verified copy' "$work/err" || fail "no 'no verified copy' in: $(cat "$work/err")"
state_is pushed || fail "deleted without a copy"

# 2. A stale plan is refused whole.
if ((!short)); then
want 0 prune --policy "$policy" --plan-out "$work/plan.json"
[[ $(stat -c %a "$work/plan.json") == 600 ]] || fail "plan file not 0600"
victim=$(jq -r '[.images[] | select(.decision == "delete" and (.tags | length) > 0
	and (.tags[0] | startswith("sha256-") | not))][0] | .repository + ":" + .tags[0]' "$work/plan.json")
victim=${victim#"$reg/"}
cp "$scn/deployed.txt" "$work/deployed.txt.orig"
echo "$reg/$victim" >>"$scn/deployed.txt"
want 3 prune --policy "$policy" --apply "$work/plan.json"
grep -q 'stale' "$work/err" || fail "no 'stale' in: $(cat "$work/err")"
cp "$work/deployed.txt.orig" "$scn/deployed.txt"
# A tag the plan deletes now names another image (a CI push).
repo=${victim%%:*} tag=${victim#*:}
kept=$(jq -r --arg r "$repo" '[.images[] | select(.decision == "keep" and
	(.repository | endswith($r)) and .topLevel)][0].digest' "$work/plan.json")
put_as "$repo" "$kept" "$tag"
want 3 prune --policy "$policy" --apply "$work/plan.json"
grep -q "stale" "$work/err" || fail "no 'stale' after tag $tag moved, in: $(cat "$work/err")"
orig=$(awk -F'\t' -v r="$repo" -v t="$tag" '$1 == r && ("," $3 ",") ~ ("," t ",") { print $2 }' "$scn/expected.tsv")
put_as "$repo" "$orig" "$tag"
now=$(curl -sfI -H "Accept: $accept" "http://$reg/v2/$repo/manifests/$tag" | tr -d '\r' |
	sed -n 's/^[Dd]ocker-[Cc]ontent-[Dd]igest: *//p')
[[ $now == "$orig" ]] || fail "could not put $tag back on $orig (it names '$now')"
state_is pushed || fail "the registry is not whole again"
fi

# 3. Execute.
want 0 -o json prune --policy "$policy" --execute
run=$(jq -r '.run.runId // .run.run_id // .run.id' "$work/out")
[[ $run =~ ^[0-9]+$ ]] || fail "no run id in the JSON output"
state_is pruned || fail "registry not as expected after --execute"
for ref in $(if ((short)); then scn_deleted | head -n 3; else scn_deleted; fi); do
	want 0 restore --dry-run "$reg/$ref"
done

# 4. Undo: a dry run names every deleted image and changes nothing; then
# the real one brings everything back byte-identical.
want 0 restore --run "$run" --dry-run
[[ $(grep -c '^would restore ' "$work/out") -eq $(scn_deleted | wc -l) ]] ||
	fail "restore --run --dry-run does not list every deleted image: $(cat "$work/out")"
grep -q "^run $run: $(scn_deleted | wc -l) images would be restored$" "$work/out" ||
	fail "restore --run --dry-run summary: $(tail -n 1 "$work/out")"
state_is pruned || fail "restore --run --dry-run changed the registry"
want 0 restore --run "$run"
bash "$here/check_registry.sh" "$scn" "$reg" pushed >/dev/null || fail "restore --run did not bring everything back"

# 5. The saved plan is true again: --apply deletes exactly it; the text
# output names the run and the undo command.
((short)) && { echo "prune_execute: ok (short)"; exit 0; }
want 0 prune --policy "$policy" --apply "$work/plan.json"
grep -q "regvault restore --run" "$work/out" "$work/err" || fail "no undo command printed"
grep -qi "garbage" "$work/out" "$work/err" || fail "no garbage-collection reminder"
state_is pruned || fail "--apply did not delete the plan"
echo "prune_execute: ok"
