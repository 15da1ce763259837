#!/usr/bin/env bash
# tests/crash/backup_test.sh — ctest `crash_backup`: `backup --to DIR`
# killed with SIGKILL loses nothing and promises nothing it does not hold
# (ARCHITECTURE.md invariant 6; issue 8, "Crashes").
#
# Three fixtures (an image with its signature tag and referrer, an image on
# its layers, an OCI index) are backed up into an archive store, from two
# starting points: cold (no store, no catalog) and warm (an earlier run
# kept fx/image:v1 in a first volume, so the killed run adds a second one
# on top of it, and fx/child's shared layers are there already). Kill
# points:
#   - RV_CRASH_POINTS (default 10) at seeded random delays inside a
#     measured run (the shorter of two baseline runs per starting point);
#   - after durable steps (fsync, fdatasync, rename) through rv-killat.so:
#     in a cold run every step from the volume's fsync to the catalog
#     commit that records the volume — sealed, renamed into place, its
#     directory synced, recorded: the windows a random delay almost never
#     hits — and one of them drawn in a warm run (RV_CRASH_WARM_ALL=1: all
#     of them); RV_CRASH_EARLY=N adds N steps drawn from before them per
#     starting point (SQLite's commits of the catalog's creation, the run,
#     the tag history: the timed kills' ground already); RV_CRASH_STEPS=N
#     draws N steps of the whole run instead.
# After each kill: check.py (without regvault: every copy row is backed by
# a committed volume, recorded volumes and locations hash right, listed
# images are whole, the primary still has every image), then `catalog
# verify --deep` exits 0; then the same backup again exits 0 and leaves
# every image listed and verified and no temporary volume. After the last
# point of each starting point, skopeo reads every OCI image from the
# volumes extracted in order.
# Environment: RV_HARNESS_ENV, REGVAULT, RV_KILLAT_LIB, RV_CRASH_SEED,
# RV_CRASH_POINTS, RV_CRASH_EARLY, RV_CRASH_STEPS, RV_CRASH_WARM_ALL.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib.sh"
crash_setup backup
points=${RV_CRASH_POINTS:-10}
vault=$work/vault
cat=$work/cat.db
names=(image child multi)
mapfile -t src < <(fx_sources "${names[@]}")
mapfile -t present < <(fx_present)
expects=()
for n in "${names[@]}"; do
	expects+=(--expect archive "$vault" "$RV_REG_PLAIN/fx/$n:v1" "$(fx_digest "$n")")
done
backup=(--catalog "$cat" backup "${src[@]}" --to "$vault")

# The warm starting point, made once and copied in place (the catalog names
# the store by its absolute path, so it comes back to the same path).
want 0 --catalog "$cat" backup "$RV_REG_PLAIN/fx/image:v1" --to "$vault"
mkdir "$work/warm"
mv "$vault" "$cat" "$work/warm/"
prepare() {
	rm -rf "$vault" "$cat" "$cat-wal" "$cat-shm"
	if [[ $1 == warm ]]; then
		cp -a "$work/warm/vault" "$vault"
		cp -a "$work/warm/cat.db" "$cat"
	fi
}

after_kill() {
	check --catalog "$cat" "${present[@]}"
	verify_deep "$cat"
	want 0 "${backup[@]}"
	check --catalog "$cat" "${expects[@]}" --no-temp "$vault" "${present[@]}"
}

# A reader that is not regvault finds every image in the volumes extracted
# in order (the store's promise: ARCHITECTURE.md "The archive store").
# (skopeo 1.9 finds no Docker media types in a layout's index.json: the
# images here are all OCI.)
skopeo_reads() {
	local n v got
	rm -rf "$work/layout"
	mkdir "$work/layout"
	for v in "$vault"/volumes/*.tar; do tar -xf "$v" -C "$work/layout"; done
	for n in "${names[@]}"; do
		skopeo inspect --raw "oci:$work/layout:$RV_REG_PLAIN/fx/$n:v1" >"$work/raw" 2>&1 ||
			fail "${where}skopeo cannot read fx/$n:v1 from the volumes: $(cat "$work/raw")"
		got=$(sha256sum <"$work/raw")
		[[ "sha256:${got%% *}" == "$(fx_digest "$n")" ]] ||
			fail "${where}skopeo reads fx/$n:v1 from the volumes as sha256:${got%% *}"
	done
}

# Baselines: the shorter of two complete runs per starting point; the
# first one also counts the durable steps.
# The volume's steps: its fsyncs and rename (SQLite only fdatasyncs here),
# through the next fdatasync, the commit that records the volume.
declare -A base steps_of commit_of recorded_of
for s in cold warm; do
	prepare $s
	count_steps "${backup[@]}"
	steps_of[$s]=$steps
	cp "$work/steps" "$work/steps.$s"
	vol=$(grep -nE '^(fsync|rename|renameat2)$' "$work/steps" | cut -d: -f1)
	[[ -n $vol ]] || fail "a $s run has no fsync or rename: $(tr '\n' ' ' <"$work/steps")"
	commit_of[$s]=$(head -n 1 <<<"$vol")
	recorded_of[$s]=$(awk -v l="$(tail -n 1 <<<"$vol")" 'NR > l && /^fdatasync$/ { print NR; found = 1; exit }
		END { if (!found) print l }' "$work/steps")
	base[$s]=$took_ms
	prepare $s
	timed "${backup[@]}"
	((took_ms < base[$s])) && base[$s]=$took_ms
done
echo "$test_name: a cold run takes ${base[cold]} ms and ${steps_of[cold]} durable steps" \
	"(the volume's ${commit_of[cold]}-${recorded_of[cold]}), a warm one ${base[warm]} ms and" \
	"${steps_of[warm]} (${commit_of[warm]}-${recorded_of[warm]})"

timed_landed=0 step_kills=0 step_landed=0
prep() {
	prepare "$s"
	cmd=("${backup[@]}")
}
for ((i = 1; i <= points; i++)); do
	rnd 2
	s=$([[ $r == 0 ]] && echo cold || echo warm)
	where="point $i ($s)"
	kill_timed prep "${base[$s]}"
	base[$s]=$base_ms
	timed_landed=$((timed_landed + landed))
	after_kill
done
for s in cold warm; do
	list=
	if [[ -n ${RV_CRASH_STEPS:-} ]]; then
		for ((k = 0; k < RV_CRASH_STEPS; k++)); do
			rnd "${steps_of[$s]}"
			list+=" $((r + 1))"
		done
	else
		for ((k = 0; commit_of[$s] > 1 && k < ${RV_CRASH_EARLY:-0}; k++)); do
			rnd $((commit_of[$s] - 1))
			list+=" $((r + 1))"
		done
		if [[ $s == cold || -n ${RV_CRASH_WARM_ALL:-} ]]; then
			list+=" $(seq -s ' ' "${commit_of[$s]}" "${recorded_of[$s]}")"
		else
			rnd $((recorded_of[$s] - commit_of[$s] + 1))
			list+=" $((commit_of[$s] + r))"
		fi
	fi
	for k in $list; do
		where="step $k of ${steps_of[$s]} ($s, $(sed -n "${k}p" "$work/steps.$s")): "
		prepare $s
		kill_at_step "$k" "${backup[@]}"
		step_kills=$((step_kills + 1)) step_landed=$((step_landed + landed))
		((landed)) || fail "${where}the run ended before its step $k"
		after_kill
	done
	where="after the last $s point: "
	skopeo_reads
done
landed_enough "$points" "$timed_landed"
echo "$test_name: ok, $timed_landed of $points timed points ($timed_missed tries missed) and" \
	"$step_landed of $step_kills step points killed a run still going;" \
	"catalog verify --deep passed $verified times"
