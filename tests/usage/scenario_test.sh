#!/usr/bin/env bash
# tests/usage/scenario_test.sh — ctest `usage_scenario`: `catalog usage
# --policy` on the prune scenario (tests/harness/README.md) agrees with a
# computation that shares no code with regvault: jq over the plan that
# `prune -o json` prints, and every manifest fetched with curl.
#
# The scenario goes into a private registry (usage reads the whole
# registry), plus one repository outside the policy's scope holding a copy
# of an image the plan deletes: its blobs stay, so they must not count as
# reclaimable — the sharing the planner's own "reclaimable" cannot see.
#
# Independently: walk _catalog, every tag and every manifest the plan
# names (untagged ones too), index children recursively; a blob is each
# manifest's own bytes, its config and its layers; freed = blobs that only
# manifests the plan deletes name. Compared: every repository's bytes and
# reclaimable bytes, the registry's bytes and reclaimable bytes, exactly.
# Environment: RV_HARNESS_ENV, RV_MKSCENARIO, REGVAULT.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
source "$here/fixture.sh"
[[ -x ${REGVAULT:-} && -x ${RV_MKSCENARIO:-} ]] || { echo "REGVAULT, RV_MKSCENARIO not set" >&2; exit 1; }
while IFS= read -r l; do [[ $l == *=* ]] && printf -v "${l%%=*}" '%s' "${l#*=}"; done <"$RV_HARNESS_ENV"
work=$(mktemp -d "${TMPDIR:-/tmp}/rv-usage-scn.XXXXXX")
trap 'usage_registry_stop; rm -rf "$work"' EXIT
cd "$work"
export REGVAULT_CATALOG=$work/catalog.db

fail() {
	echo "FAIL: $*" >&2
	exit 1
}

usage_registry_start "$work" >/dev/null
scn=$work/scn
"$RV_MKSCENARIO" --out "$scn" --now "$(date +%s)" --registry "$REG" --prefix t/scn \
	--standby 127.0.0.1:1/unused >/dev/null
bash "$root/tests/harness/scenario.sh" "$scn" "$REG" >/dev/null
# As a scheduled backup would have (tests/prune/lib.sh): the catalog knows
# the scenario's deletable untagged image.
for ref in $(awk -F'\t' '$5 == "untagged" { print $1 "@" $2 }' "$scn/expected.tsv"); do
	"$REGVAULT" -q backup "$REG/$ref" --to "$work/earlier-backup" >/dev/null
done
victim=$(jq -r '[.images[] | select(.decision == "delete" and .class == "none" and
	.kind == "image" and (.tags | length) > 0 and (.tags[0] | startswith("sha256-") | not))][0] |
	.repository + "@" + .digest' "$scn/expected.json")
skopeo copy -q --preserve-digests --policy "$RV_SKOPEO_POLICY" --src-tls-verify=false \
	--dest-tls-verify=false "docker://$REG/$victim" "docker://$REG/outside/keep:v1"

"$REGVAULT" -o json prune --policy "$scn/policy.yaml" >plan.json
"$REGVAULT" -o json catalog usage "$REG" --policy "$scn/policy.yaml" >usage.json

# --- The independent computation --------------------------------------------
accept='application/vnd.oci.image.manifest.v1+json, application/vnd.oci.image.index.v1+json'
accept+=', application/vnd.docker.distribution.manifest.v2+json'
accept+=', application/vnd.docker.distribution.manifest.list.v2+json'
mkdir m r
: >nodes

# fetch_all: every "REPO REF" of the file todo, with one curl (few
# processes: this runs beside the whole suite), each manifest once per
# repository and digest into nodes and m/<hex>; then their index
# children, round after round.
fetch_all() {
	local round=0 args i repo ref
	while [[ -s todo ]]; do
		((round++ < 8)) || fail "indexes nested deeper than 8"
		args=() i=0
		while read -r repo ref; do
			args+=(-o "r/$i" "http://$REG/v2/$repo/manifests/$ref")
			((++i))
		done <todo
		curl -fsS -H "Accept: $accept" "${args[@]}" || fail "fetching manifests"
		# "REPO DIGEST FILE" of what came back, new ones only.
		paste -d' ' todo <(for ((k = 0; k < i; k++)); do echo "r/$k"; done | xargs sha256sum) |
			awk '{ print $1, "sha256:" $3, $4 }' |
			awk 'FILENAME == "nodes" { have[$1 " " $2] = 1; next }
			     !(($1 " " $2) in have) { have[$1 " " $2] = 1; print }' nodes - >new
		[[ -s new ]] || break
		awk '{ print $3, "m/" substr($2, 8) }' new | xargs -n 2 cp
		awk '{ print $1, $2 }' new >>nodes
		rm -f r/*
		# Children of the new indexes, in the repository of their index.
		awk '{ print "m/" substr($2, 8) }' new | sort -u | xargs jq -r \
			'.manifests[]? | "\(input_filename) \(.digest)"' >kids
		awk 'FILENAME == "kids" { k[$1] = k[$1] " " $2; next }
		     { n = split(k["m/" substr($2, 8)], c, " "); for (j = 1; j <= n; j++) print $1, c[j] }' \
			kids new | sort -u >todo
	done
}

: >todo
for repo in $(curl -fsS "http://$REG/v2/_catalog?n=1000" | jq -r '.repositories[]'); do
	curl -fsS "http://$REG/v2/$repo/tags/list" | jq -r '.tags // [] | .[] | "'"$repo"' \(.)"' >>todo
done
jq -r '.images[] | "\(.repository) \(.digest)"' plan.json >>todo
sort -u -o todo todo
fetch_all
jq -r '.images[] | select(.decision == "delete") | "\(.repository) \(.digest)"' plan.json >deleted

# refs: "REPO BLOB SIZE KEPT" for every blob every manifest names — a
# manifest's own bytes (their length), its config and its layers. (A few
# processes for all manifests, not a few per manifest.)
( cd m && wc -c -- * | awk '$2 != "total" { print "sha256:" $2, $1 }' ) >msizes
( cd m && jq -r '(input_filename) as $f | ((.config // empty), (.layers // [] | .[])) |
	"sha256:\($f) \(.digest) \(.size)"' -- * ) >children
awk '
	FILENAME == "deleted" { gone[$1 " " $2] = 1; next }
	FILENAME == "msizes" { msize[$1] = $2; next }
	FILENAME == "children" { n[$1]++; kid[$1, n[$1]] = $2 " " $3; next }
	{
		kept = ($1 " " $2) in gone ? 0 : 1
		print $1, $2, msize[$2], kept
		for (i = 1; i <= n[$2]; i++) print $1, kid[$2, i], kept
	}' deleted msizes children nodes >refs
[[ $(wc -l <nodes) -ge 80 ]] || fail "the walk found only $(wc -l <nodes) manifests"

# Per blob: kept by any manifest? Then per repository (each blob once) and
# for the registry (each blob once).
awk '
	{ size[$2] = $3; if ($4 == 1) kept[$2] = 1; named[$1 " " $2] = 1 }
	END {
		for (b in size) { total += size[b]; if (!(b in kept)) freed += size[b] }
		for (rb in named) {
			split(rb, p, " ")
			bytes[p[1]] += size[p[2]]
			if (!(p[2] in kept)) rec[p[1]] += size[p[2]]
		}
		for (r in bytes) printf "%s %d %d\n", r, bytes[r], rec[r]
		printf "TOTAL %d %d\n", total, freed
	}' refs | sort >want

{
	jq -r '.repositories[] | "\(.repository) \(.bytes) \(.reclaimableBytes)"' usage.json
	jq -r '.total | "TOTAL \(.bytes) \(.reclaimableBytes)"' usage.json
} | sort >got
diff want got >diff.out || fail "catalog usage differs from the independent count (want, got):
$(cat diff.out)"

# The copy outside the scope matters: without it, more would be freed.
awk '$1 != "outside/keep"' refs >refs.in-scope
without=$(awk '{ size[$2] = $3; if ($4 == 1) kept[$2] = 1 }
	END { for (b in size) if (!(b in kept)) f += size[b]; print f }' refs.in-scope)
got=$(jq '.total.reclaimableBytes' usage.json)
((got > 0 && got < without)) ||
	fail "reclaimable $got, and $without without the out-of-scope copy: sharing not counted"
echo "usage_scenario: ok ($(wc -l <nodes) manifests; reclaimable $got of $(jq .total.bytes usage.json) bytes)"
