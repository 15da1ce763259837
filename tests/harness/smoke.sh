#!/bin/bash
# tests/harness/smoke.sh — does the harness serve what README.md promises?
# Plain curl against the running registries (needs $RV_HARNESS_ENV).
set -uo pipefail

[[ -r ${RV_HARNESS_ENV:-} ]] || {
	echo "smoke: RV_HARNESS_ENV is not set or unreadable; is harness_up done?" >&2
	exit 1
}
while IFS= read -r line; do
	[[ $line == *=* ]] || continue
	printf -v "${line%%=*}" '%s' "${line#*=}"
done <"$RV_HARNESS_ENV"

ACCEPT='application/vnd.oci.image.index.v1+json,application/vnd.oci.image.manifest.v1+json,application/vnd.docker.distribution.manifest.list.v2+json,application/vnd.docker.distribution.manifest.v2+json'
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
fails=0
ok() { echo "ok   $*"; }
bad() {
	echo "FAIL $*"
	fails=$((fails + 1))
}

# status URL [curl options] — print the HTTP status (000 when curl fails)
status() {
	local url=$1
	shift
	curl -s -o "$TMP/body" -D "$TMP/head" -w '%{http_code}' --max-time 10 "$@" "$url" ||
		true
}
expect() { # WANT DESCRIPTION URL [curl options]
	local want=$1 what=$2 url=$3 got
	shift 3
	got=$(status "$url" "$@")
	if [[ $got == "$want" ]]; then ok "$what ($got)"; else bad "$what: got $got, want $want"; fi
}
header() { # NAME — value of a response header of the last status call
	tr -d '\r' <"$TMP/head" | sed -n "s/^$1: *//Ip" | tail -n1
}
json_field() { # FIELD — a string field of the last response body
	sed -n "s/.*\"$1\":\"\([^\"]*\)\".*/\1/p" "$TMP/body"
}

# ---- every registry answers ---------------------------------------------------------
expect 200 "plain /v2/" "http://$RV_REG_PLAIN/v2/"
expect 200 "standby /v2/" "http://$RV_REG_STANDBY/v2/"
expect 401 "basic /v2/ without credentials" "http://$RV_REG_BASIC/v2/"
expect 401 "basic /v2/ with a wrong password" "http://$RV_REG_BASIC/v2/" \
	-u "$RV_REG_BASIC_USER:wrong-$RV_REG_BASIC_PASS"
expect 200 "basic /v2/ with the right password" "http://$RV_REG_BASIC/v2/" \
	-u "$RV_REG_BASIC_USER:$RV_REG_BASIC_PASS"
expect 200 "basic manifest with credentials" \
	"http://$RV_REG_BASIC/v2/fx/image/manifests/v1" -H "Accept: $ACCEPT" \
	-u "$RV_REG_BASIC_USER:$RV_REG_BASIC_PASS"

# ---- TLS: refused without the CA, fine with it -----------------------------------------
curl -s -o /dev/null --max-time 10 "https://$RV_REG_TLS/v2/"
rc=$?
if ((rc == 60)); then ok "tls without the CA: curl refuses (exit 60)"; else bad "tls without the CA: curl exit $rc, want 60"; fi
expect 200 "tls with the CA" "https://$RV_REG_TLS/v2/" --cacert "$RV_REG_TLS_CA"
port=${RV_REG_TLS##*:}
expect 200 "tls as localhost (SAN DNS)" "https://localhost:$port/v2/" --cacert "$RV_REG_TLS_CA"

# ---- token flow: challenge → token → 200 -----------------------------------------------
# count only our own lines: other live tests may use rv-tokend at the same time
mine() { grep -c ' client=rv-smoke ' "$RV_TOKEN_LOG"; }
lines_before=$(mine)
expect 401 "token /v2/ without a token" "http://$RV_REG_TOKEN/v2/"
challenge=$(header WWW-Authenticate)
realm=$(sed -n 's/.*realm="\([^"]*\)".*/\1/p' <<<"$challenge")
service=$(sed -n 's/.*service="\([^"]*\)".*/\1/p' <<<"$challenge")
if [[ $realm == "$RV_TOKEN_REALM" && $service == "$RV_REG_TOKEN_SERVICE" ]]; then
	ok "bearer challenge names rv-tokend"
else
	bad "bearer challenge \"$challenge\""
fi
M=http://$RV_REG_TOKEN/v2/fx/image/manifests/v1
expect 401 "token manifest without a token" "$M" -H "Accept: $ACCEPT"
scope=$(header WWW-Authenticate | sed -n 's/.*scope="\([^"]*\)".*/\1/p')
expect 200 "token endpoint, full user, scope from the challenge" \
	"$realm?client_id=rv-smoke&service=$service&scope=$scope" -u "$RV_TOKEN_USER:$RV_TOKEN_PASS"
tok=$(json_field token)
expect 200 "token manifest with the token" "$M" -H "Accept: $ACCEPT" \
	-H "Authorization: Bearer $tok"
if [[ $(header Docker-Content-Digest) == "$RV_FX_IMAGE_DIGEST" ]]; then
	ok "token registry serves fx/image at its fixture digest"
else
	bad "token registry digest $(header Docker-Content-Digest)"
fi
expect 401 "token endpoint, wrong password" "$realm?client_id=rv-smoke&service=$service&scope=$scope" \
	-u "$RV_TOKEN_USER:nope"
expect 200 "token endpoint, anonymous" "$realm?client_id=rv-smoke&service=$service&scope=$scope"
expect 401 "anonymous token is refused by the registry" "$M" -H "Accept: $ACCEPT" \
	-H "Authorization: Bearer $(json_field token)"

# read-only user: pull works, push is insufficient_scope
U=http://$RV_REG_TOKEN/v2/fx/image/blobs/uploads/
expect 200 "token endpoint, read-only user asks pull,push" \
	"$realm?client_id=rv-smoke&service=$service&scope=repository:fx/image:pull,push" \
	-u "$RV_TOKEN_RO_USER:$RV_TOKEN_RO_PASS"
ro=$(json_field token)
expect 200 "read-only user pulls" "$M" -H "Accept: $ACCEPT" -H "Authorization: Bearer $ro"
expect 401 "read-only user pushes" "$U" -X POST -H "Authorization: Bearer $ro"
if header WWW-Authenticate | grep -q 'error="insufficient_scope"'; then
	ok "read-only push is insufficient_scope"
else
	bad "read-only push challenge: $(header WWW-Authenticate)"
fi

# OAuth2 POST: password grant with a refresh token, then the refresh grant
expect 200 "POST /token password grant, offline" "$realm" \
	--data-urlencode grant_type=password --data-urlencode "username=$RV_TOKEN_USER" \
	--data-urlencode "password=$RV_TOKEN_PASS" --data-urlencode "service=$service" \
	--data-urlencode client_id=rv-smoke --data-urlencode access_type=offline \
	--data-urlencode "scope=repository:fx/image:pull registry:catalog:*"
refresh=$(json_field refresh_token)
if [[ -n $refresh ]]; then ok "password grant returned a refresh token"; else bad "no refresh token"; fi
expect 200 "POST /token refresh grant" "$realm" \
	--data-urlencode grant_type=refresh_token --data-urlencode "refresh_token=$refresh" \
	--data-urlencode "service=$service" --data-urlencode client_id=rv-smoke \
	--data-urlencode "scope=registry:catalog:*"
expect 200 "catalog with the refreshed token" "http://$RV_REG_TOKEN/v2/_catalog" \
	-H "Authorization: Bearer $(json_field access_token)"
expect 401 "POST /token unknown refresh token" "$realm" \
	--data-urlencode grant_type=refresh_token --data-urlencode refresh_token=bogus \
	--data-urlencode "service=$service" --data-urlencode client_id=rv-smoke
expect 200 "token endpoint, short-lived user" "$realm?client_id=rv-smoke&service=$service&scope=$scope" \
	-u "$RV_TOKEN_SHORT_USER:$RV_TOKEN_SHORT_PASS"
if grep -q "\"expires_in\":${RV_TOKEN_SHORT_EXPIRES_IN}[,}]" "$TMP/body"; then
	ok "short-lived user's token expires in $RV_TOKEN_SHORT_EXPIRES_IN s"
else
	bad "short-lived token: $(cat "$TMP/body")"
fi
lines_after=$(mine)
if ((lines_after - lines_before == 8)); then
	ok "token log has one line per token request (8)"
else
	bad "token log grew by $((lines_after - lines_before)), want 8"
fi
if grep -q -e "$RV_TOKEN_PASS" -e "$RV_TOKEN_RO_PASS" -e "$refresh" "$RV_TOKEN_LOG"; then
	bad "token log holds a secret"
else
	ok "token log holds no password or refresh token"
fi

# ---- fixtures in plain ---------------------------------------------------------------------
P=http://$RV_REG_PLAIN/v2
check_digest() { # REF(name:tag or name@digest) WANT
	local name=${1%%[:@]*} ref=${1#*[:@]}
	expect 200 "plain $1" "$P/$name/manifests/$ref" -H "Accept: $ACCEPT"
	local got
	got=sha256:$(sha256sum <"$TMP/body" | cut -d' ' -f1)
	if [[ $got == "$2" ]]; then ok "  bytes hash to $2"; else bad "  $1 hashes to $got, want $2"; fi
}
check_digest "$RV_FX_IMAGE" "$RV_FX_IMAGE_DIGEST"
check_digest "$RV_FX_CHILD" "$RV_FX_CHILD_DIGEST"
check_digest "$RV_FX_MULTI" "$RV_FX_MULTI_DIGEST"
check_digest "$RV_FX_DOCKER" "$RV_FX_DOCKER_DIGEST"
check_digest "$RV_FX_DOCKERLIST" "$RV_FX_DOCKERLIST_DIGEST"
check_digest "$RV_FX_SIG" "$RV_FX_SIG_DIGEST"
check_digest "$RV_FX_ARTIFACT" "$RV_FX_ARTIFACT_DIGEST"

# ---- 5,000 tags, catalog paging at 100 ---------------------------------------------------
expect 200 "tags/list of $RV_FX_MANYTAGS_REPO" "$P/$RV_FX_MANYTAGS_REPO/tags/list"
n=$(grep -o '"t[0-9]*"' "$TMP/body" | wc -l)
if [[ $n == "$RV_FX_MANYTAGS_COUNT" ]]; then
	ok "  $n tags listed"
else
	bad "  $n tags, want $RV_FX_MANYTAGS_COUNT"
fi
url="$P/_catalog"
total=0 pages=0
while [[ -n $url ]] && ((pages < 20)); do
	code=$(status "$url")
	[[ $code == 200 ]] || {
		bad "catalog page $url: $code"
		break
	}
	# Other live tests add repositories under t/ while this runs: count fixtures only.
	total=$((total + $(grep -o '"[a-z0-9/._-]*"' "$TMP/body" | grep -v '"t/' | grep -vc '"repositories"')))
	pages=$((pages + 1))
	next=$(header Link | sed -n 's/^<\([^>]*\)>.*/\1/p')
	url=${next:+http://$RV_REG_PLAIN$next}
done
if ((total == RV_FX_REPO_COUNT && pages >= 3)); then
	ok "catalog: $total repositories in $pages pages"
else
	bad "catalog: $total repositories in $pages pages, want $RV_FX_REPO_COUNT in at least 3"
fi

# ---- the faulty proxy in front of plain -------------------------------------------------------
if [[ -z ${RV_REG_FAULTY:-} ]]; then
	echo "skip faulty proxy: up.sh found no rv-faultproxy (build target rv-faultproxy)"
else
	expect 200 "faulty /v2/ (the ping is never faulted)" "http://$RV_REG_FAULTY/v2/"
	# A repository nobody has: plain answers 404; the proxy answers some requests
	# itself. Parallel tests share this proxy (and its PRNG), so count only our path.
	mark=t/smoke-$$-$RANDOM
	codes="" retry_ok=1
	for ((i = 0; i < 20; i++)); do
		code=$(status "http://$RV_REG_FAULTY/v2/$mark/manifests/v1" -H "Accept: $ACCEPT")
		codes+="$code "
		[[ $code != 429 || $(header Retry-After) == 1 ]] || retry_ok=0
	done
	if [[ $codes =~ ^((404|429|500|502|503)\ )+$ ]]; then
		ok "faulty answers 404 or a status fault: $codes"
	else
		bad "faulty answers: $codes"
	fi
	if ((retry_ok)); then ok "faulty 429s carry Retry-After: 1"; else bad "a 429 without Retry-After: 1"; fi
	logged=$(grep -c "^GET /v2/$mark/manifests/v1 " "$RV_FAULTY_LOG")
	mismatch=$(grep "^GET /v2/$mark/manifests/v1 " "$RV_FAULTY_LOG" | awk '$3 != "pass" && $3 != $4' | wc -l)
	if [[ $logged == 20 && $mismatch == 0 ]]; then
		ok "RV_FAULTY_LOG: one line per request, fault = status"
	else
		bad "RV_FAULTY_LOG: $logged lines for 20 requests, $mismatch with fault != status"
	fi
	if [[ -x $RV_FAULTPROXY ]]; then ok "RV_FAULTPROXY is executable"; else bad "RV_FAULTPROXY \"$RV_FAULTPROXY\""; fi
fi

# The generated layout is a valid OCI layout to an independent reader:
# umoci verifies blob digests and unpacks every layer of the child image.
if umoci stat --image "$RV_FX_LAYOUT:image" >/dev/null 2>&1 &&
	umoci unpack --rootless --image "$RV_FX_LAYOUT:child" "$TMP/bundle" >/dev/null 2>&1 &&
	[[ -e $TMP/bundle/rootfs/child-0 && -e $TMP/bundle/rootfs/image-0 ]]; then
	ok "umoci reads and unpacks the fixture layout"
else
	bad "umoci cannot read or unpack $RV_FX_LAYOUT"
fi

echo "smoke: $fails failure(s)"
((fails == 0))
