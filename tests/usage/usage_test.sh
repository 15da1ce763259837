#!/usr/bin/env bash
# tests/usage/usage_test.sh — ctest `usage_fixture`: `catalog usage` counts
# exactly what the registry stores, against numbers worked out by hand for
# the fixture of fixture.sh (a private registry holding nothing else).
#
#  1. the fixture's files have the sizes the arithmetic below starts from;
#  2. every repository's bytes, shared and unique bytes, and the registry's
#     total (each blob once), to the byte; the untagged manifest OLD is
#     invisible (nothing lists it);
#  3. a repository glob selects rows but sharing still spans the registry;
#  4. once the catalog has seen OLD (a backup by digest) it counts;
#  5. --policy: what the plan frees, sharing with repositories outside
#     the policy's scope counted; the cost at a given price;
#  6. a policy for another registry, a bad price: exit 2, nothing read.
# Environment: REGVAULT (and docker-registry, curl, jq on PATH); KEEP=1
# keeps the work directory.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
source "$here/fixture.sh"
[[ -x ${REGVAULT:-} ]] || { echo "REGVAULT not set" >&2; exit 1; }
work=$(mktemp -d "${TMPDIR:-/tmp}/rv-usage.XXXXXX")
trap 'usage_registry_stop; [[ -n ${KEEP:-} ]] || rm -rf "$work"' EXIT
cd "$work"
export REGVAULT_CATALOG=$work/catalog.db

fail() {
	echo "FAIL: $*" >&2
	exit 1
}

# expect WHAT GOT WANT
expect() {
	[[ $2 == "$3" ]] || fail "$1: got $2, want $3"
}

usage_registry_start "$work" >/dev/null
usage_fixture_push "$work"

# 1. The sizes everything below adds up.
for b in L1:1000 L2:2000 L3:3000 L4:4000 L5:5000 C1:100 C2:100 C3:100 C4:100 \
	WEB1:547 WEB2:547 API:697 OS:397 JOB:397 OLD:397; do
	expect "size of ${b%%:*}" "$(fixture_size "${b%%:*}")" "${b#*:}"
done

rows='[.repositories[] | [.repository, .tags, .manifests, .bytes, .sharedBytes, .uniqueBytes]]'
totals='.total | [.repositories, .manifests, .untaggedManifests, .blobs, .bytes, .sharedBytes, .uniqueBytes]'

# 2. Which repositories name each blob (every blob stored once):
#      L1: app/web app/api base/os mirror/web      C1: app/web mirror/web
#      L2: app/web app/api mirror/web              C3: app/api tools/job
#      WEB1: app/web mirror/web                    the rest: one repository each
#
#   app/web    WEB1+WEB2+C1+C2+L1+L2+L3 = 547+547+100+100+1000+2000+3000 = 7294
#              shared WEB1+C1+L1+L2 = 547+100+1000+2000 = 3647; unique WEB2+C2+L3 = 3647
#   app/api    API+C3+L1+L2+L4 = 697+100+1000+2000+4000 = 7797
#              shared C3+L1+L2 = 3100; unique API+L4 = 4697
#   base/os    OS+C4+L1 = 397+100+1000 = 1497; shared L1 = 1000; unique 497
#   mirror/web WEB1+C1+L1+L2 = 3647, all shared
#   tools/job  JOB+C3+L5 = 397+100+5000 = 5497; shared C3 = 100; unique 5397
#   registry   L1..L5 15000 + C1..C4 400 + WEB1 WEB2 API OS JOB 2585 = 17985 in 14 blobs;
#              shared WEB1+C1+C3+L1+L2 = 3747, unique 17985-3747 = 14238;
#              6 manifests (WEB1 counts in both its repositories), OLD not among them.
"$REGVAULT" -o json catalog usage "$REG" >u1.json
expect "rows" "$(jq -c "$rows" u1.json)" \
	'[["app/api",2,1,7797,3100,4697],["app/web",2,2,7294,3647,3647],["base/os",1,1,1497,1000,497],["mirror/web",1,1,3647,3647,0],["tools/job",1,1,5497,100,5397]]'
expect "totals" "$(jq -c "$totals" u1.json)" '[5,6,0,14,17985,3747,14238]'
expect "no plan" "$(jq -c '[.policy, .total.reclaimableBytes, .repositories[0].reclaimableBytes]' u1.json)" \
	'[null,null,null]'

# 3. Rows of app/* only; shared bytes still count base/os and mirror/web.
"$REGVAULT" -o json catalog usage "$REG/app/*" >u2.json
expect "app/* rows" "$(jq -c "$rows" u2.json)" \
	'[["app/api",2,1,7797,3100,4697],["app/web",2,2,7294,3647,3647]]'
expect "app/* totals" "$(jq -c "$totals" u2.json)" '[5,6,0,14,17985,3747,14238]'

# 4. A backup by digest makes the catalog remember OLD: app/web gains
#    OLD = 397 bytes (its C2 and L3 were counted already), unique too:
#    7294+397 = 7691, unique 3647+397 = 4044; the registry 17985+397 = 18382
#    in 15 blobs, unique 14238+397 = 14635; 7 manifests, 1 untagged.
"$REGVAULT" -q backup "$REG/app/web@$D_OLD" --to "$work/vault" >/dev/null
"$REGVAULT" -o json catalog usage "$REG" >u3.json
expect "app/web with OLD" "$(jq -c '.repositories[] | select(.repository == "app/web") |
	[.manifests, .bytes, .sharedBytes, .uniqueBytes]' u3.json)" '[3,7691,3647,4044]'
expect "totals with OLD" "$(jq -c "$totals" u3.json)" '[5,7,1,15,18382,3747,14635]'

# 5. The policy keeps app/web:v2 only, in app/* only; deletes app/web:v1
#    (WEB1), OLD (untagged: delete) and app/api (API, both tags).
#    Freed: a blob only deleted manifests name —
#      WEB1 C1 L1 L2   no: mirror/web:v1 (out of scope) still names them
#      C2 L3           no: WEB2 is kept          C3  no: tools/job (out of scope)
#      OLD + API + L4  yes: 397 + 697 + 4000 = 5094
#    per repository: app/web OLD = 397; app/api API+L4 = 4697; others 0.
#    Cost at $1000 per GB-month: 18382 B = 0.018382 $/month; freed 0.005094.
cat >policy.yaml <<EOF
version: 1
registry: $REG
repositories: ["app/*"]
safekeeping:
  archive: $work/vault
deployed: none
keep:
  - tags: ["v2"]
untagged: delete
max_delete: 100%
EOF
"$REGVAULT" -o json catalog usage "$REG" --policy policy.yaml --price-per-gb-month 1000 >u4.json
expect "reclaimable" "$(jq -c '[.repositories[] | [.repository, .manifestsDeleted, .reclaimableBytes]]' u4.json)" \
	'[["app/api",1,4697],["app/web",2,397],["base/os",0,0],["mirror/web",0,0],["tools/job",0,0]]'
expect "total reclaimable" "$(jq -c '.total.reclaimableBytes' u4.json)" 5094
expect "cost" "$(jq -c '[.pricePerGBMonth, (.total.costPerMonth - 0.018382 | fabs < 1e-12),
	(.total.reclaimableCostPerMonth - 0.005094 | fabs < 1e-12),
	(.repositories[0].uniqueCostPerMonth - 0.004697 | fabs < 1e-12)]' u4.json)" '[1000,true,true,true]'
expect "policy named" "$(jq -r .policy u4.json)" policy.yaml
# Nothing was deleted: it is a plan.
expect "WEB1 still there" "$(curl -s -o /dev/null -w '%{http_code}' -I \
	-H 'Accept: application/vnd.oci.image.manifest.v1+json' "http://$REG/v2/app/web/manifests/v1")" 200

# 6. Refusals before anything is read.
rc=0
sed "s/^registry: .*/registry: 127.0.0.1:1/" policy.yaml >other.yaml
"$REGVAULT" catalog usage "$REG" --policy other.yaml >out 2>err || rc=$?
expect "policy for another registry: exit" "$rc" 2
grep -q 'prunes "127.0.0.1:1"' err || fail "no registry mismatch message in: $(cat err)"
rc=0
"$REGVAULT" catalog usage "$REG" --price-per-gb-month -1 >out 2>err || rc=$?
expect "negative price: exit" "$rc" 2
echo "usage_fixture: ok"
