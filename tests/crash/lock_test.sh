#!/usr/bin/env bash
# tests/crash/lock_test.sh — ctest `crash_lock`: two runs started at once —
# backup, mirror, prune --execute — one works, the other refuses cleanly
# (issue 8, "Crashes": "the second refuses cleanly").
#
# Both runs are started in the same instant (not one after the other, as
# tests/cli/live/mirror-locked.sh does), both slowed by --max-rps so the
# winner's run outlasts the loser's start. Exactly one must exit 0; the
# other exits 1 (the documented code for "another run holds the catalog"),
# prints nothing on stdout and exactly one line on stderr naming the lock;
# afterwards check.py (without regvault) finds the winner's work whole and
# nothing claimed that is not there, and `catalog verify --deep` passes.
# Also the archive store's own lock: two backups into one store with two
# catalogs — the loser names DIR/.lock, and its catalog claims no copy.
# Environment: RV_HARNESS_ENV, REGVAULT.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib.sh"
crash_setup lock noseed
rps=(--max-rps 40)
lockmsg() { echo "regvault: error: another regvault run holds the catalog lock \"$1.lock\"; try again when it has finished"; }

# race WHAT ARGS-A -- ARGS-B: both started at once; sets winner/loser (a, b).
race() {
	local what=$1 rc_a=0 rc_b=0 a=() pa pb
	shift
	while [[ $1 != -- ]]; do a+=("$1"); shift; done
	shift
	"$REGVAULT" "${rps[@]}" "${a[@]}" >"$work/a.out" 2>"$work/a.err" & pa=$!
	"$REGVAULT" "${rps[@]}" "$@" >"$work/b.out" 2>"$work/b.err" & pb=$!
	wait "$pa" || rc_a=$?
	wait "$pb" || rc_b=$?
	if ((rc_a == 0 && rc_b == 1)); then
		winner=a loser=b
	elif ((rc_a == 1 && rc_b == 0)); then
		winner=b loser=a
	else
		cat "$work/a.err" "$work/b.err" >&2
		fail "$what: two runs at once exited $rc_a and $rc_b, want one 0 and one 1"
	fi
	[[ ! -s $work/$loser.out ]] || fail "$what: the refused run printed $(cat "$work/$loser.out")"
	echo "$test_name: $what: the $([[ $loser == a ]] && echo first || echo second) started refused"
}

# refused WHAT LINE: the loser said exactly LINE, on one line.
refused() {
	[[ $(<"$work/$loser.err") == "$2" ]] ||
		fail "$1: the refused run said '$(cat "$work/$loser.err")', want '$2'"
}

# 1. backup, one catalog.
cat=$work/backup.db
vault=$work/vault
images=(image child)
args=(--catalog "$cat" backup)
expects=()
for n in "${images[@]}"; do
	args+=("$RV_REG_PLAIN/fx/$n:v1")
	expects+=(--expect archive "$vault" "$RV_REG_PLAIN/fx/$n:v1" "$(fx_digest "$n")")
done
args+=(--to "$vault")
race backup "${args[@]}" -- "${args[@]}"
refused backup "$(lockmsg "$cat")"
check --catalog "$cat" "${expects[@]}" --no-temp "$vault"
verify_deep "$cat"

# 2. backup into one archive store, two catalogs: the store's lock.
vault2=$work/vault2
race "backup (one store)" --catalog "$work/s1.db" backup "$RV_REG_PLAIN/fx/multi:v1" --to "$vault2" \
	-- --catalog "$work/s2.db" backup "$RV_REG_PLAIN/fx/multi:v1" --to "$vault2"
refused "backup (one store)" "regvault: error: archive \"$vault2\" is busy: another run holds \"$vault2/.lock\""
w=1 l=2
[[ $winner == b ]] && w=2 l=1
check --catalog "$work/s$w.db" --no-temp "$vault2" \
	--expect archive "$vault2" "$RV_REG_PLAIN/fx/multi:v1" "$RV_FX_MULTI_DIGEST"
check --catalog "$work/s$l.db"
[[ $("$PY" -c 'import sqlite3, sys; print(sqlite3.connect(sys.argv[1]).execute("SELECT count(*) FROM copies").fetchone()[0])' "$work/s$l.db") == 0 ]] ||
	fail "backup (one store): the refused run's catalog records copies"
verify_deep "$work/s$w.db"

# 3. mirror, one catalog.
cat=$work/mirror.db
dst=$RV_REG_STANDBY/t/crash/lock-$$/mirror
args=(--catalog "$cat" mirror)
expects=()
for n in "${images[@]}"; do
	args+=("$RV_REG_PLAIN/fx/$n:v1")
	expects+=(--expect registry "$dst" "$RV_REG_PLAIN/fx/$n:v1" "$(fx_digest "$n")")
done
args+=(--to "$dst")
race mirror "${args[@]}" -- "${args[@]}"
refused mirror "$(lockmsg "$cat")"
check --catalog "$cat" "${expects[@]}"
verify_deep "$cat"

# 4. prune --execute: app:keep is kept, app:old (fx/child) is safekept into
# the archive, then deleted — by the winner alone.
cat=$work/prune.db
repo=t/crash/lock-$$/app
pvault=$work/pvault
for t in keep:image old:child; do
	skopeo copy -q --preserve-digests --policy "$RV_SKOPEO_POLICY" --dest-tls-verify=false \
		"oci:$RV_FX_LAYOUT:${t#*:}" "docker://$RV_REG_PLAIN/$repo:${t%%:*}" ||
		fail "cannot push $repo:${t%%:*}"
done
cat >"$work/policy.yaml" <<EOF
version: 1
registry: $RV_REG_PLAIN
repositories: ["$repo"]
safekeeping:
  archive: $pvault
deployed: none
keep:
  - tags: ["keep"]
untagged: keep
max_delete: 100%
EOF
args=(--catalog "$cat" prune --policy "$work/policy.yaml" --execute)
race "prune --execute" "${args[@]}" -- "${args[@]}"
refused "prune --execute" "$(lockmsg "$cat")"
check --catalog "$cat" --no-temp "$pvault" --present "$RV_REG_PLAIN/$repo@$RV_FX_IMAGE_DIGEST" \
	--expect archive "$pvault" "$RV_REG_PLAIN/$repo:old" "$RV_FX_CHILD_DIGEST"
code=$(curl -s -o /dev/null -w '%{http_code}' -I \
	-H 'Accept: application/vnd.oci.image.manifest.v1+json' \
	"http://$RV_REG_PLAIN/v2/$repo/manifests/$RV_FX_CHILD_DIGEST")
[[ $code == 404 ]] || fail "prune --execute: $repo@$RV_FX_CHILD_DIGEST answers $code, want 404 (deleted)"
verify_deep "$cat"
echo "$test_name: ok, 4 races: one run worked, the other refused; catalog verify --deep passed $verified times"
