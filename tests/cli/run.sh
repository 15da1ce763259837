#!/usr/bin/env bash
# tests/cli/run.sh — golden tests of the regvault command line (the shape
# of zstd's tests/cli-tests).
#
#   run.sh CASE.sh...         (or the cases in $RV_CLI_CASES, space-separated)
#
# A case is a bash script run in an empty temporary directory with
# `regvault` on PATH ($REGVAULT), HOME pointing into that directory and the
# credential and regvault variables of the caller's environment cleared.
# Beside it, optional golden files say what must come out:
#
#   CASE.sh.exit                    expected exit status (default 0)
#   CASE.sh.stdout.exact            stdout, exactly
#   CASE.sh.stdout.glob             stdout, line by line: each line a bash
#   CASE.sh.stderr.exact/.glob      pattern; a line "..." matches any lines
#
# Absent files are not checked. Trailing newlines are ignored (cases that
# care about exact bytes check them themselves). In golden files @NAME@
# stands for the value of the environment variable NAME, so live cases can
# name registries and digests from the harness env file ($RV_HARNESS_ENV,
# loaded before each live case).
#
# Exit status: 0 when every case passed. Prints "N passed, N failed".
set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
: "${REGVAULT:?REGVAULT must name the regvault binary}"
[[ -x $REGVAULT ]] || { echo "run.sh: $REGVAULT is not executable" >&2; exit 2; }

cases=("$@")
[[ ${#cases[@]} -eq 0 && -n ${RV_CLI_CASES:-} ]] && read -r -a cases <<<"$RV_CLI_CASES"
[[ ${#cases[@]} -gt 0 ]] || { echo "usage: run.sh CASE.sh..." >&2; exit 2; }

# load_env FILE: export its KEY=VALUE lines (values may hold spaces, so the
# file is read, not sourced).
load_env() {
	local line
	[[ -n $1 ]] || return 0
	[[ -r $1 ]] || { echo "run.sh: cannot read harness env $1" >&2; return 1; }
	while IFS= read -r line; do
		[[ $line =~ ^[A-Za-z_][A-Za-z0-9_]*= ]] || continue
		printf -v "${line%%=*}" '%s' "${line#*=}"
		export "${line%%=*}"
	done <"$1"
}

# expand FILE: its text with every @NAME@ replaced by $NAME when set.
expand() {
	local text out="" name re='@([A-Za-z_][A-Za-z0-9_]*)@'
	text=$(<"$1")
	while [[ $text =~ $re ]]; do
		name=${BASH_REMATCH[1]}
		out+=${text%%"${BASH_REMATCH[0]}"*}
		if [[ -v $name ]]; then out+=${!name}; else out+=${BASH_REMATCH[0]}; fi
		text=${text#*"${BASH_REMATCH[0]}"}
	done
	printf '%s' "$out$text"
}

# glob_match PATTERN-TEXT ACTUAL-TEXT: line by line, "..." skips lines up to
# the first that matches the next pattern.
glob_match() {
	local -a pat act
	local i=0 j=0 skip=0
	mapfile -t pat <<<"$1"
	mapfile -t act <<<"$2"
	while ((i < ${#pat[@]})); do
		if [[ ${pat[i]} == "..." ]]; then
			skip=1
			((i++))
			continue
		fi
		while ((j < ${#act[@]})); do
			# shellcheck disable=SC2053 # the pattern is a glob on purpose
			[[ ${act[j]} == ${pat[i]} ]] && break
			((skip)) || return 1
			((j++))
		done
		((j < ${#act[@]})) || return 1
		skip=0
		((i++, j++))
	done
	((skip || j == ${#act[@]}))
}

# check CASE STREAM ACTUAL-FILE: compares against CASE.STREAM.exact/.glob.
check() {
	local c=$1 stream=$2 actual want
	actual=$(<"$3")
	if [[ -f $c.$stream.exact ]]; then
		want=$(expand "$c.$stream.exact")
		[[ $actual == "$want" ]] && return 0
		echo "--- expected $stream (exact)"; printf '%s\n' "$want"
	elif [[ -f $c.$stream.glob ]]; then
		want=$(expand "$c.$stream.glob")
		glob_match "$want" "$actual" && return 0
		echo "--- expected $stream (glob)"; printf '%s\n' "$want"
	else
		return 0
	fi
	echo "--- actual $stream"; printf '%s\n' "$actual"
	return 1
}

run_case() {
	local c=$1 dir rc want_rc=0 ok=1
	dir=$(mktemp -d "${TMPDIR:-/tmp}/rv-cli.XXXXXX")
	mkdir -p "$dir/bin" "$dir/home" "$dir/work"
	ln -s "$REGVAULT" "$dir/bin/regvault"
	(
		# What the user's environment might hold must not change results.
		unset REGISTRY_AUTH_FILE DOCKER_CONFIG XDG_RUNTIME_DIR XDG_CONFIG_HOME \
		      XDG_DATA_HOME REGVAULT_CATALOG REGVAULT_TRACE
		export HOME=$dir/home PATH=$dir/bin:$PATH LC_ALL=C
		load_env "${RV_HARNESS_ENV:-}" || exit 99
		export RV_CLI_DIR=$here
		cd "$dir/work" && bash "$c" >"$dir/stdout" 2>"$dir/stderr" </dev/null
	)
	rc=$?
	[[ -f $c.exit ]] && want_rc=$(<"$c.exit")
	# Goldens may name harness values: expand against the same env.
	(
		load_env "${RV_HARNESS_ENV:-}" || exit 1
		check "$c" stdout "$dir/stdout" && check "$c" stderr "$dir/stderr"
	) || ok=0
	if [[ $rc != "$want_rc" ]]; then
		echo "--- exit status $rc, expected $want_rc"
		((ok)) && { echo "--- stdout"; cat "$dir/stdout"; echo "--- stderr"; cat "$dir/stderr"; }
		ok=0
	fi
	rm -rf "$dir"
	((ok))
}

passed=0 failed=0
for c in "${cases[@]}"; do
	[[ $c = /* ]] || c=$PWD/$c
	if run_case "$c"; then
		echo "PASS ${c#"$here"/}"
		((passed++))
	else
		echo "FAIL ${c#"$here"/}"
		((failed++))
	fi
done
echo "$passed passed, $failed failed"
((failed == 0))
