#!/usr/bin/env bash
# tests/harness/scenario_test.sh — ctest `scenario_push`: generate the prune
# scenario for the harness's plain registry under t/scn/<pid>, push it with
# scenario.sh, and prove with curl that the registry holds exactly what
# expected.tsv describes (tests/prune/check_registry.sh). So the
# expectations are about what is really in the registry.
# Environment: RV_HARNESS_ENV, RV_MKSCENARIO.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
[[ -r ${RV_HARNESS_ENV:-} ]] || { echo "scenario_test: RV_HARNESS_ENV not readable" >&2; exit 1; }
while IFS= read -r l; do [[ $l == *=* ]] && printf -v "${l%%=*}" '%s' "${l#*=}"; done <"$RV_HARNESS_ENV"
gen=${RV_MKSCENARIO:-rv-mkscenario}
work=$(mktemp -d "${TMPDIR:-/tmp}/rv-scenario.XXXXXX")
trap 'rm -rf "$work"' EXIT
prefix=t/scn/$$

t0=$(date +%s%N)
"$gen" --out "$work/scn" --now "$(date +%s)" --registry "$RV_REG_PLAIN" --prefix "$prefix" \
	--standby "$RV_REG_STANDBY/$prefix"
t1=$(date +%s%N)
bash "$here/scenario.sh" "$work/scn" "$RV_REG_PLAIN"
t2=$(date +%s%N)
bash "$root/tests/prune/check_registry.sh" "$work/scn" "$RV_REG_PLAIN" pushed
t3=$(date +%s%N)
cat "$work/scn/expected-summary"
echo "scenario_test: generate $(((t1 - t0) / 1000000)) ms, push $(((t2 - t1) / 1000000)) ms," \
	"check $(((t3 - t2) / 1000000)) ms"
