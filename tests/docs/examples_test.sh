#!/usr/bin/env bash
# tests/docs/examples_test.sh — ctest `docs_examples`: every shell example in
# README.md and docs/*.md runs, so the docs cannot rot (issue 9).
#
# The marker convention. Every ```sh fence (also ```bash, ```shell,
# ```console: use ```sh) must have, as the last non-blank line before it,
# one of these HTML comments (invisible when the Markdown is rendered):
#
#   <!-- example: run -->              run it; it must exit 0
#   <!-- example: run, exit N -->      run it; it must exit N (put the
#                                      command that fails last)
#   <!-- example: skip (REASON) -->    do not run it; REASON is required
#
# A ```sh block with no marker fails the test, so a new example cannot
# escape silently. The one exception is README.md's first block
# (scripts/demo and scripts/test must stay the file's very first thing):
# scripts/demo is ctest `demo`, scripts/test is CI itself.
#
#   <!-- example: policy -->           before a ```yaml fence: the policy is
#                                      loaded (`regvault prune --policy`);
#                                      it must not be refused as invalid
#                                      (exit 2). Its registry and deployed
#                                      sources need not exist: the run
#                                      stops later, at exit 3 or 1.
#
# Other fences (```yaml, ```text, ```ini, plain ```) are not run.
#
# How blocks run: per file, in order, all in one bash (set -Ee, pipefail),
# so variables, exports and `cd` carry from one block to the next, in a
# scratch directory that holds `build` (a link to this build tree). PATH
# starts with the build's regvault; TMPDIR, HOME, XDG_DATA_HOME and
# REGVAULT_CATALOG point into the scratch directory. Before a block runs,
# the placeholders the docs use are replaced:
#
#   localhost:5000   the primary registry  → a registry this test starts
#   localhost:5001   the standby registry  → a second one it starts
#   localhost:5002   a scratch registry for restore drills → the harness's
#                    standby (RV_REG_STANDBY; drills use new repositories)
#
# The primary and standby are this test's own (empty, deletes enabled), so
# the docs may say `regvault ls localhost:5000`, mirror a whole registry or
# prune `repositories: ["*"]` exactly as a newcomer would on theirs, and
# several runs never meet. The harness provides the drill's scratch
# registry (ctest fixture `registries`) and its registry helpers.
#
# Environment: REGVAULT, RV_HARNESS_ENV, RV_BUILD_DIR, RV_SOURCE_DIR;
# RV_DOCS_FILES (space-separated, relative to the source tree) overrides
# the files checked; RV_DOCS_KEEP=1 keeps the scratch directory.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
src=${RV_SOURCE_DIR:-$(cd "$here/../.." && pwd)}
: "${REGVAULT:?REGVAULT must name the regvault binary}"
: "${RV_HARNESS_ENV:?RV_HARNESS_ENV must name the harness env file}"
build=${RV_BUILD_DIR:-$(cd "$(dirname "$REGVAULT")/.." && pwd)}
while IFS= read -r l; do [[ $l == RV_*=* ]] && printf -v "${l%%=*}" '%s' "${l#*=}"; done <"$RV_HARNESS_ENV"
: "${RV_REG_STANDBY:?the harness env names no RV_REG_STANDBY}"

files=${RV_DOCS_FILES:-README.md $(cd "$src" && echo docs/*.md)}

work=$(mktemp -d "${TMPDIR:-/tmp}/rv-docs-examples.XXXXXX")
# tests/harness/lib.sh starts registries and stops exactly the PIDs it
# recorded (rv_stop_recorded).
# shellcheck source=../harness/lib.sh
source "$src/tests/harness/lib.sh"
RV_DIR=$work/harness
RV_STORE=$work/storage
mkdir -p "$RV_DIR" "$RV_STORE"
# shellcheck disable=SC2317 # run by the EXIT trap
cleanup() {
	rv_stop_recorded || true
	[[ ${RV_DOCS_KEEP:-0} == 1 ]] && { echo "docs_examples: kept $work"; return; }
	rm -rf "$work"
}
trap cleanup EXIT

fail=0
problem() { echo "docs_examples: $*"; fail=1; }

# ---- 1. extract: every fence, its marker, its text -------------------------
# extract FILE → $work/<file>/NNN.{sh,yaml} and a plan line per block:
#   LINE<TAB>KIND<TAB>ARG   KIND: run (ARG = wanted exit), skip, policy,
#                           unmarked, lang (ARG = the fence's language)
extract() {
	local f=$1 out=$2
	mkdir -p "$out"
	awk -v out="$out" -v file="$f" '
	function flush_marker() { marker = "" }
	BEGIN { n = 0; infence = 0; marker = ""; first = 1 }
	infence {
		if ($0 ~ /^```[ \t]*$/) { infence = 0; close(path); next }
		print > path; next
	}
	/^```/ {
		lang = substr($0, 4); sub(/[ \t].*$/, "", lang)
		n++; infence = 1
		path = sprintf("%s/%03d.txt", out, n)
		printf "" > path
		kind = "other"; arg = lang
		if (lang == "sh" || lang == "bash" || lang == "shell" || lang == "console") {
			if (lang != "sh") { kind = "lang" }
			else if (file == "README.md" && first) { kind = "skip"; arg = "scripts/demo is ctest demo; scripts/test is CI" }
			else if (marker ~ /^<!-- example: run -->$/) { kind = "run"; arg = 0 }
			else if (marker ~ /^<!-- example: run, exit [0-9]+ -->$/) {
				kind = "run"; arg = marker; gsub(/[^0-9]/, "", arg)
			} else if (marker ~ /^<!-- example: skip \([^)]+\) -->$/) {
				kind = "skip"; arg = marker; sub(/^<!-- example: skip \(/, "", arg); sub(/\) -->$/, "", arg)
			} else if (marker ~ /^<!-- example:/) { kind = "badmarker"; arg = marker }
			else { kind = "unmarked" }
		} else if (marker ~ /^<!-- example: policy -->$/) {
			kind = (lang == "yaml") ? "policy" : "badmarker"; arg = marker
		} else if (marker ~ /^<!-- example:/) { kind = "badmarker"; arg = marker }
		first = 0
		printf "%d\t%s\t%s\t%s\n", NR, kind, arg, path
		marker = ""
		next
	}
	/^[ \t]*$/ { next }
	{ marker = $0; sub(/[ \t]+$/, "", marker); first = 0 }
	END { if (infence) printf "%d\tunclosed\t-\t-\n", NR }
	' "$src/$f"
}

# ---- 2. the registries -------------------------------------------------------
RV_TTL=${RV_TTL:-600}
RV_POLL_TRIES=${RV_POLL_TRIES:-300}
rv_registry_config primary plain
rv_registry_start primary
rv_registry_config standby plain
rv_registry_start standby
rv_registry_wait primary http 200
primary=$RV_ADDR
rv_registry_wait standby http 200
standby=$RV_ADDR
scratch_reg=$RV_REG_STANDBY

# ---- 3. per file: check the markers, then run the blocks in one shell -------
runs=0 skips=0 policies=0
for f in $files; do
	[[ -r $src/$f ]] || { problem "$f: cannot read"; continue; }
	blocks=$work/blocks/${f//\//_}
	plan=$(extract "$f" "$blocks")
	dir=$work/run/${f//\//_}
	mkdir -p "$dir/home" "$dir/tmp"
	echo '{}' >"$dir/home/auth.json"
	ln -s "$build" "$dir/build"
	script=$dir/run.sh
	{
		echo 'set -Eeo pipefail'
		echo "cd $(printf '%q' "$dir")"
		# shellcheck disable=SC2016 # expanded by the generated script
		echo 'rv_on_err() { echo "docs_examples: $rv_where: exit $1 from: $2" >&2; }'
		# shellcheck disable=SC2016
		echo 'trap '\''rv_on_err $? "$BASH_COMMAND"'\'' ERR'
	} >"$script"
	while IFS=$'\t' read -r line kind arg path; do
		[[ -n $line ]] || continue
		where="$f:$line"
		case $kind in
		unmarked) problem "$where: a \`\`\`sh block with no <!-- example: run --> or <!-- example: skip (REASON) --> before it" ;;
		badmarker) problem "$where: malformed marker \"$arg\" (see tests/docs/examples_test.sh)" ;;
		lang) problem "$where: a \`\`\`$arg block: write \`\`\`sh, with a marker" ;;
		unclosed) problem "$f: a fence is never closed" ;;
		skip) skips=$((skips + 1)); echo "skip   $where ($arg)" ;;
		other) ;;
		policy)
			policies=$((policies + 1))
			cp "$path" "$dir/policy-$line.yaml"
			pol=$(printf '%q' "$dir/policy-$line")
			{
				echo "rv_where=$(printf '%q' "$where (policy)")"
				echo "echo '==> $where: loading the policy (regvault prune --policy)' >&2"
				echo 'trap - ERR; set +e'
				echo "regvault --catalog $(printf '%q' "$dir/policy-check.db") prune --kubectl false --policy $pol.yaml >/dev/null 2>$pol.err; rc=\$?"
				echo "set -e; trap 'rv_on_err \$? \"\$BASH_COMMAND\"' ERR"
				echo "if [[ \$rc == 2 || \$rc == 0 ]]; then echo \"docs_examples: $where: not a valid policy (exit \$rc; its line 1 is $f:$((line + 1))):\" >&2; cat $pol.err >&2; exit 1; fi"
			} >>"$script"
			;;
		run)
			runs=$((runs + 1))
			sed -e "s/localhost:5000/$primary/g" -e "s/localhost:5001/$standby/g" \
				-e "s/localhost:5002/$scratch_reg/g" "$path" >"$dir/block-$line.sh"
			{
				echo "rv_where=$(printf '%q' "$where")"
				echo "echo '==> $where' >&2"
				if [[ $arg == 0 ]]; then
					echo "source $(printf '%q' "$dir/block-$line.sh")"
				else
					echo 'trap - ERR; set +e'
					echo "source $(printf '%q' "$dir/block-$line.sh"); rc=\$?"
					echo "set -e; trap 'rv_on_err \$? \"\$BASH_COMMAND\"' ERR"
					echo "[[ \$rc == $arg ]] || { echo \"docs_examples: $where: exit \$rc, the doc says $arg\" >&2; exit 1; }"
				fi
			} >>"$script"
			;;
		*) problem "$where: internal: kind $kind" ;;
		esac
	done <<<"$plan"
	echo "rv_where=$(printf '%q' "$f: end")" >>"$script"
	grep -q '^source \|policy-' "$script" || continue
	echo "==> running the examples of $f"
	t0=$(date +%s%N)
	if ! env -u REGVAULT_CATALOG PATH="$(dirname "$REGVAULT"):$PATH" HOME="$dir/home" \
		TMPDIR="$dir/tmp" XDG_DATA_HOME="$dir/home/.local/share" \
		XDG_CONFIG_HOME="$dir/home/.config" REGISTRY_AUTH_FILE="$dir/home/auth.json" \
		timeout 120 bash "$script" </dev/null; then
		problem "$f: an example failed (above)"
	fi
	echo "    $f: $((($(date +%s%N) - t0) / 1000000)) ms"
done

echo "docs_examples: $runs blocks run, $policies policies loaded, $skips skipped"
exit $fail
