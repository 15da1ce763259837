#!/usr/bin/env bash
# tests/faults/e2e_test.sh — ctest `faults_e2e`: mirror, backup and restore
# of the prune scenario (82 manifests: multi-layer images, a two-platform
# index, cosign signatures, SBOM artifacts with their referrers fallback
# index, untagged images) through rv-faultproxy at a 10% fault rate with
# every fault (429 with Retry-After 1 or 0, 500, 502, 503, reset, truncate,
# a 100 ms stall, flip), fixed seeds. Each must end with every image there and right,
# proven without regvault (tests/faults/lib.sh: curl straight to the
# registries, tar, sqlite3, sha256sum), and a catalog that records exactly
# what was proven:
#
#  1. mirror SRC-proxy → DST-proxy (in front of the standby): exit 0, no
#     image failed; every manifest, tag and blob on the standby;
#  2. backup SRC-proxy → archive store: exit 0; the volumes unpacked by tar
#     hold every manifest and blob, index.json names every tag; every
#     blob location the catalog records reads back right;
#  3. restore from that archive into the standby through DST-proxy, under a
#     new prefix, of a sample covering every kind (the index, an image with
#     an SBOM and its fallback index, signed images, an untagged image by
#     digest, one image of each repository): each with its closure there;
#  4. catalog verify --deep (standby copies read through DST-proxy, still
#     faulting): exit 0, nothing dropped; the catalog's copy rows for each
#     store are exactly the digests proven there.
# Prints the faults injected per phase ("faults injected" in the closing
# note) and fails when a phase saw fewer than 2% of its requests (or 5) faulted or
# the run as a whole missed a kind of fault.
# Environment: RV_HARNESS_ENV, RV_MKSCENARIO, REGVAULT; RV_FAULTS_RATE
# (default 0.1), RV_FAULTS_STALL_MS (default 100), RV_FAULTS_SCOPE (below).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib.sh"
faults_setup faults-e2e
rate=${RV_FAULTS_RATE:-0.1}
stall=${RV_FAULTS_STALL_MS:-100}
every=429,500,502,503,reset,truncate,stall,flip
prefix=t/scn/faults-e2e-$$
scn=$work/scn
t0=$(date +%s)

# The scenario, pushed straight to plain with skopeo (setup, not under test).
# With RV_FAULTS_SCOPE (below) only that repository is pushed: each image
# in the layout is whole, so it needs nothing of the others.
"$RV_MKSCENARIO" --out "$scn" --now "$(date +%s)" --registry "$RV_REG_PLAIN" --prefix "$prefix" >/dev/null
if [[ -n ${RV_FAULTS_SCOPE:-} ]]; then
	awk -F'\t' -v r="$prefix/$RV_FAULTS_SCOPE" '$2 == r' "$scn/push.tsv" >"$work/push.tsv"
	cp "$work/push.tsv" "$scn/push.tsv"
fi
bash "$faults_root/tests/harness/scenario.sh" "$scn" "$RV_REG_PLAIN" >/dev/null
# The primary's 429s ask for a second (regvault must wait that long); the
# standby's say Retry-After: 0 (regvault falls back to its own backoff).
# Half the 429s at a second each would double the test's time.
proxy src "$RV_REG_PLAIN" --rate "$rate" --faults "$every" --seed 801 --stall-ms "$stall" --retry-after 1
SRC=$PX
proxy dst "$RV_REG_STANDBY" --rate "$rate" --faults "$every" --seed 802 --stall-ms "$stall" --retry-after 0
DST=$PX
echo "scenario pushed, proxies up in $(($(date +%s) - t0)) s"

# RV_FAULTS_SCOPE=REPO (e.g. svc/api): only that repository of the
# scenario (by hand: its index, signatures and SBOM, a third of the
# time).
exp_tsv=$scn/expected.tsv exp_json=$scn/expected.json scope=0
if [[ -n ${RV_FAULTS_SCOPE:-} ]]; then
	scope=1
	exp_tsv=$work/expected.tsv exp_json=$work/expected.json
	awk -F'\t' -v r="$prefix/$RV_FAULTS_SCOPE" '$1 == r' "$scn/expected.tsv" >"$exp_tsv"
	jq --arg r "$prefix/$RV_FAULTS_SCOPE" '.images |= map(select(.repository == $r))' \
		"$scn/expected.json" >"$exp_json"
	[[ -s $exp_tsv ]] || fail "RV_FAULTS_SCOPE=$RV_FAULTS_SCOPE: no such repository in the scenario"
	echo "scope: $RV_FAULTS_SCOPE, $(wc -l <"$exp_tsv") manifests"
fi

# SOURCEs: every repository (all its tags, with indexes' children and
# referrers), and the untagged top-level images by digest.
sources=()
for r in $(cut -f1 "$exp_tsv" | sort -u); do
	sources+=("$SRC/$r")
done
for r in $(jq -r '.images[] | select(.top and (.tags | length) == 0) | .repository + "@" + .digest' "$exp_json"); do
	sources+=("$SRC/$r")
done

# phase NAME LOG... — after a phase: print and check the faults it got.
declare -a all_logs=()
phase() {
	local name=$1
	shift
	count_faults "$@"
	echo "faults injected ($name): $FAULTS_LINE"
	# (reset, truncate and flip need a response body: uploads get fewer)
	((FAULTS_TOTAL >= 5 && FAULTS_TOTAL * 50 >= FAULTS_REQUESTS)) || fail "$name: only $FAULTS_LINE"
	for f in "$@"; do
		cp "$f" "$work/$name.$(basename "$(dirname "$f")").log"
		all_logs+=("$work/$name.$(basename "$(dirname "$f")").log")
		: >"$f"
	done
}

# 1. mirror
t=$(date +%s)
want 0 -o json mirror "${sources[@]}" --to "$DST/$prefix-m"
jq -e '.summary.failed == 0 and .summary.partial == 0 and .summary.copied == (.images | length)' "$work/out" >/dev/null ||
	fail "mirror: $(jq -c .summary "$work/out")"
echo "mirror: $(jq -c .summary "$work/out") in $(($(date +%s) - t)) s"
phase mirror "$(proxy_log src)" "$(proxy_log dst)"
check_registry "$RV_REG_STANDBY" "$prefix-m" "$exp_tsv" || fail "the mirror is not whole on the standby"
cp "$work/checked" "$work/standby.proven"

# 2. backup
t=$(date +%s)
want 0 -o json backup "${sources[@]}" --to "$work/vault"
jq -e '.summary.failed == 0 and .summary.copied == (.images | length)' "$work/out" >/dev/null || fail "backup: $(jq -c .summary "$work/out")"
echo "backup: $(jq -c .summary "$work/out") in $(($(date +%s) - t)) s"
phase backup "$(proxy_log src)"
check_archive "$work/vault" "$SRC" "$exp_tsv" || fail "the archive is not whole"
cp "$work/checked" "$work/vault.proven"
check_volumes || fail "the catalog's volume records do not read back"

# 3. restore a sample from the archive, through DST-proxy, to a new prefix.
# closure DIGEST — expected.tsv-shaped lines of the image and of everything
# that comes with it (index children, signatures, referrers, their indexes).
closure() {
	jq -r --arg d "$1" '
		.images as $all
		| def grow: . as $s
			| ([$all[] | select(. as $i | any($s[]; . == $i.digest or . == $i.parent or . == $i.subject))
			   | .digest] + $s | unique) as $n
			| if ($n | length) == ($s | length) then $s else ($n | grow) end;
		([$d] | grow) as $c
		| $all[] | select(.digest as $x | any($c[]; . == $x)) | select(.digest != $d)
		| [.repository, .digest, (if (.tags | length) > 0 then .tags | join(",") else "-" end)] | @tsv
	' "$exp_json"
}
# The sample: the index, the subject of a kept SBOM, a signed image of each
# svc repository, the untagged deletable image by digest, the first image
# of each base repository.
jq -r '
	[.images[] | select(.kind == "index")][0] as $ix
	| [.images[] | select(.kind == "artifact" and .decision == "keep")][0].subject as $sb
	| [.images[] | select(.kind == "signature") | .subject] as $signed
	| ($ix | .repository + " " + .digest + " " + .tags[0]),
	  (.images[] | select(.digest == $sb) | .repository + " " + .digest + " " + .tags[0]),
	  ([.images[] | select(.kind == "image" and (.tags | length) > 0 and (.digest as $x | $signed | index($x)))]
	   | group_by(.repository)[] | .[0] | .repository + " " + .digest + " " + .tags[0]),
	  (.images[] | select(.top and .class == "untagged") | .repository + " " + .digest + " -"),
	  ([.images[] | select(.kind == "image" and (.repository | test("/base/")) and (.tags | length) > 0)]
	   | group_by(.repository)[] | .[0] | .repository + " " + .digest + " " + .tags[0])
' "$exp_json" | sort -u >"$work/sample"
: >"$work/restored.tsv"
t=$(date +%s)
while read -r repo digest tag; do
	if [[ $tag == - ]]; then
		want 0 restore "$SRC/$repo@$digest" --to "$DST/$prefix-r/$repo" --from-store archive
	else
		want 0 restore "$SRC/$repo:$tag" --to "$DST/$prefix-r/$repo" --from-store archive
	fi
	grep -q "from archive $work/vault" "$work/out" || fail "restore $repo: $(cat "$work/out")"
	printf '%s\t%s\t%s\n' "$repo" "$digest" "$tag" >>"$work/restored.tsv"
	closure "$digest" >>"$work/restored.tsv"
done <"$work/sample"
sort -u -o "$work/restored.tsv" "$work/restored.tsv"
echo "restore: $(wc -l <"$work/sample") images ($(wc -l <"$work/restored.tsv") manifests with what comes along) in $(($(date +%s) - t)) s"
(($(wc -l <"$work/sample") >= (scope ? 2 : 6))) || fail "the restore sample is too small: $(cat "$work/sample")"
phase restore "$(proxy_log dst)"
check_registry "$RV_REG_STANDBY" "$prefix-r" "$work/restored.tsv" || fail "a restored image is not whole"

# 4. verify --deep through the still-faulting proxy: nothing is dropped,
# and the catalog records exactly what was proven in each store.
t=$(date +%s)
want 0 catalog verify --deep
echo "verify --deep: $(tail -n 1 "$work/out") in $(($(date +%s) - t)) s"
phase verify "$(proxy_log dst)"
catalog_copies_are 2 "$DST/$prefix-m" "$work/standby.proven" || fail "the catalog's standby copies differ from what is there"
catalog_copies_are 1 "$work/vault" "$work/vault.proven" || fail "the catalog's archive copies differ from what is there"
check_volumes || fail "the catalog's volume records do not read back after verify"

count_faults "${all_logs[@]}"
echo "faults injected (all phases): $FAULTS_LINE"
# (scoped: a third of the requests, so a rare kind may be missing)
((FAULTS_KINDS >= ${#fault_kinds[@]} - 2 * scope)) || fail "not every kind of fault was injected"
echo "faults_e2e: ok in $(($(date +%s) - t0)) s"
