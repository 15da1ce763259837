#!/usr/bin/env bash
# tests/prune/plan_test.sh — ctest `scenario_prune_plan`: the prune planner
# against the scenario rv-mkscenario builds (tests/harness/README.md, "The
# prune scenario"). Skipped (exit 77) while `regvault prune --help` fails.
#
# Generates and pushes the scenario under t/scn/plan-<pid> of the harness's
# plain registry, makes a dry-run plan with `regvault -o json prune`, and
# compares it with the expectations (check_plan.sh; RV_CHECK_REASONS=1 adds
# --reasons). A dry run must not change the registry: checked afterwards.
# Environment: RV_HARNESS_ENV, RV_MKSCENARIO, REGVAULT.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
if [[ ! -x ${REGVAULT:-} ]] || ! "$REGVAULT" prune --help >/dev/null 2>&1; then
	echo "plan_test: regvault prune is not there yet: skipped"
	exit 77
fi
[[ -r ${RV_HARNESS_ENV:-} ]] || { echo "plan_test: RV_HARNESS_ENV not readable" >&2; exit 1; }
while IFS= read -r l; do [[ $l == *=* ]] && printf -v "${l%%=*}" '%s' "${l#*=}"; done <"$RV_HARNESS_ENV"
gen=${RV_MKSCENARIO:-rv-mkscenario}
work=$(mktemp -d "${TMPDIR:-/tmp}/rv-plan.XXXXXX")
trap 'rm -rf "$work"' EXIT
prefix=t/scn/plan-$$
scn=$work/scn

"$gen" --out "$scn" --now "$(date +%s)" --registry "$RV_REG_PLAIN" --prefix "$prefix" \
	--standby "$RV_REG_STANDBY/$prefix"
bash "$root/tests/harness/scenario.sh" "$scn" "$RV_REG_PLAIN"
bash "$here/check_registry.sh" "$scn" "$RV_REG_PLAIN" pushed >/dev/null

rc=0
REGVAULT_CATALOG=$work/catalog.db "$REGVAULT" -o json prune --policy "$scn/policy.yaml" \
	>"$work/plan.json" 2>"$work/stderr" || rc=$?
if ((rc != 0)); then
	cat "$work/stderr" >&2
	echo "plan_test: regvault prune exited $rc, want 0" >&2
	exit 1
fi
opts=()
[[ ${RV_CHECK_REASONS:-0} == 1 ]] && opts=(--reasons)
bash "$here/check_plan.sh" "$work/plan.json" "$scn" "${opts[@]}" || {
	cp "$work/plan.json" "${TMPDIR:-/tmp}/rv-plan-$$.json" &&
		echo "plan_test: the plan is kept in ${TMPDIR:-/tmp}/rv-plan-$$.json" >&2
	exit 1
}
bash "$here/check_registry.sh" "$scn" "$RV_REG_PLAIN" pushed
