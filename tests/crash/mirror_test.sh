#!/usr/bin/env bash
# tests/crash/mirror_test.sh — ctest `crash_mirror`: `mirror --to` a standby
# registry killed with SIGKILL leaves no catalog row claiming a copy the
# standby does not hold, and the next run finishes the job (ARCHITECTURE.md
# invariants 3 and 6; issue 8, "Crashes").
#
# Each point mirrors two fixtures — fx/image:v1 with its signature tag and
# referrer, and the Docker manifest list fx/dockerlist:v1 — into a prefix
# of its own on the standby, with a fresh catalog (the standby's blob store
# is shared: blobs earlier points left in other repositories are there).
# Kill points:
#   - RV_CRASH_POINTS (default 10) at seeded random delays inside a
#     measured run (the shorter of two baseline runs): mostly while
#     manifests and blobs are in flight, read back, or recorded;
#   - RV_CRASH_STEPS (default 1) distinct durable steps drawn (the catalog's
#     commits: run, tag history, each image's record) through rv-killat.so.
# After each kill: check.py (without regvault: every copy row is reachable
# from an image the catalog lists on the standby, and every manifest and
# blob of those images reads back from the standby hashing to its digest;
# the primary still has every image), `catalog verify --deep` exits 0;
# then the same mirror exits 0 and every image is listed, verified, and
# whole on the standby.
# Environment: RV_HARNESS_ENV, REGVAULT, RV_KILLAT_LIB, RV_CRASH_SEED,
# RV_CRASH_POINTS, RV_CRASH_STEPS.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib.sh"
crash_setup mirror
points=${RV_CRASH_POINTS:-10}
nsteps=${RV_CRASH_STEPS:-1}
cat=$work/cat.db
names=(image dockerlist)
mapfile -t src < <(fx_sources "${names[@]}")
mapfile -t present < <(fx_present)
prefix=t/crash/mirror-$$

# point NAME: a fresh catalog and a fresh prefix; sets dst, mirror, expects.
point() {
	rm -f "$cat" "$cat-wal" "$cat-shm"
	dst=$RV_REG_STANDBY/$prefix/$1
	mirror=(--catalog "$cat" mirror "${src[@]}" --to "$dst")
	expects=()
	for n in "${names[@]}"; do
		expects+=(--expect registry "$dst" "$RV_REG_PLAIN/fx/$n:v1" "$(fx_digest "$n")")
	done
}

after_kill() {
	check --catalog "$cat" "${present[@]}"
	verify_deep "$cat"
	want 0 "${mirror[@]}"
	check --catalog "$cat" "${expects[@]}" "${present[@]}"
}

point base1
count_steps "${mirror[@]}"
steps_n=$steps base=$took_ms
point base2
timed "${mirror[@]}"
((took_ms < base)) && base=$took_ms
echo "$test_name: a run takes $base ms and $steps_n durable steps"

timed_landed=0 step_kills=0 step_landed=0
prep() {
	point "p$i-$1"
	cmd=("${mirror[@]}")
}
for ((i = 1; i <= points; i++)); do
	where="point $i"
	kill_timed prep "$base"
	base=$base_ms
	timed_landed=$((timed_landed + landed))
	after_kill
done
drawn=" "
for ((k = 1; k <= nsteps && k <= steps_n; k++)); do
	rnd "$steps_n"
	while [[ $drawn == *" $((r + 1)) "* ]]; do r=$(((r + 1) % steps_n)); done
	drawn+="$((r + 1)) "
	where="step $((r + 1)) of $steps_n: "
	point "s$k"
	kill_at_step $((r + 1)) "${mirror[@]}"
	step_kills=$((step_kills + 1)) step_landed=$((step_landed + landed))
	((landed)) || fail "${where}the run ended before it"
	after_kill
done
landed_enough "$points" "$timed_landed"
echo "$test_name: ok, $timed_landed of $points timed points ($timed_missed tries missed) and" \
	"$step_landed of $step_kills step points killed a run still going;" \
	"catalog verify --deep passed $verified times"
