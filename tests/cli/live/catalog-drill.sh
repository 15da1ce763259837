#!/usr/bin/env bash
# catalog verify --drill: images restored from each copy location into a
# scratch registry, pulled back, compared and deleted again. A clean drill
# exits 0 and leaves no drilled manifest behind; the same seed picks the
# same images; a byte flipped in an archive volume, or a blob overwritten
# in the standby registry's storage, is reported for that location only
# (exit 1).
source "$RV_CLI_DIR/../usage/fixture.sh"
# Images of unique random bytes: the standby's blob store is shared by
# every test, and one of its blobs is damaged below.
fixture_dir=$PWD/fx
mkdir -p fx/blobs
{ printf 'RVDRILL-%s-' "$$"; head -c 3000 /dev/urandom; } >fx/blobs/LA
for b in LB LC; do head -c 2000 /dev/urandom >"fx/blobs/$b"; done
for c in C1 C2 C3; do fixture_config "$c-$$"; mv "fx/blobs/$c-$$" "fx/blobs/$c"; done
fixture_manifest V1 C1 LA LB
fixture_manifest V2 C2 LA LC
fixture_manifest V3 C3 LC
REG=$RV_REG_PLAIN
repo=t/cli/$$/app
push_image "$repo" v1 V1 C1 LA LB && push_image "$repo" v2 V2 C2 LA LC &&
	push_image "$repo" v3 V3 C3 LC || exit 1
regvault --catalog ./cat.db -q backup "$REG/$repo" --to ./store >/dev/null || exit 1
regvault --catalog ./cat.db -q mirror "$REG/$repo" --to "$RV_REG_STANDBY/t/cli/$$" >/dev/null ||
	exit 1

# The scratch registry: a private one, so that what is left in it is ours.
trap usage_registry_stop EXIT
usage_registry_start "$PWD" >/dev/null || exit 1
scratch=$REG
REG=$RV_REG_PLAIN
names() { sed -e "s|$(pwd -P)|CWD|g" -e "s|/$$\([/ :]\)|/PID\1|g"; }

regvault --catalog ./cat.db catalog verify --drill 2 --to "$scratch" --seed 42 | names
echo "exit ${PIPESTATUS[0]}"
regvault --catalog ./cat.db -o json catalog verify --drill 2 --to "$scratch" --seed 42 >d.json
echo "exit $?"
# Replayed: the same two images from each location, in the same order.
jq -r '.locations[] | .storeKind + " " + ([.images[].digest] | join(" "))' d.json >d.picks
regvault --catalog ./cat.db -o json catalog verify --drill 2 --to "$scratch" --seed 42 |
	jq -r '.locations[] | .storeKind + " " + ([.images[].digest] | join(" "))' | diff - d.picks &&
	echo "replayed"
jq -c '[.seed, .perLocation, .drilled, .failed, ([.locations[] | .held, .drilled, (.bytes > 0)])]' d.json
# left SCRATCH-JSON...: how the scratch registry answers for every
# manifest the drills restored (by digest: no tag is ever set there).
left() {
	local ref r
	for ref in $(jq -r '.locations[].images[].restoredAs' "$@"); do
		r=${ref#"$scratch"/}
		curl -s -o /dev/null -w '%{http_code}\n' -I -H "Accept: $RV_MANIFEST_ACCEPT" \
			"http://$scratch/v2/${r%@*}/manifests/${r#*@}"
	done | sort | uniq -c | sed 's/^ *//'
}
# failures JSON: per location, how many failed and the first error.
failures() {
	jq -r '.locations[] | .storeKind + " " + (.failed | tostring) + " " +
		([.images[] | select(.status == "failed") | .error.message][0] // "-" |
		 if test("does not match|DIGEST_INVALID") then "digest mismatch" else . end)' "$1"
}
left d.json

# One byte flipped in the archive volume, inside LA (v1 and v2 use it):
# the archive's drill fails for those two, the standby's passes.
vol=$(grep -l -a "RVDRILL-$$-" store/volumes/*.tar)
off=$(grep -obUa "RVDRILL-$$-" "$vol" | head -n1 | cut -d: -f1)
printf X | dd of="$vol" bs=1 seek="$off" conv=notrunc status=none || exit 1
regvault --catalog ./cat.db -q -o json catalog verify --drill 3 --to "$scratch" >bad1.json 2>/dev/null
echo "exit $?"
printf R | dd of="$vol" bs=1 seek="$off" conv=notrunc status=none || exit 1
failures bad1.json

# LA overwritten in the standby's storage (same length, other bytes): now
# the standby's drill fails, the archive's passes.
hex=$(fixture_digest LA | cut -d: -f2)
data=$RV_REG_STANDBY_ROOT/docker/registry/v2/blobs/sha256/${hex:0:2}/$hex/data
[[ -f $data ]] || { echo "no $data"; exit 1; }
printf X | dd of="$data" bs=1 seek=0 conv=notrunc status=none || exit 1
regvault --catalog ./cat.db -q -o json catalog verify --drill 3 --to "$scratch" >bad2.json 2>/dev/null
echo "exit $?"
cp fx/blobs/LA "$data"
failures bad2.json
# Failed drills clean up too.
left bad1.json bad2.json
regvault --catalog ./cat.db -q catalog verify --drill 3 --to "$scratch" >/dev/null
echo "exit $?"
