#!/usr/bin/env bash
# tests/security/modes_test.sh — ctest `security_modes` (issue 8; ARCHITECTURE.md
# invariant 7): the catalog and the archives are private whatever the umask.
#
# Under umask 000, 022 and 077, with nothing existing yet: a backup into an
# archive store and into a tarball, a mirror, a plan written with
# --plan-out and a catalog rebuild. One layer of each backup comes through
# an rv-faultproxy that stalls it half-way (1.5 s), so the files that
# exist only while a run is going — the temporary volume or tarball, the
# catalog's -wal and -shm, both lock files — are looked at then, as well as
# everything after the runs: every file regvault created must be 0600 and
# every directory it created 0700.
# Environment: RV_HARNESS_ENV, REGVAULT; RV_SECURITY_KEEP=1 keeps the work dir.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
[[ -x ${REGVAULT:-} ]] || { echo "REGVAULT not set" >&2; exit 1; }
[[ -r ${RV_HARNESS_ENV:-} ]] || { echo "RV_HARNESS_ENV not readable" >&2; exit 1; }
while IFS= read -r l; do [[ $l == *=* ]] && printf -v "${l%%=*}" '%s' "${l#*=}"; done <"$RV_HARNESS_ENV"
[[ -x ${RV_FAULTPROXY:-} ]] || { echo "no rv-faultproxy in the harness env" >&2; exit 1; }

W=$(mktemp -d "${TMPDIR:-/tmp}/rv-modes.XXXXXX")
RV_DIR=$W/harness RV_HARNESS_TTL=300
mkdir -p "$RV_DIR"
source "$here/../harness/lib.sh"
cleanup() {
	RV_DIR=$W/harness rv_stop_recorded || true
	if [[ ${RV_SECURITY_KEEP:-0} == 1 ]]; then echo "kept $W" >&2; else rm -rf "$W"; fi
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

# The proxy stalls only the first layer of fx/docker:v1 (a fixture with
# no referrers): every other path the runs ask for is exempt.
IFS=, read -r layer1 layer2 <<<"$RV_FX_DOCKER_LAYERS"
[[ -n $layer1 && -n $layer2 ]] || fail "RV_FX_DOCKER_LAYERS: want two layers"
skip=()
for p in /v2/ /v2/fx/docker/manifests/ /v2/fx/docker/referrers/ /v2/fx/docker/tags/ \
	"/v2/fx/docker/blobs/$RV_FX_DOCKER_CONFIG_DIGEST" "/v2/fx/docker/blobs/$layer2"; do
	skip+=(--skip-path-prefix "$p")
done
rv_faultproxy_start stall "$RV_REG_PLAIN" --rate 1 --faults stall --stall-ms 1500 "${skip[@]}"
rv_faultproxy_wait stall 200
SLOW=$RV_ADDR

checked=0
# check_tree WHEN DIR...: every file 0600, every directory 0700.
check_tree() {
	local when=$1 line mode type path
	shift
	while read -r mode type path; do
		checked=$((checked + 1))
		case $type in
		f) [[ $mode == 600 ]] || fail "$when: $path is $mode, want 600" ;;
		d) [[ $mode == 700 ]] || fail "$when: directory $path is $mode, want 700" ;;
		*) fail "$when: $path is of type $type" ;;
		esac
	done < <(find "$@" -mindepth 0 -printf '%m %y %p\n')
}

# while_running GLOB WHEN DIR... -- CMD...: starts CMD, waits (bounded) for a
# file matching GLOB — the run's temporary file — and checks DIR... then.
while_running() {
	local glob=$1 when=$2 dirs=() pid i seen=
	shift 2
	while [[ $1 != -- ]]; do dirs+=("$1"); shift; done
	shift
	"$@" >"$W/out" 2>"$W/err" &
	pid=$!
	for ((i = 0; i < 300; i++)); do # x 0.02 s, while the layer stalls
		if compgen -G "$glob" >/dev/null; then
			seen=1
			break
		fi
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.02
	done
	[[ -n $seen ]] || { wait "$pid" || true; cat "$W/err" >&2; fail "$when: no $glob appeared during the run"; }
	[[ -e $cat-wal && -e $cat-shm ]] || fail "$when: no $cat-wal and -shm during the run"
	check_tree "$when (during the run)" "${dirs[@]}"
	wait "$pid" || { cat "$W/err" >&2; fail "$when: regvault $* failed"; }
}

for u in 000 022 077; do
	d=$W/u$u
	mkdir "$d"
	cat=$d/catalog/sub/catalog.db
	store=$d/store/nested
	rv=("$REGVAULT" -q --catalog "$cat")
	# regvault creates neither a tarball's nor a plan's directory: the test
	# does, with a fixed mode, so that only what regvault made is judged.
	mkdir -m 700 "$d/tar" "$d/plan"
	(
		umask "$u"
		while_running "$store/volumes/.tmp-*" "umask $u backup" "$d/catalog" "$store" -- \
			"${rv[@]}" backup "$SLOW/fx/docker:v1" --to "$store"
		while_running "$d/tar/image.tar.tmp-*" "umask $u tarball" "$d/catalog" "$d/tar" -- \
			"${rv[@]}" backup "$SLOW/fx/docker:v1" --to "$d/tar/image.tar"
		"${rv[@]}" mirror "$RV_REG_PLAIN/fx/image:v1" --to "$RV_REG_STANDBY/t/security-modes-$$/u$u" \
			>/dev/null
		cat >"$d/policy.yaml" <<EOF
version: 1
registry: $RV_REG_PLAIN
repositories: ["fx/image"]
safekeeping:
  archive: $store
deployed: none
keep:
  - tags: ["*"]
EOF
		"${rv[@]}" prune --policy "$d/policy.yaml" --plan-out "$d/plan/plan.json" >/dev/null
		"$REGVAULT" -q --catalog "$d/rebuilt/catalog.db" catalog rebuild --from "$store" >/dev/null
	) || exit 1
	check_tree "umask $u (after the runs)" "$d/catalog" "$store" "$d/store" "$d/tar" \
		"$d/rebuilt" "$d/plan/plan.json"
	[[ -e $cat.lock && -e $store/.lock && -e $d/tar/image.tar ]] || fail "umask $u: files missing"
done
echo "security_modes: $checked paths checked under umask 000, 022 and 077"
