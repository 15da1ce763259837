#!/usr/bin/env bash
# tests/prune/check_registry.sh DIR HOST:PORT [pushed|pruned]
#
# Compares what the registry holds under the prune scenario's prefix with
# DIR/expected.tsv (tests/harness/mkscenario.c, README.md "The prune
# scenario") and prints every difference; exit 1 when there is one.
#
#   pushed (default)  every manifest of expected.tsv is there: fetched by
#                     digest its bytes hash to that digest (and
#                     Docker-Content-Digest says so), each tag resolves to it,
#                     and each repository lists exactly the expected tags;
#                     the catalog lists exactly the scenario's repositories.
#   pruned            after `regvault prune --execute`: the "keep" lines as
#                     above, the "delete" lines answer 404 by digest, and
#                     each repository lists exactly the kept tags.
#
# Only curl, sha256sum and jq. Plain HTTP (loopback registries).
set -uo pipefail

die() {
	echo "check_registry: $*" >&2
	exit 2
}

(($# >= 2 && $# <= 3)) || die "usage: check_registry.sh DIR HOST:PORT [pushed|pruned]"
dir=$1 reg=$2 mode=${3:-pushed}
[[ $mode == pushed || $mode == pruned ]] || die "mode must be pushed or pruned, not '$mode'"
[[ -r $dir/expected.tsv && -r $dir/scenario.env ]] || die "$dir: no rv-mkscenario output"
prefix=$(sed -n 's/^SCN_PREFIX=//p' "$dir/scenario.env")
[[ -n $prefix ]] || die "$dir/scenario.env: no SCN_PREFIX"

accept='application/vnd.oci.image.index.v1+json,application/vnd.oci.image.manifest.v1+json,application/vnd.docker.distribution.manifest.list.v2+json,application/vnd.docker.distribution.manifest.v2+json'
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
ndiff=0
report() {
	echo "check_registry: $*"
	((ndiff++))
}

# get URL — body to $tmp/body, prints "STATUS DOCKER-CONTENT-DIGEST".
get() {
	local code said
	code=$(curl -s --max-time 10 -H "Accept: $accept" -D "$tmp/hdr" -o "$tmp/body" \
		-w '%{http_code}' "$1") || code=000
	said=$(tr -d '\r' <"$tmp/hdr" 2>/dev/null | sed -n 's/^[Dd]ocker-[Cc]ontent-[Dd]igest: *//p' |
		tail -n1)
	echo "$code ${said:--}"
}

declare -A want_tags=() # repository → sorted, space-separated tags that must exist
declare -A repos=()
images=0 tagged=0
while IFS=$'\t' read -r repo digest tags decision class; do
	[[ -n $repo ]] || continue
	repos[$repo]=1
	want_tags[$repo]=${want_tags[$repo]-}
	((images++))
	present=1
	[[ $mode == pruned && $decision == delete ]] && present=0
	read -r code said <<<"$(get "http://$reg/v2/$repo/manifests/$digest")"
	if ((!present)); then
		[[ $code == 404 ]] || report "$repo@$digest ($tags, $class): HTTP $code by digest, want 404 (deleted)"
		continue
	fi
	if [[ $code != 200 ]]; then
		report "$repo@$digest ($tags, $decision $class): HTTP $code by digest, want 200"
		continue
	fi
	sum=sha256:$(sha256sum <"$tmp/body" | cut -d' ' -f1)
	[[ $sum == "$digest" ]] || report "$repo@$digest: the bytes hash to $sum"
	[[ $said == "$digest" ]] || report "$repo@$digest: Docker-Content-Digest $said"
	[[ $tags == - ]] && continue
	IFS=, read -r -a list <<<"$tags"
	for tag in "${list[@]}"; do
		((tagged++))
		want_tags[$repo]+=" $tag"
		read -r code said <<<"$(get "http://$reg/v2/$repo/manifests/$tag")"
		[[ $code == 200 && $said == "$digest" ]] ||
			report "$repo:$tag: HTTP $code, digest $said, want 200 $digest"
	done
done <"$dir/expected.tsv"

# Exactly the expected tags, no more (a repository whose every manifest was
# deleted may answer 404 or list no tags).
for repo in "${!repos[@]}"; do
	read -r code _ <<<"$(get "http://$reg/v2/$repo/tags/list?n=10000")"
	have=""
	[[ $code == 200 ]] && have=$(jq -r '(.tags // [])[]' "$tmp/body" | LC_ALL=C sort | tr '\n' ' ')
	want=$(tr ' ' '\n' <<<"${want_tags[$repo]}" | grep -v '^$' | LC_ALL=C sort | tr '\n' ' ')
	if [[ $have != "$want" ]]; then
		extra=$(comm -23 <(tr ' ' '\n' <<<"$have" | grep -v '^$') <(tr ' ' '\n' <<<"$want" | grep -v '^$') | tr '\n' ' ')
		missing=$(comm -13 <(tr ' ' '\n' <<<"$have" | grep -v '^$') <(tr ' ' '\n' <<<"$want" | grep -v '^$') | tr '\n' ' ')
		report "$repo: tags/list (HTTP $code) has extra [${extra% }] missing [${missing% }]"
	fi
done

# The catalog: the scenario's repositories (after a prune they remain listed
# even when empty: the registry never forgets a repository).
read -r code _ <<<"$(get "http://$reg/v2/_catalog?n=1000&last=$prefix")"
if [[ $code == 200 ]]; then
	have=$(jq -r '.repositories[]' "$tmp/body" | awk -v p="$prefix/" 'index($0, p) == 1' | LC_ALL=C sort | tr '\n' ' ')
	want=$(printf '%s\n' "${!repos[@]}" | LC_ALL=C sort | tr '\n' ' ')
	[[ $have == "$want" ]] || report "catalog under $prefix/: [${have% }], want [${want% }]"
else
	report "_catalog: HTTP $code"
fi

if ((ndiff)); then
	echo "check_registry: $ndiff difference(s) ($mode, $images manifests, $tagged tags)"
	exit 1
fi
echo "check_registry: $mode OK: $images manifests, $tagged tags, ${#repos[@]} repositories under $prefix"
