#!/usr/bin/env bash
# tests/docs/in_step.sh — the man page and the shell completions say what
# `regvault --help` says (issue 9: "kept in step with --help").
#
# The options of each command are read from the OPTIONS section of
# `regvault help COMMAND` (entry lines "    [-x, ]--name[ ARG]"), the global
# ones from `regvault --help`. Then:
#   - every option and every command appears in docs/regvault.1, and every
#     --option the man page names is one some help text defines;
#   - the bash completion offers exactly the command's options plus the
#     global ones after `regvault CMD --<Tab>` (its real function is run);
#   - the zsh completion parses (zsh -n) and names every option under its
#     command's case.
# Prints every difference; exit 1 if there is one.
set -uo pipefail

: "${REGVAULT:?REGVAULT must name the regvault binary}"
src=${RV_SOURCE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
man=$src/docs/regvault.1
bash_comp=$src/completions/regvault.bash
zsh_comp=$src/completions/_regvault
fail=0
problem() { echo "in_step: $*"; fail=1; }

# entries < help text → one long option per line
entries() { grep -E '^    (-[a-zA-Z], )?--[a-z][a-z0-9-]*( [^ ]+)?$' | grep -oE -- '--[a-z][a-z0-9-]*' | sort -u; }

commands=$("$REGVAULT" --help | sed -n '/^COMMANDS/,/^[A-Z]/p' | grep -oE '^    [a-z]+' | tr -d ' ')
[[ -n $commands ]] || { echo "in_step: no COMMANDS in regvault --help"; exit 1; }
global=$("$REGVAULT" --help | sed -n '/^GLOBAL OPTIONS/,/^[A-Z][A-Z]/p' | entries)
[[ -n $global ]] || { echo "in_step: no GLOBAL OPTIONS in regvault --help"; exit 1; }

# The man page with roff's escapes undone: \- is -, fonts are noise.
man_text=$(sed -e 's/\\-/-/g' -e 's/\\f[BIRP]//g' "$man")
declare -A defined=()
for o in $global; do defined[$o]=1; done
for c in $commands; do
	grep -qE "^\.B[IR]? \"?$c( |\"|$)" <<<"$man_text" || problem "docs/regvault.1: command $c has no entry"
	opts=$("$REGVAULT" help "$c" | sed -n '/^OPTIONS/,/^[A-Z][A-Z]/p' | entries)
	for o in $opts; do defined[$o]=1; done

	# bash: run the completion function as bash would for "regvault CMD --"
	got=$(bash -c '
		source "$1"
		COMP_WORDS=(regvault "$2" --); COMP_CWORD=2
		_regvault
		printf "%s\n" "${COMPREPLY[@]}"' _ "$bash_comp" "$c" | sort -u)
	want=$(printf '%s\n' $opts $global | sort -u)
	if [[ $got != "$want" ]]; then
		problem "completions/regvault.bash: regvault $c --<Tab>: $(diff <(echo "$want") <(echo "$got") | grep -E '^[<>]' | sed 's/^</missing/; s/^>/extra/' | tr '\n' ' ')"
	fi

	# zsh: the command's case must name each option
	block=$(awk -v c="$c" '$0 ~ "^  "c"\\)" {on=1; next} on && /;;/ {print; exit} on {print}' "$zsh_comp")
	[[ -n $block ]] || problem "completions/_regvault: no case for $c"
	for o in $opts; do
		grep -qE -- "['{,*)]$o[]=,}[]" <<<"$block" || problem "completions/_regvault: $c lacks $o"
	done
done
for o in $global; do
	grep -qE -- "['{,*)]$o[]=,}[]" "$zsh_comp" || problem "completions/_regvault: global $o missing"
done

# Other programs' options the man page quotes (skopeo's, kubectl's).
foreign=" --all --preserve-digests --context "
for o in "${!defined[@]}"; do
	grep -qE -- "(^|[^a-z-])$o([^a-z-]|$)" <<<"$man_text" || problem "docs/regvault.1: $o is not described"
done
for o in $(grep -oE -- '(^|[^a-z-])--[a-z][a-z0-9-]*' <<<"$man_text" | grep -oE -- '--[a-z][a-z0-9-]*' | sort -u); do
	[[ -n ${defined[$o]:-} || $foreign == *" $o "* ]] || problem "docs/regvault.1 names $o, which no help text defines"
done

if command -v zsh >/dev/null; then
	zsh -n "$zsh_comp" || problem "completions/_regvault: zsh -n failed"
else
	problem "zsh is not installed (scripts/deps installs it)"
fi
exit $fail
