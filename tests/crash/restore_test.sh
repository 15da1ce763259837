#!/usr/bin/env bash
# tests/crash/restore_test.sh — ctest `crash_restore`: `restore` killed with
# SIGKILL never leaves a tag naming an image that is not whole, and the
# next run brings the image back, from the archive store and from the
# standby registry alike (ARCHITECTURE.md invariant 6; issue 8, "Crashes").
#
# One catalog holds verified copies of two images in an archive store
# (backup) and on the standby (mirror). The points restore, in turn, the
# OCI index fx/multi:v1 from the archive and fx/image:v1 (with its
# signature tag and referrer) from the standby (--from-store), each into a
# fresh repository of the primary. RV_CRASH_POINTS (default 10) kills at
# seeded random delays inside a measured run (the shorter of two baseline
# runs per store kind).
# After each kill: check.py (without regvault: the target's tag is absent,
# or names the right digest with every manifest and blob there and hashing
# right — the tag is put last; the catalog's copies are untouched and
# whole; the primary still has every image), `catalog verify --deep` exits
# 0; then the same restore exits 0 and the image is whole under its tag.
# Environment: RV_HARNESS_ENV, REGVAULT, RV_CRASH_SEED, RV_CRASH_POINTS.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib.sh"
crash_setup restore
points=${RV_CRASH_POINTS:-10}
cat=$work/cat.db
vault=$work/vault
standby=$RV_REG_STANDBY/t/crash/restore-$$/standby
prefix=$RV_REG_PLAIN/t/crash/restore-$$
images=(image multi)
mapfile -t present < <(fx_present)
src=() copies=()
for n in "${images[@]}"; do
	src+=("$RV_REG_PLAIN/fx/$n:v1")
	copies+=(--expect archive "$vault" "$RV_REG_PLAIN/fx/$n:v1" "$(fx_digest "$n")")
	copies+=(--expect registry "$standby" "$RV_REG_PLAIN/fx/$n:v1" "$(fx_digest "$n")")
done
want 0 --catalog "$cat" backup "${src[@]}" --to "$vault"
want 0 --catalog "$cat" mirror "${src[@]}" --to "$standby"
check --catalog "$cat" "${copies[@]}"

# point IMAGE KIND NAME: restore=(…) of fx/IMAGE:v1 from a store of KIND
# into the fresh repository NAME; target, digest: what must arrive.
point() {
	restore=(--catalog "$cat" restore "$RV_REG_PLAIN/fx/$1:v1" --from-store "$2"
		--to "$prefix/$3/$1")
	target=$prefix/$3/$1:v1
	digest=$(fx_digest "$1")
}

after_kill() {
	check --catalog "$cat" --target "$target" "$digest" "${present[@]}"
	verify_deep "$cat"
	want 0 "${restore[@]}"
	[[ $(<"$work/out") == "restored $target ($digest) from $kind "* ]] ||
		fail "${where}the rerun says: $(cat "$work/out")"
	check --catalog "$cat" --target "$target" "$digest" --target-must
}

declare -A base per image_of=([archive]=multi [registry]=image)
kinds=(archive registry)
for kind in "${kinds[@]}"; do
	n=${image_of[$kind]}
	point "$n" "$kind" "base-$kind-1"
	timed "${restore[@]}"
	base[$kind]=$took_ms
	point "$n" "$kind" "base-$kind-2"
	timed "${restore[@]}"
	((took_ms < base[$kind])) && base[$kind]=$took_ms
done
echo "$test_name: a run takes ${base[archive]} ms (fx/multi from the archive)," \
	"${base[registry]} ms (fx/image from the standby)"

prep() {
	point "$n" "$kind" "p$i-$1"
	cmd=("${restore[@]}")
}
timed_landed=0
for ((i = 1; i <= points; i++)); do
	kind=${kinds[i % 2]}
	n=${image_of[$kind]}
	where="point $i (fx/$n from the $kind)"
	kill_timed prep "${base[$kind]}"
	base[$kind]=$base_ms
	timed_landed=$((timed_landed + landed))
	per[$kind]=$((${per[$kind]:-0} + landed))
	after_kill
done
check --catalog "$cat" "${copies[@]}" "${present[@]}"
landed_enough "$points" "$timed_landed"
echo "$test_name: ok, $timed_landed of $points timed points ($timed_missed tries missed)" \
	"killed a run still going (${per[archive]:-0} restoring from the archive," \
	"${per[registry]:-0} from the standby); catalog verify --deep passed $verified times"
