#!/usr/bin/env bash
# tests/prune/crash_test.sh — ctest `prune_crash`: `prune --execute` killed
# with SIGKILL at RV_CRASH_POINTS (default 20) points never leaves a deleted
# image without a verified copy, never deletes a kept one, and the next run
# finishes the job (ARCHITECTURE.md invariants 3 and 6).
#
# The first points fall in a cold run (empty catalog and archive: the
# safekeeping copies are being written), the rest in warm runs (copies
# verified, the deletes in flight). After each kill: every expected-deleted
# manifest that is gone must be restorable (`restore --dry-run` finds its
# verified copy), every kept one must still be there; at every fourth point
# an unkilled run must then end with exactly the expected registry; then
# the deleted manifests are put back (their bytes, PUT by curl).
# Environment: RV_HARNESS_ENV, RV_MKSCENARIO, REGVAULT, RV_CRASH_POINTS.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib.sh"
SCN_QUICK=1 scn_setup crash
policy=$scn/policy.yaml
points=${RV_CRASH_POINTS:-20}
cold=$(((points + 5) / 6))

ms() { date +%s%3N; }
# The deleted manifests come back by a PUT of their own bytes (the blobs
# are still there: nobody garbage-collects), with every tag they had;
# children before parents, found by trying again.
reput() {
	local repo digest tags decision class left=() next=() pass m ct t
	while IFS=$'\t' read -r repo digest tags decision class; do
		[[ $decision == delete ]] && left+=("$repo@$digest@$tags")
	done <"$scn/expected.tsv"
	for ((pass = 0; pass < 4 && ${#left[@]}; pass++)); do
		next=()
		for e in "${left[@]}"; do
			IFS=@ read -r repo digest tags <<<"$e"
			m=$scn/layout/blobs/sha256/${digest#sha256:}
			ct=$(jq -r '.mediaType // empty' "$m")
			if ! curl -sf -X PUT -H "Content-Type: $ct" --data-binary @"$m" \
				"http://$reg/v2/$repo/manifests/$digest" -o /dev/null; then
				next+=("$e")
				continue
			fi
			[[ $tags == - ]] && continue
			for t in ${tags//,/ }; do
				curl -sf -X PUT -H "Content-Type: $ct" --data-binary @"$m" \
					"http://$reg/v2/$repo/manifests/$t" -o /dev/null || fail "cannot put $repo:$t back"
			done
		done
		left=("${next[@]}")
	done
	((${#left[@]} == 0)) || fail "cannot put back: ${left[*]}"
	state_is pushed || fail "the scenario is not whole again"
}

reset_cold() {   # forget every copy (catalog, archive); prime again
	rm -rf "$catalog" "$scn/vault" "$work/earlier-backup"
	for ref in $(awk -F'\t' '$5 == "untagged" { print $1 "@" $2 }' "$scn/expected.tsv"); do
		"$REGVAULT" -q backup "$reg/$ref" --to "$work/earlier-backup" >/dev/null
	done
}

# Cold: a first run (empty catalog and archive); warm: copies all verified.
# Measured here, so the points cover each whatever this machine's speed.
state_is pushed || fail "the scenario did not arrive whole"
t0=$(ms)
want 0 prune --policy "$policy" --execute
cold_ms=$(($(ms) - t0))
state_is pruned || fail "the first run did not prune as expected"
reput
t0=$(ms)
want 0 prune --policy "$policy" --execute
warm_ms=$(($(ms) - t0))
reput
echo "prune_crash: a cold run takes ${cold_ms} ms, a warm one ${warm_ms} ms; $points points"

# After a kill: no kept manifest gone; every gone one has a verified copy
# (the catalog lists it, or restore finds one for it).
check_after_kill() {
	local ref decision class code held
	held=$("$REGVAULT" -o json catalog list | jq -r '.[].digest' | sort -u)
	while read -r ref decision class code; do
		if [[ $code == 404 ]]; then
			[[ $decision == delete ]] || fail "point $1: kept $ref ($class) was deleted"
			grep -qxF "${ref#*@}" <<<"$held" ||
				"$REGVAULT" -q restore --dry-run "$reg/$ref" >/dev/null 2>"$work/err" ||
				fail "point $1: $ref deleted without a verified copy: $(cat "$work/err")"
		elif [[ $code != 200 ]]; then
			fail "point $1: HEAD $ref answered $code"
		fi
	done < <(heads)
}

killed=0
for ((i = 1; i <= points; i++)); do
	if ((i <= cold)); then
		reset_cold
		delay=$((cold_ms * 8 * i / (10 * (cold + 1))))
	else
		delay=$((warm_ms * 8 * (i - cold) / (10 * (points - cold + 1))))
	fi
	"$REGVAULT" prune --policy "$policy" --execute >/dev/null 2>&1 &
	pid=$!
	sleep "$(printf '%d.%03d' $((delay / 1000)) $((delay % 1000)))"
	if kill -KILL "$pid" 2>/dev/null; then
		killed=$((killed + 1))
	elif ((i <= cold)); then
		# The run ended within $delay ms: the machine got faster than when
		# it was measured (load from its neighbours comes and goes); later
		# points scale to what was just seen.
		cold_ms=$delay
	else
		warm_ms=$delay
	fi
	wait "$pid" 2>/dev/null || true
	check_after_kill "$i (${delay} ms)"
	# Every fourth point (and the last), the next run must finish the job;
	# in between the deleted manifests are simply put back (CI's time).
	if ((i % 4 == 0 || i == points)); then
		want 0 prune --policy "$policy" --execute
		state_is pruned || fail "point $i: the next run did not finish the job"
	fi
	reput
done
# A point after the run ended proves nothing: most must land inside (the
# points span 0-80% of a measured run; runs vary in length).
((killed * 2 >= points)) || fail "only $killed of $points kills landed inside a run"
echo "prune_crash: ok, $killed of $points kills inside a run"
