#!/usr/bin/env bash
# tests/faults/flip_test.sh — ctest `faults_flip_prune`: a blob that arrives
# corrupted on every read is never recorded as a verified copy, and prune
# refuses to delete the image that needs it (invariant 3).
#
# The prune scenario is generated for, pushed through and pruned through an
# rv-faultproxy in front of plain that flips one byte of every GET of one
# layer (--rate 1 --faults flip --only-path-prefix /v2/REPO/blobs/LAYER):
# the layer of an image the plan deletes and no other manifest uses. The
# safekeeping copies (archive and standby) read it through the proxy. Then
# `prune --policy P --execute`:
#  - exits 1 (some planned deletes were skipped) and says why for the victim;
#  - the victim is still in the registry with its tags, every other image
#    the plan deletes is gone and every kept one is there (curl, directly);
#  - the catalog holds no copy of the victim nor of the layer in any store
#    (sqlite3, and `catalog show -o json`); every archive location it does
#    record reads back right; the volumes hold no blob that fails its name;
#  - `catalog verify --deep` passes.
# Prints the flips injected.
# Environment: RV_HARNESS_ENV, RV_MKSCENARIO, REGVAULT.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib.sh"
faults_setup faults-flip
prefix=t/scn/faults-flip-$$
t0=$(date +%s)

# The victim, from a scenario generated for a placeholder registry: an
# image the plan deletes (no keep rule: class none), with no signature or
# referrer, and one layer no other manifest has. Layers do not depend on
# the registry name; the real scenario is checked to agree below.
# victim DIR — prints "ID REPO DIGEST LAYER".
victim() {
	local id repo digest layer m
	jq -r '[.images[] | .subject // empty] as $subj
		| .images[] | select(.kind == "image" and .top and .decision == "delete"
			and .class == "none" and (.tags | length) > 0 and (.digest as $d | $subj | index($d) | not))
		| .id + " " + .repository + " " + .digest' "$1/expected.json" >"$work/candidates"
	for m in $(jq -r '.images[].digest' "$1/expected.json"); do
		jq -r '.layers[]?.digest' "$1/layout/blobs/sha256/${m#sha256:}"
	done | sort | uniq -u >"$work/unique-layers"
	while read -r id repo digest; do
		for layer in $(jq -r '.layers[].digest' "$1/layout/blobs/sha256/${digest#sha256:}"); do
			if grep -qxF "$layer" "$work/unique-layers"; then
				echo "$id $repo $digest $layer"
				return 0
			fi
		done
	done <"$work/candidates"
	return 1
}
now=$(date +%s)
"$RV_MKSCENARIO" --out "$work/probe" --now "$now" --registry 127.0.0.1:1 --prefix "$prefix" >/dev/null
read -r vid vrepo vdigest vlayer < <(victim "$work/probe") || fail "the scenario has no image to flip"

proxy flip "$RV_REG_PLAIN" --rate 1 --faults flip --only-path-prefix "/v2/$vrepo/blobs/$vlayer"
PRIMARY=$PX
scn=$work/scn
"$RV_MKSCENARIO" --out "$scn" --now "$now" --registry "$PRIMARY" --prefix "$prefix" \
	--standby "$RV_REG_STANDBY/$prefix" >/dev/null
read -r id repo digest layer < <(victim "$scn") || fail "the real scenario has no image to flip"
[[ "$id $repo $digest $layer" == "$vid $vrepo $vdigest $vlayer" ]] ||
	fail "the victim differs with the registry name: $vid $vdigest $vlayer, then $id $digest $layer"
tags=$(jq -r --arg d "$digest" '.images[] | select(.digest == $d) | .tags | join(",")' "$scn/expected.json")
echo "victim: $repo:$tags ($digest), layer $layer flipped on every GET"

# Pushed through the proxy (skopeo HEADs and uploads: nothing to flip).
bash "$faults_root/tests/harness/scenario.sh" "$scn" "$PRIMARY" >/dev/null
# As tests/prune/lib.sh: a scheduled backup would have seen the deletable
# untagged image, which distribution cannot list.
for ref in $(awk -F'\t' '$5 == "untagged" { print $1 "@" $2 }' "$scn/expected.tsv"); do
	want 0 -q backup "$PRIMARY/$ref" --to "$work/earlier-backup"
done
echo "scenario pushed in $(($(date +%s) - t0)) s"

# heads — "DIGEST CODE" for every manifest, by digest, straight from plain.
heads() {
	local args=() r d rest
	while IFS=$'\t' read -r r d rest; do
		args+=(-o /dev/null "http://$RV_REG_PLAIN/v2/$r/manifests/$d")
	done <"$scn/expected.tsv"
	# -w is one format for all: the URL ends in the digest
	curl -s -I -H "Accept: $manifest_accept" -w '%{url_effective} %{http_code}\n' "${args[@]}" |
		awk '/^http/ { n = split($1, p, "/"); print p[n], $2 }'
}

t=$(date +%s)
want 1 prune --policy "$scn/policy.yaml" --execute
echo "prune --execute: exit 1 in $(($(date +%s) - t)) s: $(grep -E '^prune run' "$work/out" "$work/err" | head -n1)"
grep -F "$digest" "$work/err" "$work/out" | grep -qi 'skip' ||
	fail "no line says the victim's delete was skipped: $(tail -n 5 "$work/err")"
grep -qE 'prune run [0-9]+: [0-9]+ deleted, 1 skipped' "$work/out" "$work/err" ||
	fail "want exactly one skipped delete: $(grep -h 'prune run' "$work/out" "$work/err")"

# The registry: the victim and every kept image there, the rest gone.
bad=0
declare -A decision=()
while IFS=$'\t' read -r _ d _ dec _; do decision[$d]=$dec; done <"$scn/expected.tsv"
n=0
while read -r d code; do
	n=$((n + 1))
	w=200
	[[ ${decision[$d]} == delete && $d != "$digest" ]] && w=404
	[[ $code == "$w" ]] || { echo "$d (${decision[$d]}): HTTP $code, want $w" >&2; bad=$((bad + 1)); }
done < <(heads)
((bad == 0 && n == $(wc -l <"$scn/expected.tsv"))) || fail "$bad of $n manifests not as expected after the prune"
IFS=, read -r -a tl <<<"$tags"
for t in "${tl[@]}"; do
	got=$(curl -s -I -H "Accept: $manifest_accept" "http://$RV_REG_PLAIN/v2/$repo/manifests/$t" |
		tr -d '\r' | sed -n 's/^[Dd]ocker-[Cc]ontent-[Dd]igest: *//p')
	[[ $got == "$digest" ]] || fail "tag $t of the victim names '$got', want $digest"
done

# The catalog: no copy of the victim or its layer anywhere.
n=$(sql "SELECT count(*) FROM copies WHERE digest IN ('$digest', '$layer')")
((n == 0)) || fail "the catalog records $n copies of the victim or its flipped layer"
n=$(sql "SELECT count(*) FROM locations WHERE digest = '$layer'")
((n == 0)) || fail "the catalog records $n archive locations of the flipped layer"
n=$(sql "SELECT count(*) FROM copies c JOIN stores s ON s.id = c.store_id WHERE s.location = '$scn/vault' OR s.location = '$RV_REG_STANDBY/$prefix'")
((n > 100)) || fail "the catalog records only $n copies in the policy's stores: did prune copy anything?"
"$REGVAULT" -o json catalog show "$PRIMARY/$repo:${tl[0]}" >"$work/show.json" 2>"$work/err" || true
no_sanitizer_report
if [[ -s $work/show.json ]] && jq -e '.copies | length > 0' "$work/show.json" >/dev/null 2>&1; then
	fail "catalog show lists copies of the victim: $(jq -c .copies "$work/show.json")"
fi
check_volumes || fail "an archive location the catalog records does not read back"
lay=$work/layout
mkdir -p "$lay"
for v in "$scn"/vault/volumes/*.tar; do tar -xf "$v" -C "$lay"; done
for f in "$lay"/blobs/sha256/*; do
	[[ $(sha256sum <"$f" | cut -d' ' -f1) == "$(basename "$f")" ]] || fail "the archive holds blob $(basename "$f") with other bytes"
done
want 0 catalog verify --deep

count_faults "$(proxy_log flip)"
echo "faults injected (flip, prune --execute): $FAULTS_LINE"
flips=$(awk -v p="/v2/$repo/blobs/$layer" '$2 == p && $3 == "flip"' "$(proxy_log flip)" | wc -l)
((flips >= 2 && FAULTS_TOTAL == flips)) || fail "want every fault to be a flip of the layer, at least 2: $FAULTS_LINE"
echo "faults_flip_prune: ok in $(($(date +%s) - t0)) s"
