#!/usr/bin/env bash
# tests/report/browser_test.sh — ctest `prune_report_browser`: the page of
# `regvault prune --report` for a real plan, opened in a real headless
# chromium (Debian's), checked from the DOM chromium dumps after the page's
# script ran (tests/report/dom.py reads it).
#
# The plan is the prune scenario's (tests/harness/README.md "The prune
# scenario"), pushed to the harness registry; one container name in its
# cluster.json carries markup (kubernetes-json is a file: nothing checks
# names), which reaches the page inside a reason. Then:
#
#  1. `-o json prune --report --plan-out`: the page is written with mode
#     0644, and its DOM shows the plan's numbers — the summary (attributes,
#     and the text the terminal prints for the same plan), the bytes per
#     repository computed here by jq from the JSON plan, one row per image
#     with its decision, the deployed/rollback/base markers exactly where a
#     reason says so; the markup stays text (no element, no second script);
#  2. `#q=repo:R` hides every row but R's (the script's `hidden`), and a
#     bare `#q=R` shows exactly the rows that mention R anywhere (jq says
#     which);
#  3. a refused plan still gets its page: --apply of the saved plan under
#     a tighter max_delete (nothing contacted) and --execute (planned, then
#     refused), both exit 3 with REFUSED on the page;
#  4. a bad --report is a usage error before anything is contacted.
# A screenshot (1280x2000) is kept in $RV_ARTIFACTS/prune-report.png.
# Environment: RV_HARNESS_ENV, RV_MKSCENARIO, REGVAULT, RV_ARTIFACTS.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
source "$here/../prune/lib.sh"
command -v chromium >/dev/null || fail "chromium is not installed (scripts/deps installs it)"
: "${RV_ARTIFACTS:?RV_ARTIFACTS must name a directory for the screenshot}"

SCN_QUICK=1 scn_setup report
policy=$scn/policy.yaml
payload='<b id="rvpwn">x</b><script>document.title="pwned"</script>'
jq --arg p "$payload" '(.items[] | select(.kind == "Pod" and .metadata.name == "api-canary")
	| .spec.containers[0].name) |= $p' "$scn/cluster.json" >"$work/cluster.json"
mv "$work/cluster.json" "$scn/cluster.json"

# chromium NAME URL [ARGS...]: the DOM after scripts ran, in $work/NAME.dom;
# a profile of its own (no network: background services off), bounded.
chromium_dom() {
	local name=$1 url=$2
	shift 2
	timeout 150 chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
		--disable-background-networking --disable-component-update --disable-sync \
		--disable-extensions --user-data-dir="$work/chromium-$name" "$@" \
		--dump-dom "$url" >"$work/$name.dom" 2>"$work/chromium-$name.log" ||
		{ tail -n 5 "$work/chromium-$name.log" >&2; fail "chromium ($name) failed on $url"; }
	python3 "$here/dom.py" "$work/$name.dom" >"$work/$name.json" ||
		fail "cannot read the DOM chromium dumped ($name)"
}

# 1. The page of a real plan.
want 0 -o json prune --policy "$policy" --plan-out "$work/plan.json" --report "$work/plan.html"
cmp -s "$work/out" "$work/plan.json" || fail "-o json and --plan-out differ"
plan=$work/plan.json
[[ $(stat -c %a "$work/plan.html") == 644 ]] || fail "the page is not mode 0644"
jq -e '[.images[].reasons[] | select(contains("rvpwn"))] | length == 1' "$plan" >/dev/null ||
	fail "the crafted container name did not reach the plan"
grep -q 'src=\|href=' "$work/plan.html" && fail "the page refers to another resource"

url=file://$work/plan.html
repo=$(jq -r '[.images[].repository | select(endswith("/svc/api"))][0]' "$plan")
# The three loads in parallel (each chromium is mostly waiting).
chromium_dom all "$url" --screenshot="$work/shot.png" --window-size=1280,2000 &
chromium_dom repo "$url#q=repo:$repo" &
chromium_dom text "$url#q=$repo" &
for job in $(jobs -p); do wait "$job" || fail "a chromium run failed"; done

dom=$work/all.json
# The summary: the plan's numbers, and the line the terminal prints.
jq -e --slurpfile d "$dom" '.summary as $s | $d[0].summary as $p
	| ($p.images | tonumber) == (.images | length) and ($p["in-scope"] | tonumber) == $s.inScope
	and ($p.protected | tonumber) == $s.protected and ($p.kept | tonumber) == $s.kept
	and ($p.delete | tonumber) == $s.delete and ($p["max-delete"] | tonumber) == $s.maxDelete
	and ($p.reclaimable | tonumber) == $s.reclaimable and $p.refused == "0"
	and ($p.text | startswith("Protected: \($s.protected) | Kept: \($s.kept) | Delete: \($s.delete) | Reclaimable: "))' \
	"$plan" >/dev/null || fail "the summary differs from the plan: $(jq -c .summary "$dom")"
# The bytes per repository, from the JSON plan's top-level images.
jq -S -n '[inputs.images[] | select(.topLevel)] | group_by(.repository)
	| map({repo: .[0].repository,
	       protected: (map(select(.decision == "keep" and .protected) | .size) | add // 0),
	       kept: (map(select(.decision == "keep" and (.protected | not)) | .size) | add // 0),
	       delete: (map(select(.decision == "delete") | .size) | add // 0)})' \
	"$plan" >"$work/chart.want"
jq -S '.chart | sort_by(.repo)' "$dom" >"$work/chart.got"
diff "$work/chart.want" "$work/chart.got" >&2 || fail "the chart's bytes differ from the plan's"
# One row per image, each with its decision and its markers; the markers
# exactly where a kept image's reason says deployed, rollback, base.
kinds='[(if .decision == "keep" then .reasons[] else empty end)
	| if startswith("deployed: ") then "deployed" elif startswith("rollback: ") then "rollback"
	  elif startswith("base of ") then "base" else empty end] | unique'
jq -S "[.images[] | {repo: .repository, digest, decision: (if .decision == \"delete\" then
	\"delete\" elif .protected then \"protected\" else \"keep\" end), top: .topLevel,
	marks: $kinds}] | sort_by(.repo, .digest)" "$plan" >"$work/rows.want"
jq -S '[.rows[] | {repo, digest, decision, top,
	marks: ([.is[] | select(. == "deployed" or . == "rollback" or . == "base")] | sort)}]
	| sort_by(.repo, .digest)' "$dom" >"$work/rows.got"
diff "$work/rows.want" "$work/rows.got" >&2 || fail "the rows differ from the plan's images"
jq -e '([.rows[] | select((.is | index("deployed")) and (.badges | index("DEPLOYED")))] | length > 0)
	and ([.rows[] | select((.is | index("rollback")) and (.badges | index("ROLLBACK")))] | length > 0)
	and ([.rows[] | select((.is | index("base")) and (.badges | index("BASE")))] | length > 0)
	and ([.rows[] | select(([.is[] | select(. != "rule")] | length) != (.badges | length))]
	     | length == 0)' "$dom" >/dev/null ||
	fail "deployed, rollback and base images do not all carry their badges"
# The markup in the container name stayed text.
jq -e --arg p "$payload" '(.ids | index("rvpwn") | not) and .scripts == 1 and .title != "pwned"
	and ([.rows[].reasons[] | select(contains($p))] | length == 1)' "$dom" >/dev/null ||
	fail "a reason's markup became part of the page"
# The script ran, and with no fragment hides nothing.
jq -e '.query == "" and ([.rows[] | select(.hidden)] | length == 0)
	and (.shown | tonumber) == (.rows | length)' "$dom" >/dev/null ||
	fail "the page's script did not run, or hid rows unasked"

# 2. The filter from the fragment.
n_repo=$(jq --arg r "$repo" '[.images[] | select(.repository == $r)] | length' "$plan")
jq -e --arg r "$repo" --argjson n "$n_repo" '.query == "repo:\($r)"
	and ([.rows[] | select(.hidden | not)] | length == $n and all(.repo == $r))
	and ([.rows[] | select(.hidden)] | length > 0)
	and (.shown | tonumber) == $n
	and ([.sections[] | select(.hidden | not) | .repo] == [$r])' "$work/repo.json" >/dev/null ||
	fail "#q=repo:$repo does not show exactly that repository's $n_repo rows"
jq -S --arg r "$repo" '[.images[] | select(.repository + " " + .digest + " " + (.tags | join(" "))
	+ " " + (.reasons | join(" ")) | ascii_downcase | contains($r)) | .digest] | sort' \
	"$plan" >"$work/text.want"
jq -S '[.rows[] | select(.hidden | not) | .digest] | sort' "$work/text.json" >"$work/text.got"
diff "$work/text.want" "$work/text.got" >&2 || fail "#q=$repo shows other rows than those naming it"
(($(jq length "$work/text.want") > n_repo)) ||
	fail "no row of another repository names $repo (the scenario's bases should)"

# 3. A refused plan gets its page too.
sed 's/^max_delete: .*/max_delete: 5/' "$policy" >"$scn/five.yaml"
want 3 prune --policy "$scn/five.yaml" --apply "$plan" --report "$work/refused.html"
summary=$(tail -n 1 "$work/out")
grep -q 'REFUSED: the plan deletes .* max_delete of .* allows 5' "$work/refused.html" ||
	fail "--apply of a refused plan: no refusal on the page"
grep -qF ">$summary</p>" "$work/refused.html" || fail "the page's summary is not '$summary'"
grep -qF ">$summary</p>" "$work/plan.html" || fail "the page's summary is not '$summary'"
want 3 prune --policy "$scn/five.yaml" --execute --report "$work/exec.html"
grep -q 'data-refused="1"' "$work/exec.html" || fail "--execute refused: no refusal on the page"

# 4. Usage errors contact nothing and write nothing.
want 2 prune --policy "$policy" --report ""
want 2 prune --policy "$policy" --report "$work/no/such/dir/p.html"
grep -q "invalid value '.*/no/such/dir/p.html' for --report" "$work/err" ||
	fail "no usage error for --report's directory: $(cat "$work/err")"

mkdir -p "$RV_ARTIFACTS"
cp "$work/shot.png" "$RV_ARTIFACTS/prune-report.png"
cp "$work/plan.html" "$RV_ARTIFACTS/prune-report.html"
echo "prune_report_browser: $(jq '.rows | length' "$dom") rows; screenshot: $RV_ARTIFACTS/prune-report.png"
