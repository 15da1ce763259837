#!/usr/bin/env bash
# tests/harness/scenario.sh DIR HOST:PORT — push the prune scenario that
# rv-mkscenario wrote into DIR to the registry HOST:PORT (README.md, "The
# prune scenario").
#
# Every manifest of DIR/push.tsv marked "skopeo" goes up with skopeo (an
# independent client: `copy --all --preserve-digests`, indexes with their
# children, the untagged ones by digest), several at a time; sibling tags,
# and the referrers index skopeo 1.9.3 refuses to copy unchanged (see
# mkscenario.c), are then set with a plain manifest PUT of the same bytes. Afterwards the
# registry holds exactly the tags of DIR/expected.tsv under the scenario's
# prefix (tests/prune/check_registry.sh proves it).
#
# Environment: RV_SCENARIO_JOBS (parallel skopeo copies, default 12),
# RV_SCENARIO_DEST_OPTS (skopeo destination options, default
# --dest-tls-verify=false: loopback plain HTTP).
set -euo pipefail

die() {
	echo "scenario.sh: $*" >&2
	exit 1
}

(($# == 2)) || die "usage: scenario.sh DIR HOST:PORT"
dir=$1 reg=$2
[[ -r $dir/push.tsv && -r $dir/scenario.env ]] || die "$dir: no rv-mkscenario output"
for tool in skopeo curl; do
	command -v "$tool" >/dev/null || die "$tool not found"
done
want=$(sed -n 's/^SCN_REGISTRY=//p' "$dir/scenario.env")
# cluster.json, deployed.txt and policy.yaml name the registry: pushing
# elsewhere would make them lie.
[[ $want == "$reg" ]] || die "$dir was generated for $want, not $reg"

jobs=${RV_SCENARIO_JOBS:-12}
read -r -a dest_opts <<<"${RV_SCENARIO_DEST_OPTS:---dest-tls-verify=false}"
layout=$dir/layout
policy=$dir/skopeo-policy.json
printf '%s\n' '{"default": [{"type": "insecureAcceptAnything"}]}' >"$policy"
logs=$dir/push-logs
rm -rf "$logs"
mkdir -p "$logs"
start=$(date +%s%N)

# push_one ID REPO DIGEST TAGS — the first tag (or the digest) with skopeo.
# A failure is noted in $logs/failed; the caller tries those again.
push_one() {
	local id=$1 repo=$2 digest=$3 tags=$4 dst
	if [[ $tags == - ]]; then
		dst=docker://$reg/$repo@$digest
	else
		dst=docker://$reg/$repo:${tags%%,*}
	fi
	skopeo --policy "$policy" copy --all --preserve-digests --quiet --retry-times 2 \
		"${dest_opts[@]}" "oci:$layout:$id" "$dst" >"$logs/$id" 2>&1 ||
		{
			printf '%s\t%s\t%s\t%s\n' "$id" "$repo" "$digest" "$tags" >>"$logs/failed"
			return 1
		}
}

running=0
while IFS=$'\t' read -r id repo digest _mt tags how; do
	[[ $how == skopeo ]] || continue
	push_one "$id" "$repo" "$digest" "$tags" &
	if ((++running >= jobs)); then
		wait -n || true
		((running--))
	fi
done <"$dir/push.tsv"
while ((running > 0)); do
	wait -n || true
	((running--))
done
# distribution 2.8 answers 500 now and then when many clients push the same
# blobs into one repository at once ("failed to read from destination
# repository"): what failed goes again, one at a time, at most twice.
for attempt in 1 2; do
	[[ -s $logs/failed ]] || break
	mv "$logs/failed" "$logs/failed.$attempt"
	while IFS=$'\t' read -r id repo digest tags; do
		push_one "$id" "$repo" "$digest" "$tags" || true
	done <"$logs/failed.$attempt"
done
if [[ -s $logs/failed ]]; then
	while IFS=$'\t' read -r id _; do
		echo "scenario.sh: skopeo copy of $id failed three times:" >&2
		cat "$logs/$id" >&2
	done <"$logs/failed"
	die "some pushes failed"
fi

# put_manifest REPO DIGEST MEDIA-TYPE TAG — the layout's bytes under TAG.
put_manifest() {
	local repo=$1 digest=$2 mt=$3 tag=$4 said
	said=$(curl -sS -f --max-time 10 -X PUT -H "Content-Type: $mt" \
		--data-binary "@$layout/blobs/sha256/${digest#sha256:}" -D - -o /dev/null \
		"http://$reg/v2/$repo/manifests/$tag" |
		tr -d '\r' | sed -n 's/^[Dd]ocker-[Cc]ontent-[Dd]igest: *//p') ||
		die "PUT $repo:$tag failed"
	[[ $said == "$digest" ]] || die "PUT $repo:$tag: registry says '$said', want $digest"
}

# Every tag of a "put" line (the referrers index: its artifact is up now),
# and the sibling tags of the skopeo lines.
while IFS=$'\t' read -r _id repo digest mt tags how; do
	[[ $tags != - ]] || continue
	IFS=, read -r -a list <<<"$tags"
	[[ $how == put ]] || list=("${list[@]:1}")
	for tag in "${list[@]}"; do
		put_manifest "$repo" "$digest" "$mt" "$tag"
	done
done <"$dir/push.tsv"

end=$(date +%s%N)
n=$(grep -c . "$dir/push.tsv")
echo "scenario.sh: pushed $n manifests to $reg in $(((end - start) / 1000000)) ms" >&2
