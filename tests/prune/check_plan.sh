#!/usr/bin/env bash
# tests/prune/check_plan.sh PLAN.json DIR [--reasons]
#
# Compares a prune plan (`regvault -o json prune --policy DIR/policy.yaml`,
# the plan document of ARCHITECTURE.md: {"registry", "images":[{"repository",
# "digest", "tags", "created", "size", "decision", "reasons"}], "summary"})
# with the expectations rv-mkscenario derived for the scenario in DIR
# (expected.tsv, expected-summary; tests/harness/README.md "The prune
# scenario"). Prints every difference, one per line; exit 0 when there is
# none, 1 otherwise, 2 on bad input.
#
# Checked: the registry; that the plan lists every expected manifest and no
# other under the scenario's prefix; each image's tags (as a set) and
# decision; the summary's top-level counts where the plan gives them
# (summary.protected, summary.kept, summary.delete|deleted); that the plan
# is not refused. With --reasons, also that some reason of each kept image
# names its expected class (see class_re below); the wording of reasons is
# the planner's, so this is opt-in.
#
# A plan's repository may be written with or without "HOST:PORT/".
set -uo pipefail

die() {
	echo "check_plan: $*" >&2
	exit 2
}

(($# >= 2 && $# <= 3)) || die "usage: check_plan.sh PLAN.json DIR [--reasons]"
plan=$1 dir=$2 reasons=0
if (($# == 3)); then
	[[ $3 == --reasons ]] || die "unknown option '$3'"
	reasons=1
fi
command -v jq >/dev/null || die "jq not found"
[[ -r $dir/expected.tsv && -r $dir/expected-summary && -r $dir/scenario.env ]] ||
	die "$dir: no rv-mkscenario output"
jq -e '.images | type == "array"' "$plan" >/dev/null 2>&1 || die "$plan: not a plan document (no images array)"
registry=$(sed -n 's/^SCN_REGISTRY=//p' "$dir/scenario.env")
prefix=$(sed -n 's/^SCN_PREFIX=//p' "$dir/scenario.env")

ndiff=0
report() {
	echo "check_plan: $*"
	((ndiff++))
}

# A reason that names the class (case-insensitive extended regex).
class_re() {
	case $1 in
	deployed) echo 'deployed' ;;
	rollback) echo 'rollback' ;;
	protect) echo 'protect' ;;
	base) echo 'base' ;;
	referrer) echo 'signature|referrer|subject|attach' ;;
	child) echo 'child|index|platform' ;;
	rule:*) echo "rule ${1#rule:}([^0-9]|$)" ;;
	untagged) echo 'untagged' ;;
	*) echo '' ;;
	esac
}

have_registry=$(jq -r '.registry // ""' "$plan")
[[ $have_registry == "$registry" ]] || report "registry is '$have_registry', want '$registry'"
refused=$(jq -r '(.refused // .summary.refused // false) | tostring' "$plan")
[[ $refused == false || $refused == null || $refused == 0 ]] ||
	report "the plan is refused ($(jq -c '.refusal // .summary.refusal // .summary' "$plan"))"

# The plan as TSV: repository (host stripped), digest, sorted tags ("-" for
# none: `read` would merge two tabs), decision, reasons.
declare -A p_tags=() p_dec=() p_why=() seen=()
while IFS=$'\t' read -r repo digest tags decision why; do
	repo=${repo#"$registry/"}
	key=$repo@$digest
	[[ -z ${p_dec[$key]+x} ]] || report "$key is listed twice in the plan"
	p_tags[$key]=$tags
	p_dec[$key]=$decision
	p_why[$key]=$why
done < <(jq -r '.images[] | [.repository, .digest,
	((.tags // []) | if length == 0 then "-" else sort | join(",") end), (.decision // "?"),
	((.reasons // []) | map(tostring) | join(" | "))] | @tsv' "$plan")

n=0
while IFS=$'\t' read -r repo digest tags decision class; do
	[[ -n $repo ]] || continue
	((n++))
	key=$repo@$digest
	seen[$key]=1
	if [[ -z ${p_dec[$key]+x} ]]; then
		report "$key ($tags): missing from the plan (want $decision, $class)"
		continue
	fi
	[[ ${p_tags[$key]} == "$tags" ]] || report "$key: tags [${p_tags[$key]}], want [$tags]"
	why=${p_why[$key]:-none}
	((${#why} <= 300)) || why="${why:0:300}..."
	if [[ ${p_dec[$key]} != "$decision" ]]; then
		report "$key ($tags): ${p_dec[$key]}, want $decision ($class); plan's reasons: $why"
	elif ((reasons)) && [[ $decision == keep ]]; then
		re=$(class_re "$class")
		[[ -z $re ]] || grep -qiE "$re" <<<"${p_why[$key]}" ||
			report "$key ($tags): kept, but no reason names '$class': $why"
	fi
done <"$dir/expected.tsv"

for key in "${!p_dec[@]}"; do
	[[ -n ${seen[$key]+x} ]] && continue
	if [[ $key == "$prefix/"* ]]; then
		report "$key (${p_tags[$key]}): in the plan (${p_dec[$key]}) but not in the scenario"
	else
		report "$key: outside the scenario's repositories ($prefix/*) but in the plan"
	fi
done

# Top-level counts, where the plan's summary gives them.
get_sum() { sed -n "s/^$1=//p" "$dir/expected-summary"; }
compared=0
for pair in protected:protected kept:kept delete:delete delete:deleted; do
	want_key=${pair%%:*} plan_key=${pair#*:}
	have=$(jq -r --arg k "$plan_key" '.summary[$k] // empty | numbers' "$plan" 2>/dev/null)
	[[ -n $have ]] || continue
	((compared++))
	want=$(get_sum "$want_key")
	[[ $have == "$want" ]] || report "summary.$plan_key is $have, want $want"
done
((compared)) || echo "check_plan: note: no numeric summary.protected/kept/delete(d) to compare"

if ((ndiff)); then
	echo "check_plan: $ndiff difference(s) against $n expected manifests"
	exit 1
fi
echo "check_plan: OK: $n manifests decided as expected"
