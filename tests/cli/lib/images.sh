# tests/cli/lib/images.sh — push hand-made OCI images with curl, for live
# cases whose shapes the fixtures do not have (bases by layer prefix,
# indexes of untagged children). Source it from a case:
#   . "$(dirname "${BASH_SOURCE[0]}")/../lib/images.sh"
# It needs $reg, the registry's API root ("http://HOST:PORT/v2").
OM=application/vnd.oci.image.manifest.v1+json
OI=application/vnd.oci.image.index.v1+json
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
