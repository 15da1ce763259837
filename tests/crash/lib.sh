# tests/crash/lib.sh — shared by the crash tests (sourced).
#
# crash_setup NAME [noseed]: reads the harness env, makes $work (removed on
# exit), seeds bash's $RANDOM from RV_CRASH_SEED (default: from the clock)
# and prints the seed (not with noseed: a test that draws nothing), so a
# failure can be replayed: the same points, starting states and kill steps,
# and kills at the same shares of each run's measured length (runs still
# vary, so a timed kill lands near, not exactly at, the same code; a step
# kill lands exactly; a try that missed changes the draws after it).
# Sets: work seed PY; every RV_* key of the harness env.
# Environment: RV_HARNESS_ENV, REGVAULT, RV_KILLAT_LIB (rv-killat.so),
# RV_CRASH_SEED.
#
# The kill of a point (issue 8, "Crashes"):
#   kill_timed PREP BASE    regvault "${cmd[@]}" SIGKILLed at a delay drawn
#                           inside a run of BASE ms (below)
#   kill_at_step N ARGS...  regvault ARGS killed right after its Nth durable
#                           step (fsync, fdatasync, rename: rv-killat.so)
# Both set $landed to 1 when the kill found the run still going (it died
# of SIGKILL) and 0 when the run had ended on its own (it exited).

crash_here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

crash_setup() {
	[[ -x ${REGVAULT:-} ]] || { echo "REGVAULT not set" >&2; exit 1; }
	[[ -r ${RV_HARNESS_ENV:-} ]] || { echo "RV_HARNESS_ENV not readable" >&2; exit 1; }
	while IFS= read -r l; do [[ $l == *=* ]] && printf -v "${l%%=*}" '%s' "${l#*=}"; done <"$RV_HARNESS_ENV"
	work=$(mktemp -d "${TMPDIR:-/tmp}/rv-crash-$1.XXXXXX")
	trap 'crash_cleanup' EXIT
	test_name=crash_$1
	seed=${RV_CRASH_SEED:-$(($(date +%s%N) % 1000000007))}
	RANDOM=$seed
	[[ ${2:-} == noseed ]] ||
		echo "$test_name: seed $seed (RV_CRASH_SEED=$seed replays these kill points)"
	# Debian's python3 (a pyenv shim in PATH costs a second per call).
	PY=python3
	[[ -x /usr/bin/python3 ]] && PY=/usr/bin/python3
	bg_pid=
	verified=0 timed_missed=0
}

# A run still going when the test stops (a failure mid-point) is ours to end.
crash_cleanup() {
	[[ -n ${bg_pid:-} ]] && kill -KILL "$bg_pid" 2>/dev/null && wait "$bg_pid" 2>/dev/null
	rm -rf "$work"
}

fail() {
	echo "FAIL: $test_name: $*" >&2
	[[ $test_name == crash_lock ]] || echo "FAIL: replay with RV_CRASH_SEED=$seed" >&2
	exit 1
}

ms() { date +%s%3N; }

# rnd N: $r = a number in [0, N) from the seeded $RANDOM (30 bits). Not
# in $(...): a subshell's draws would not advance this shell's sequence.
rnd() { r=$((((RANDOM << 15) | RANDOM) % $1)); }

# want RC ARGS...: regvault ARGS must exit RC. Output in $work/out, $work/err.
want() {
	local rc=0 w=$1
	shift
	"$REGVAULT" "$@" >"$work/out" 2>"$work/err" || rc=$?
	if ((rc != w)); then
		cat "$work/out" "$work/err" >&2
		fail "${where:-}regvault $* exited $rc, want $w"
	fi
}

# timed ARGS...: one complete run (exit 0); its wall time in $took_ms.
timed() {
	local t0
	t0=$(ms)
	want 0 "$@"
	took_ms=$(($(ms) - t0))
}

# reap: the kill's outcome from the run's exit status — 137 is death by
# SIGKILL (timeout's, ours or rv-killat's), 0 a run that ended first.
reap() {
	local rc=0
	wait "$bg_pid" 2>/dev/null || rc=$?   # (bash's "Killed" notice)
	bg_pid=
	case $rc in
	137) landed=1 ;;
	0) landed=0 ;;
	*) cat "$work/kout" "$work/kerr" >&2
	   fail "${where:-}a run that was to be killed exited $rc on its own" ;;
	esac
	echo "$test_name: ${where:-}$([[ $landed == 1 ]] && echo killed || echo "the run had ended")"
}

# kill_timed PREP BASE: PREP TRY sets up a point's starting state and the
# command in cmd=(…); regvault "${cmd[@]}" is SIGKILLed after a delay
# drawn in [0, 90% of BASE ms) (delay_in). Runs vary with the machine's
# load, and a kill after the end proves nothing: a run that ends first is
# timed, BASE shrinks to what it took, and the point is drawn again from a
# fresh PREP (at most 3 tries). Sets landed, delay, base_ms (BASE, maybe
# shortened: the caller keeps it for its next points), and
# where="$where [DELAY ms, …]: ".
kill_timed() {
	local prep=$1 at=$where t0 took tries
	base_ms=$2
	for ((tries = 1; tries <= 3; tries++)); do
		"$prep" "$tries"
		delay_in "$base_ms"
		delay=$r
		where="$at [$delay ms, $((share / 10))% of $base_ms]: "
		((tries == 1)) || where="$at [$delay ms, $((share / 10))% of $base_ms, try $tries]: "
		# timeout(1) arms its timer as it starts regvault: no fork or exec of
		# ours between the two (under load those take longer than a run).
		t0=${EPOCHREALTIME/./}
		# (A duration of 0 would disable timeout's timer: 1 ms at least.)
		timeout -s KILL "$(printf '%d.%03d' $((delay / 1000)) $((delay % 1000 + !delay)))" \
			"$REGVAULT" "${cmd[@]}" >"$work/kout" 2>"$work/kerr" &
		bg_pid=$!
		reap
		((landed)) && return
		took=$(((${EPOCHREALTIME/./} - t0) / 1000))
		((took < base_ms)) && base_ms=$took
		timed_missed=$((timed_missed + 1))
	done
}

kill_at_step() {
	local n=$1
	shift
	RV_KILLAT=$n LD_PRELOAD=$RV_KILLAT_LIB "$REGVAULT" "$@" >"$work/kout" 2>"$work/kerr" &
	bg_pid=$!
	reap
}

# count_steps ARGS...: one complete run under rv-killat, counting its
# durable steps into $steps (and its wall time into $took_ms); their names,
# in order, one a line, are in $work/steps.
count_steps() {
	local t0 rc=0
	t0=$(ms)
	RV_KILLAT_COUNT=$work/steps LD_PRELOAD=$RV_KILLAT_LIB "$REGVAULT" "$@" \
		>"$work/out" 2>"$work/err" || rc=$?
	took_ms=$(($(ms) - t0))
	((rc == 0)) || { cat "$work/err" >&2; fail "regvault $* exited $rc"; }
	steps=$(wc -l <"$work/steps")
	((steps > 0)) || fail "rv-killat counted no durable step in regvault $*"
}

# check ARGS...: tests/crash/check.py (the state read without regvault).
check() {
	"$PY" "$crash_here/check.py" "$@" >"$work/check" 2>&1 ||
		fail "${where:-}$(cat "$work/check")"
}

# verify_deep CATALOG: regvault's own deep check of every copy it records
# must pass (exit 0); a catalog the kill left uncreated has nothing to check.
verify_deep() {
	if [[ -e $1 ]]; then
		want 0 --catalog "$1" catalog verify --deep
		verified=$((verified + 1))
	fi
}

# delay_in BASE_MS: $r = a kill delay drawn in [0, 90% of BASE_MS), as a
# share of it ($share, in per mille), so that a replay (RV_CRASH_SEED) kills
# at the same places of its runs however long they take here. BASE_MS is
# the shorter of two baseline runs (or of a run that ended before its kill),
# so most kills land inside.
delay_in() {
	rnd 900
	share=$r
	r=$(($1 * share / 1000))
}

# fx_digest NAME: the digest the harness pushed fx/NAME:v1 at.
fx_digest() {
	case $1 in
	image) echo "$RV_FX_IMAGE_DIGEST" ;;
	child) echo "$RV_FX_CHILD_DIGEST" ;;
	multi) echo "$RV_FX_MULTI_DIGEST" ;;
	dockerlist) echo "$RV_FX_DOCKERLIST_DIGEST" ;;
	docker) echo "$RV_FX_DOCKER_DIGEST" ;;
	*) fail "no fixture $1" ;;
	esac
}

# The fixtures the tests copy (each test a few of them, to keep its runs
# short): image (a plain image with its signature tag and referrer), child
# (an image on image's layers), multi (an OCI index), dockerlist (a Docker
# manifest list).
fx_names=(image child multi dockerlist)
# fx_sources NAME...: their references on the primary.
fx_sources() { for n in "$@"; do echo "$RV_REG_PLAIN/fx/$n:v1"; done; }
# --present arguments: the primary still has every fixture (nothing deleted).
fx_present() { for n in "${fx_names[@]}"; do printf -- '--present\n%s\n' "$RV_REG_PLAIN/fx/$n@$(fx_digest "$n")"; done; }

# landed_enough POINTS LANDED: at least 80% of the timed points must have
# killed a run still going (a kill after the end proves nothing; each point
# had up to three tries, $timed_missed runs ended first).
landed_enough() {
	(($2 * 10 >= $1 * 8)) ||
		fail "only $2 of $1 timed points killed a run still going ($timed_missed tries missed)"
}
