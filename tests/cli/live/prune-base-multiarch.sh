#!/usr/bin/env bash
# A multi-arch base image: builds start FROM the index's tag (base:1.0),
# and a deployed app's layer list starts with the layers of the index's
# amd64 child. Protecting only that child left the index to the rules:
# deleting it by digest deleted the tag base:1.0 and broke every FROM.
# The index that lists a protected base (its tag, its other children) is
# kept: the plan deletes only the unrelated image, and after --execute
# curl still finds the index, its tag and both children.
r="t/cli/$$"
reg="http://$RV_REG_PLAIN/v2"
# shellcheck source=../lib/images.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib/images.sh"
child() { # DIGEST ARCH — an index entry
	local size
	size=$(curl -sf -H "Accept: $OM" "$reg/$r/base/manifests/$1" | wc -c)
	printf '{"mediaType":"%s","digest":"%s","size":%d,"platform":{"architecture":"%s","os":"linux"}}' \
		$OM "$1" "$size" "$2"
}
amd=$(image "$r/base" "" amd64 "base amd64 $$") || exit 1
arm=$(image "$r/base" "" arm64 "base arm64 $$") || exit 1
idx=$(manifest "$r/base" 1.0 $OI \
	"{\"schemaVersion\":2,\"mediaType\":\"$OI\",\"manifests\":[$(child "$amd" amd64),$(child "$arm" arm64)]}") || exit 1
image "$r/app" v1 amd64 "base amd64 $$" "app $$" >/dev/null || exit 1
image "$r/old" v0 amd64 "old $$" >/dev/null || exit 1
printf 'version: 1\nregistry: %s\nrepositories: ["%s/*"]\n' "$RV_REG_PLAIN" "$r" >p.yaml
printf 'safekeeping: {archive: ./vault}\ndeployed: [{refs-file: deployed.txt}]\n' >>p.yaml
printf 'keep: [{tags: ["nothing-matches"]}]\nmax_delete: 100%%\n' >>p.yaml
echo "$RV_REG_PLAIN/$r/app:v1" >deployed.txt
regvault --catalog ./cat.db -o json prune --policy ./p.yaml --execute >run.json
echo "prune exit $?"
jq -r --arg r "$r/" '.plan.images[] | "\(.repository | ltrimstr($r)) \(.tags | join(",")) \(.decision) \(.reasons[0])"' \
	run.json | sed -e "s#$r/#R/#g" -e "s#$PWD/##" | sort
code() { curl -s -o /dev/null -w '%{http_code}' -H "Accept: $OI,$OM" "$reg/$r/base/manifests/$1"; }
echo "base:1.0 $(code 1.0) index $(code "$idx") amd64 $(code "$amd") arm64 $(code "$arm")"
