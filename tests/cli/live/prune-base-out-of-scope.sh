#!/usr/bin/env bash
# The base image of a deployed image in a repository out of scope: the
# policy prunes only R/base, and the deployed R/app:v1 (never pruned, out
# of scope) was built FROM R/base:1.0 (its layer list starts with
# base's). Out-of-scope repositories were never read, so nothing named the
# base, and it was deleted. Deployed images of the primary outside the
# scope are read (and left out of the plan) so their bases are protected.
r="t/cli/$$"
reg="http://$RV_REG_PLAIN/v2"
# shellcheck source=../lib/images.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib/images.sh"
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
