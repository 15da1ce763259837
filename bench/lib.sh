# shellcheck shell=bash
# bench/lib.sh — what bench/run needs besides tests/harness/lib.sh: one
# registry started and stopped at a time, timed runs, results and medians.
# Sourced after tests/harness/lib.sh, with RV_DIR and RV_STORE set, and
# BENCH_WORK (the work directory) and BENCH_RESULTS (the results TSV).
# shellcheck disable=SC2034

bench_say() {
	echo "bench: $*" >&2
}

bench_die() {
	echo "bench: error: $*" >&2
	exit 1
}

bench_now() { # seconds with milliseconds
	local t
	t=$(date +%s%N)
	printf '%d.%03d' $((t / 1000000000)) $((t / 1000000 % 1000))
}

# ---- registries ---------------------------------------------------------------

# bench_reg_up NAME — a plain docker-registry (tests/harness/lib.sh: port 0,
# port read from its log, storage $RV_STORE/NAME, delete enabled, no cache).
# Sets RV_ADDR.
bench_reg_up() {
	rv_registry_config "$1" plain
	rv_registry_start "$1"
	rv_registry_wait "$1" http 200
}

# bench_reg_down NAME — stop that one registry by its recorded PIDs (the
# server first, then its `timeout`), drop them from $RV_DIR/pids and remove
# its storage. rv_stop_recorded at exit stops whatever is left.
bench_reg_down() {
	local name=$1 pid kind live=() i still round
	[[ -f $RV_DIR/pids ]] || return 0
	for round in child parent; do
		live=()
		while read -r pid kind; do
			[[ $pid =~ ^[0-9]+$ ]] || continue
			if [[ $round == child ]]; then
				[[ $kind == "registry-$name-child" ]] || continue
			else
				[[ $kind == "registry-$name" ]] || continue
			fi
			if rv_pid_is_ours "$pid"; then
				live+=("$pid")
				kill -TERM "$pid" 2>/dev/null || true
			fi
		done <"$RV_DIR/pids"
		for ((i = 0; i < 50 && ${#live[@]} > 0; i++)); do
			still=()
			for pid in "${live[@]}"; do
				rv_pid_is_ours "$pid" && still+=("$pid")
			done
			live=("${still[@]}")
			((${#live[@]} == 0)) && break
			sleep 0.05
		done
		for pid in "${live[@]}"; do
			rv_pid_is_ours "$pid" && kill -KILL "$pid" 2>/dev/null || true
		done
	done
	grep -v -E " registry-$name(-child)?\$" "$RV_DIR/pids" >"$RV_DIR/pids.new" || true
	mv "$RV_DIR/pids.new" "$RV_DIR/pids"
	[[ -n $name && -d $RV_STORE/$name ]] && rm -rf -- "${RV_STORE:?}/$name"
	return 0
}

bench_reg_repos_dir() { # NAME — where the registry keeps its repositories
	echo "$RV_STORE/$1/docker/registry/v2/repositories"
}

# ---- timing -------------------------------------------------------------------

# bench_time NAME CMD... — run CMD under GNU time, stdout to
# $BENCH_WORK/out/NAME.log, stderr to NAME.err. Sets T_RC, T_WALL (s), T_CPU (user + system, s,
# CMD and every child it waited for), T_RSS (KiB: the largest of them).
bench_time() {
	local name=$1 tf line
	shift
	tf=$BENCH_WORK/out/$name.time
	T_NAME=$name
	mkdir -p "$BENCH_WORK/out"
	T_RC=0
	/usr/bin/time -f '%e %U %S %M' -o "$tf" "$@" >"$BENCH_WORK/out/$name.log" \
		2>"$BENCH_WORK/out/$name.err" || T_RC=$?
	# "Command exited with non-zero status N" comes first when it failed.
	line=$(tail -n 1 "$tf")
	read -r T_WALL T_USER T_SYS T_RSS <<<"$line"
	T_CPU=$(awk -v u="$T_USER" -v s="$T_SYS" 'BEGIN { printf "%.2f", u + s }')
}

# bench_record SCENARIO TOOL RUN BYTES OK [NOTE] — one row of the results,
# from the last bench_time (BYTES "-" when it does not apply).
bench_record() {
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$T_WALL" "$T_CPU" "$T_RSS" \
		"$4" "$5" "${6:-}" >>"$BENCH_RESULTS"
	if [[ $5 == true ]]; then
		bench_say "  $1 $2 #$3: ${T_WALL} s wall, ${T_CPU} s CPU, $((T_RSS / 1024)) MiB${6:+ ($6)}"
	else
		bench_say "  $1 $2 #$3: FAILED${6:+ ($6)}; logs in $BENCH_WORK/out (BENCH_KEEP=1 keeps them)"
		if [[ -n ${T_NAME:-} ]]; then
			tail -n 5 "$BENCH_WORK/out/$T_NAME.err" "$BENCH_WORK/out/$T_NAME.log" 2>/dev/null |
				cut -c1-300 | sed 's/^/    /' >&2 || true
		fi
		BENCH_FAILED=$((${BENCH_FAILED:-0} + 1))
	fi
}

# bench_fail SCENARIO TOOL RUN WHY — a run that could not even be timed.
bench_fail() {
	T_WALL=0 T_CPU=0 T_RSS=0 T_NAME=""
	bench_record "$1" "$2" "$3" - false "$4"
}

bench_du() { # PATH — bytes under PATH (apparent size)
	du -sb -- "$1" 2>/dev/null | cut -f1
}

# ---- summaries ------------------------------------------------------------------

# bench_median SCENARIO TOOL COLUMN — median of a results column (4 wall,
# 5 CPU, 7 bytes) over the successful runs; "-" if none.
bench_median() {
	awk -F'\t' -v s="$1" -v t="$2" -v c="$3" '
		$1 == s && $2 == t && $8 == "true" && $c != "-" { v[n++] = $c + 0 }
		END {
			if (n == 0) { print "-"; exit }
			for (i = 0; i < n; i++) for (j = i + 1; j < n; j++) if (v[j] < v[i]) { x = v[i]; v[i] = v[j]; v[j] = x }
			m = (n % 2) ? v[int(n / 2)] : (v[n / 2 - 1] + v[n / 2]) / 2
			printf (c == 7 ? "%.0f\n" : "%.2f\n"), m  # %d overflows at 2^31 in mawk
		}' "$BENCH_RESULTS"
}

# bench_max SCENARIO TOOL COLUMN — the largest value (peak RSS, column 6).
bench_max() {
	awk -F'\t' -v s="$1" -v t="$2" -v c="$3" '
		$1 == s && $2 == t && $8 == "true" { if (n++ == 0 || $c + 0 > m) m = $c + 0 }
		END { print (n ? m : "-") }' "$BENCH_RESULTS"
}

bench_ratio() { # A B — A / B to two places, "-" when either is missing
	awk -v a="$1" -v b="$2" 'BEGIN {
		if (a == "-" || b == "-" || b + 0 == 0) print "-"; else printf "%.2f\n", a / b }'
}

bench_fmt_bytes() { # N — "123.4 MB" (decimal), "-" stays
	awk -v n="$1" 'BEGIN {
		if (n == "-" || n == "") { print "-"; exit }
		if (n >= 1e9) printf "%.2f GB\n", n / 1e9
		else if (n >= 1e6) printf "%.1f MB\n", n / 1e6
		else if (n >= 1e3) printf "%.1f kB\n", n / 1e3
		else printf "%d B\n", n }'
}
