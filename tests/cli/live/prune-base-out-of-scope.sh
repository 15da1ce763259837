#!/usr/bin/env bash
# The base image of a deployed image in a repository out of scope: the
# policy prunes only R/base, and the deployed R/app:v1 (never pruned, out
# of scope) was built FROM R/base:1.0 (its layer list starts with
# base's). Out-of-scope repositories were never read, so nothing named the
# base, and it was deleted. Deployed images of the primary outside the
# scope are read (and left out of the plan) so their bases are protected.
r="t/cli/$$"
reg="http://$RV_REG_PLAIN/v2"
OM=application/vnd.oci.image.manifest.v1+json
sha() { printf 'sha256:%s' "$(sha256sum | cut -d' ' -f1)"; }
blob() { # REPO TEXT MEDIATYPE — pushes TEXT, prints its descriptor
	local d loc
	d=$(printf '%s' "$2" | sha)
	loc=$(curl -sf -D - -o /dev/null -X POST "$reg/$1/blobs/uploads/" |
		tr -d '\r' | awk 'tolower($1) == "location:" { print $2 }')
	[[ $loc == http* ]] || loc="http://$RV_REG_PLAIN$loc"
	if [[ $loc == *\?* ]]; then loc+="&digest=$d"; else loc+="?digest=$d"; fi
	printf '%s' "$2" | curl -sf -X PUT -H 'Content-Type: application/octet-stream' \
		--data-binary @- "$loc" >/dev/null || return 1
	printf '{"mediaType":"%s","digest":"%s","size":%d}' "$3" "$d" "${#2}"
}
manifest() { # REPO TAG|"" MEDIATYPE JSON — pushes it (by digest without a tag)
	local d
	d=$(printf '%s' "$4" | sha)
	printf '%s' "$4" | curl -sf -X PUT -H "Content-Type: $3" --data-binary @- \
		"$reg/$1/manifests/${2:-$d}" >/dev/null || return 1
	echo "$d"
}
image() { # REPO TAG|"" ARCH LAYER-TEXT... — prints the manifest's digest
	local repo=$1 tag=$2 arch=$3 layers="" diffs="" l cfg
	shift 3
	for l in "$@"; do
		layers+="${layers:+,}$(blob "$repo" "$l" application/vnd.oci.image.layer.v1.tar+gzip)" || return 1
		diffs+="${diffs:+,}\"$(printf '%s' "$l" | sha)\""
	done
	cfg="{\"architecture\":\"$arch\",\"os\":\"linux\",\"created\":\"2024-01-01T00:00:00Z\",\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[$diffs]}}"
	cfg=$(blob "$repo" "$cfg" application/vnd.oci.image.config.v1+json) || return 1
	manifest "$repo" "$tag" $OM "{\"schemaVersion\":2,\"mediaType\":\"$OM\",\"config\":$cfg,\"layers\":[$layers]}"
}
image "$r/base" 1.0 amd64 "base $$" >/dev/null || exit 1
image "$r/base" 0.9 amd64 "old base $$" >/dev/null || exit 1
image "$r/app" v1 amd64 "base $$" "app $$" >/dev/null || exit 1
printf 'version: 1\nregistry: %s\nrepositories: ["%s/base"]\n' "$RV_REG_PLAIN" "$r" >p.yaml
printf 'safekeeping: {archive: ./vault}\ndeployed: [{refs-file: deployed.txt}]\n' >>p.yaml
printf 'keep: [{tags: ["nothing-matches"]}]\nmax_delete: 100%%\n' >>p.yaml
echo "$RV_REG_PLAIN/$r/app:v1" >deployed.txt
regvault --catalog ./cat.db -o json prune --policy ./p.yaml --execute >run.json
echo "prune exit $?"
jq -r --arg r "$r/" '.plan.images[] | "\(.repository | ltrimstr($r)) \(.tags | join(",")) \(.decision) \(.reasons[0])"' \
	run.json | sed -e "s#$r/#R/#g" | sort
jq -r '.plan.summary | "in scope \(.inScope), protected \(.protected), delete \(.delete)"' run.json
code() { curl -s -o /dev/null -w '%{http_code}' -H "Accept: $OM" "$reg/$r/$1/manifests/$2"; }
echo "base:1.0 $(code base 1.0) base:0.9 $(code base 0.9) app:v1 $(code app v1)"
