#!/bin/bash
# tests/harness/up.sh DIR — start the live-test registries and fill them.
#
# Starts (all on 127.0.0.1, ports chosen by the kernel):
#   plain    anonymous HTTP, holds the full fixture set, 5,000 tags, ~250 repos
#   standby  anonymous HTTP, empty (a mirror/restore target)
#   basic    htpasswd (bcrypt) auth
#   tls      HTTPS with a CA made here, anonymous
#   token    token auth against rv-tokend
#   faulty   rv-faultproxy in front of plain: 429/500/502/503 at a share of
#            requests (RV_FAULT_RATE, default 0.15), /v2/ ping exempt
# and writes DIR/env (KEY=VALUE, documented in README.md). A previous run's
# servers recorded in DIR are stopped first. Needs RV_TOKEND, RV_MKFIXTURES
# and RV_FAULTPROXY (paths to the built helpers) unless they are on PATH;
# without rv-faultproxy, `faulty` is skipped with a warning (no RV_REG_FAULTY:
# tests that need it skip).
set -euo pipefail

[[ $# -eq 1 && -n $1 ]] || {
	echo "usage: up.sh DIR" >&2
	exit 2
}
RV_DIR=$(realpath -m -- "$1")
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh
source "$HERE/lib.sh"

RV_TOKEND_BIN=${RV_TOKEND:-$(command -v rv-tokend || true)}
RV_MKFIXTURES_BIN=${RV_MKFIXTURES:-$(command -v rv-mkfixtures || true)}
[[ -x $RV_TOKEND_BIN ]] || rv_die "set RV_TOKEND to the rv-tokend binary"
[[ -x $RV_MKFIXTURES_BIN ]] || rv_die "set RV_MKFIXTURES to the rv-mkfixtures binary"
RV_FAULTPROXY_BIN=${RV_FAULTPROXY:-$(command -v rv-faultproxy || true)}
if [[ ! -x $RV_FAULTPROXY_BIN ]]; then
	rv_log "WARNING: no rv-faultproxy (set RV_FAULTPROXY, build target rv-faultproxy): not starting faulty"
	RV_FAULTPROXY_BIN=
fi
FAULT_RATE=${RV_FAULT_RATE:-0.15}
for tool in docker-registry skopeo curl openssl htpasswd pgrep timeout sha256sum; do
	command -v "$tool" >/dev/null || rv_die "$tool is not installed"
done

MANYTAGS_COUNT=5000
REPO_TARGET=250 # repositories in plain, for _catalog paging (D28 pages at 100)

T0=$(rv_now_ms)
phase_t=$T0
phase() { # NAME — print how long the previous phase took
	local now
	now=$(rv_now_ms)
	rv_log "$(printf '%-26s %5d ms' "$1" $((now - phase_t)))"
	phase_t=$now
}

# ---- clean slate ---------------------------------------------------------------
if [[ -d $RV_DIR ]]; then
	if [[ -n $(ls -A "$RV_DIR") && ! -e $RV_DIR/.rv-harness ]]; then
		rv_die "$RV_DIR is not empty and not a harness directory; refusing to wipe it"
	fi
	rv_stop_recorded
	phase "stop previous servers"
	rv_storage_remove
	rm -rf "$RV_DIR"
fi
umask 077 # secrets (passwords, keys, auth files, env) stay 0600
mkdir -p "$RV_DIR"
touch "$RV_DIR/.rv-harness"
rv_storage_create
# A failed start stops whatever it started and frees its storage (unless
# RV_HARNESS_KEEP=1); logs stay in $RV_DIR.
on_exit() {
	local rc=$?
	if ((rc != 0)); then
		rv_stop_recorded
		[[ ${RV_HARNESS_KEEP:-0} == 1 ]] || rv_storage_remove
	fi
}
trap on_exit EXIT
: >"$RV_DIR/env.tmp"
phase "remove previous files"

# ---- fixtures, credentials, certificates -----------------------------------------
"$RV_MKFIXTURES_BIN" --out "$RV_DIR/fixtures" --seed "${RV_FIXTURE_SEED:-1}" >/dev/null ||
	rv_die "rv-mkfixtures failed"
# shellcheck source=/dev/null
source "$RV_DIR/fixtures/fixtures.env"

echo '{"default":[{"type":"insecureAcceptAnything"}]}' >"$RV_DIR/policy.json"

BASIC_USER=rvbasic-$(rv_rand_hex 3)
BASIC_PASS=$(rv_rand_hex 12)
TOKEN_USER=rvfull-$(rv_rand_hex 3)
TOKEN_PASS=$(rv_rand_hex 12)
TOKEN_RO_USER=rvro-$(rv_rand_hex 3)
TOKEN_RO_PASS=$(rv_rand_hex 12)
TOKEN_SHORT_USER=rvshort-$(rv_rand_hex 3)
TOKEN_SHORT_PASS=$(rv_rand_hex 12)
TOKEN_SHORT_EXPIRES_IN=${RV_TOKEN_SHORT_EXPIRES_IN:-2}
# A full user for tests that count token requests: nothing else uses it,
# so tests running in parallel cannot disturb the count.
TOKEN_COUNT_USER=rvcount-$(rv_rand_hex 3)
TOKEN_COUNT_PASS=$(rv_rand_hex 12)

RV_TLS_DIR=$RV_DIR/tls
rv_make_tls "$RV_TLS_DIR"

RV_BASIC_HTPASSWD=$RV_DIR/basic.htpasswd
htpasswd -Bbn "$BASIC_USER" "$BASIC_PASS" >"$RV_BASIC_HTPASSWD" 2>/dev/null ||
	rv_die "htpasswd failed"

TOKEN_DIR=$RV_DIR/tokend
mkdir -p "$TOKEN_DIR"
rv_make_signer "$TOKEN_DIR"
RV_SIGNER_CRT=$TOKEN_DIR/signer.crt
RV_TOKEN_SERVICE=regvault-test-registry
RV_TOKEN_ISSUER=rv-tokend
cat >"$TOKEN_DIR/users" <<EOF
# user:password:actions[:repository-glob[:expires_in]]
$TOKEN_USER:$TOKEN_PASS:pull,push,delete,catalog
$TOKEN_RO_USER:$TOKEN_RO_PASS:pull
$TOKEN_SHORT_USER:$TOKEN_SHORT_PASS:pull,push,delete,catalog:*:$TOKEN_SHORT_EXPIRES_IN
$TOKEN_COUNT_USER:$TOKEN_COUNT_PASS:pull,push,delete,catalog
EOF
phase "fixtures, keys, users"

# ---- start everything ------------------------------------------------------------
rv_tokend_start "$TOKEN_DIR"
for name in plain standby basic tls; do
	variant=$name
	[[ $name == standby ]] && variant=plain
	rv_registry_config "$name" "$variant"
	rv_registry_start "$name"
done
rv_tokend_wait "$TOKEN_DIR"
TOKEN_SERVER=$RV_ADDR
RV_TOKEN_REALM=http://$TOKEN_SERVER/token
rv_registry_config token token
rv_registry_start token

rv_registry_wait plain http 200 && REG_PLAIN=$RV_ADDR
# Status faults only (the proxy answers them itself, so plain is never
# touched by a faulted request); the /v2/ ping is exempt so clients can
# always learn the API version. Tests wanting resets, truncation, stalls or
# flipped bytes start their own proxy from RV_FAULTPROXY.
[[ -z $RV_FAULTPROXY_BIN ]] ||
	rv_faultproxy_start faulty "$REG_PLAIN" --rate "$FAULT_RATE" --faults 429,500,502,503 \
		--seed 1 --retry-after 1 --skip-path-prefix /v2/
rv_registry_wait standby http 200 && REG_STANDBY=$RV_ADDR
rv_registry_wait basic http 401 && REG_BASIC=$RV_ADDR
rv_registry_wait tls https 200 && REG_TLS=$RV_ADDR
rv_registry_wait token http 401 && REG_TOKEN=$RV_ADDR
[[ -z $RV_FAULTPROXY_BIN ]] || { rv_faultproxy_wait faulty 200 && REG_FAULTY=$RV_ADDR; }
phase "servers up"

# Docker config.json: creds for basic and token (base64 "user:pass").
RV_AUTHFILE=$RV_DIR/auth.json
b64() { printf '%s' "$1" | base64 -w0; }
cat >"$RV_AUTHFILE" <<EOF
{
  "auths": {
    "$REG_BASIC": {"auth": "$(b64 "$BASIC_USER:$BASIC_PASS")"},
    "$REG_TOKEN": {"auth": "$(b64 "$TOKEN_USER:$TOKEN_PASS")"}
  }
}
EOF

# ---- push the fixtures with skopeo (an independent client) ---------------------------
L=$RV_FX_LAYOUT
HTTP=(--dest-tls-verify=false) # loopback HTTP registries
MANYTAGS_REPO=fx/manytags
pids=()
push() { # SRC DEST [options] — in the background
	rv_skopeo "$@" &
	pids+=($!)
}
push "oci:$L:image" "docker://$REG_PLAIN/fx/image:v1" "${HTTP[@]}"
push "oci:$L:child" "docker://$REG_PLAIN/fx/child:v1" "${HTTP[@]}"
push "oci:$L:multi" "docker://$REG_PLAIN/fx/multi:v1" "${HTTP[@]}"
# skopeo 1.9.3 skips Docker media types in a layout's index.json: use dir:
push "dir:$RV_FX_DOCKER_DIR" "docker://$REG_PLAIN/fx/docker:v1" "${HTTP[@]}"
push "dir:$RV_FX_DOCKERLIST_DIR" "docker://$REG_PLAIN/fx/dockerlist:v1" "${HTTP[@]}"
push "oci:$L:sig" "docker://$REG_PLAIN/fx/image:$RV_FX_SIG_TAG" "${HTTP[@]}"
push "oci:$L:artifact" "docker://$REG_PLAIN/fx/image@$RV_FX_ARTIFACT_DIGEST" "${HTTP[@]}"
push "oci:$L:image" "docker://$REG_PLAIN/$MANYTAGS_REPO:t00000" "${HTTP[@]}"
push "oci:$L:image" "docker://$REG_BASIC/fx/image:v1" "${HTTP[@]}"
push "oci:$L:image" "docker://$REG_TLS/fx/image:v1" --dest-cert-dir "$RV_TLS_DIR/certs.d"
push "oci:$L:image" "docker://$REG_TOKEN/fx/image:v1" "${HTTP[@]}"
failed=0
for p in "${pids[@]}"; do
	wait "$p" || failed=1
done
((failed == 0)) || rv_die "a fixture push failed (see above)"
phase "skopeo pushes"

# ---- check what the registries say against what we generated --------------------------
P=http://$REG_PLAIN/v2
rv_expect_digest "$P/fx/image/manifests/v1" "$RV_FX_IMAGE_DIGEST"
rv_expect_digest "$P/fx/child/manifests/v1" "$RV_FX_CHILD_DIGEST"
rv_expect_digest "$P/fx/multi/manifests/v1" "$RV_FX_MULTI_DIGEST"
rv_expect_digest "$P/fx/multi/manifests/$RV_FX_MULTI_AMD64_DIGEST" "$RV_FX_MULTI_AMD64_DIGEST"
rv_expect_digest "$P/fx/multi/manifests/$RV_FX_MULTI_ARM64_DIGEST" "$RV_FX_MULTI_ARM64_DIGEST"
rv_expect_digest "$P/fx/docker/manifests/v1" "$RV_FX_DOCKER_DIGEST"
rv_expect_digest "$P/fx/dockerlist/manifests/v1" "$RV_FX_DOCKERLIST_DIGEST"
rv_expect_digest "$P/fx/dockerlist/manifests/$RV_FX_DOCKERLIST_AMD64_DIGEST" \
	"$RV_FX_DOCKERLIST_AMD64_DIGEST"
rv_expect_digest "$P/fx/image/manifests/$RV_FX_SIG_TAG" "$RV_FX_SIG_DIGEST"
rv_expect_digest "$P/fx/image/manifests/$RV_FX_ARTIFACT_DIGEST" "$RV_FX_ARTIFACT_DIGEST"
rv_expect_digest "http://$REG_BASIC/v2/fx/image/manifests/v1" "$RV_FX_IMAGE_DIGEST" \
	-u "$BASIC_USER:$BASIC_PASS"
rv_expect_digest "https://$REG_TLS/v2/fx/image/manifests/v1" "$RV_FX_IMAGE_DIGEST" \
	--cacert "$RV_TLS_DIR/ca.crt"
token=$(curl -sf --max-time 5 -u "$TOKEN_USER:$TOKEN_PASS" \
	"$RV_TOKEN_REALM?client_id=rv-harness&service=$RV_TOKEN_SERVICE&scope=repository:fx/image:pull" |
	sed -n 's/.*"token":"\([^"]*\)".*/\1/p') || true
[[ -n $token ]] || rv_die "no token from rv-tokend for the digest check"
rv_expect_digest "http://$REG_TOKEN/v2/fx/image/manifests/v1" "$RV_FX_IMAGE_DIGEST" \
	-H "Authorization: Bearer $token"
phase "digest checks"

# ---- 5,000 tags and ~250 repositories, written straight into storage ---------------------
# Pushing them would take minutes; the registry reads tags and repositories
# from the filesystem on every request (no cache configured), so links laid
# out exactly as a real push leaves them are served like pushed ones.
REPOS=$RV_STORE/plain/docker/registry/v2/repositories
rv_seed_tags "$REPOS/$MANYTAGS_REPO" "$RV_FX_IMAGE_DIGEST" "$MANYTAGS_COUNT"
existing=$(find "$REPOS" -type d -name _manifests | wc -l)
RV_BULK_PREFIX=fx/bulk/r
rv_seed_repos "$REPOS" fx/child v1 "$RV_BULK_PREFIX" $((REPO_TARGET - existing))
phase "seed tags and repos"

n=$(curl -sf --max-time 10 "$P/$MANYTAGS_REPO/tags/list" | grep -o '"t[0-9]*"' | wc -l)
[[ $n == "$MANYTAGS_COUNT" ]] || rv_die "$MANYTAGS_REPO lists $n tags, want $MANYTAGS_COUNT"
REPO_COUNT=$(curl -sf --max-time 10 "$P/_catalog?n=1000" | grep -o '"fx/[^"]*"' | wc -l)
[[ $REPO_COUNT == "$REPO_TARGET" ]] || rv_die "catalog lists $REPO_COUNT repositories, want $REPO_TARGET"
rv_expect_digest "$P/${RV_BULK_PREFIX}000/manifests/v1" "$RV_FX_CHILD_DIGEST"
rv_expect_digest "$P/$MANYTAGS_REPO/manifests/t04999" "$RV_FX_IMAGE_DIGEST"
phase "seed checks"

# ---- the env file --------------------------------------------------------------------
rv_env RV_HARNESS_DIR "$RV_DIR"
rv_env RV_HARNESS_STORAGE_DIR "$RV_STORE"
rv_env RV_REG_PLAIN "$REG_PLAIN"
rv_env RV_REG_PLAIN_ROOT "$RV_STORE/plain"
rv_env RV_REG_PLAIN_CONFIG "$RV_DIR/reg-plain/config.yml"
if [[ -n $RV_FAULTPROXY_BIN ]]; then
	rv_env RV_REG_FAULTY "$REG_FAULTY"
	rv_env RV_FAULTY_LOG "$RV_DIR/proxy-faulty/requests.log"
	rv_env RV_FAULTY_RATE "$FAULT_RATE"
	rv_env RV_FAULTPROXY "$RV_FAULTPROXY_BIN"
fi
rv_env RV_REG_STANDBY "$REG_STANDBY"
rv_env RV_REG_STANDBY_ROOT "$RV_STORE/standby"
rv_env RV_REG_BASIC "$REG_BASIC"
rv_env RV_REG_BASIC_ROOT "$RV_STORE/basic"
rv_env RV_REG_BASIC_USER "$BASIC_USER"
rv_env RV_REG_BASIC_PASS "$BASIC_PASS"
rv_env RV_REG_TLS "$REG_TLS"
rv_env RV_REG_TLS_ROOT "$RV_STORE/tls"
rv_env RV_REG_TLS_CA "$RV_TLS_DIR/ca.crt"
rv_env RV_REG_TLS_CERT_DIR "$RV_TLS_DIR/certs.d"
rv_env RV_REG_TOKEN "$REG_TOKEN"
rv_env RV_REG_TOKEN_ROOT "$RV_STORE/token"
rv_env RV_REG_TOKEN_SERVICE "$RV_TOKEN_SERVICE"
rv_env RV_REG_TOKEN_ISSUER "$RV_TOKEN_ISSUER"
rv_env RV_TOKEN_SERVER "$TOKEN_SERVER"
rv_env RV_TOKEN_REALM "$RV_TOKEN_REALM"
rv_env RV_TOKEN_LOG "$TOKEN_DIR/requests.log"
rv_env RV_TOKEN_EXPIRES_IN "${RV_TOKEN_EXPIRES_IN:-300}"
rv_env RV_TOKEN_USER "$TOKEN_USER"
rv_env RV_TOKEN_PASS "$TOKEN_PASS"
rv_env RV_TOKEN_RO_USER "$TOKEN_RO_USER"
rv_env RV_TOKEN_RO_PASS "$TOKEN_RO_PASS"
rv_env RV_TOKEN_SHORT_USER "$TOKEN_SHORT_USER"
rv_env RV_TOKEN_SHORT_PASS "$TOKEN_SHORT_PASS"
rv_env RV_TOKEN_SHORT_EXPIRES_IN "$TOKEN_SHORT_EXPIRES_IN"
rv_env RV_TOKEN_COUNT_USER "$TOKEN_COUNT_USER"
rv_env RV_TOKEN_COUNT_PASS "$TOKEN_COUNT_PASS"
rv_env RV_TOKEN_SIGNER_KEY "$TOKEN_DIR/signer.key"
rv_env RV_TOKEN_SIGNER_CERT "$RV_SIGNER_CRT"
rv_env RV_TOKEN_USERS_FILE "$TOKEN_DIR/users"
rv_env RV_TOKEND "$RV_TOKEND_BIN"
rv_env RV_AUTHFILE "$RV_AUTHFILE"
rv_env RV_SKOPEO_POLICY "$RV_DIR/policy.json"
cat "$RV_DIR/fixtures/fixtures.env" >>"$RV_DIR/env.tmp"
rv_env RV_FX_IMAGE fx/image:v1
rv_env RV_FX_CHILD fx/child:v1
rv_env RV_FX_MULTI fx/multi:v1
rv_env RV_FX_DOCKER fx/docker:v1
rv_env RV_FX_DOCKERLIST fx/dockerlist:v1
rv_env RV_FX_SIG "fx/image:$RV_FX_SIG_TAG"
rv_env RV_FX_ARTIFACT "fx/image@$RV_FX_ARTIFACT_DIGEST"
rv_env RV_FX_MANYTAGS_REPO "$MANYTAGS_REPO"
rv_env RV_FX_MANYTAGS_COUNT "$MANYTAGS_COUNT"
rv_env RV_FX_MANYTAGS_DIGEST "$RV_FX_IMAGE_DIGEST"
rv_env RV_FX_BULK_PREFIX "$RV_BULK_PREFIX"
rv_env RV_FX_REPO_COUNT "$REPO_COUNT"
rv_env RV_HARNESS_PIDS "$(cut -d' ' -f1 "$RV_DIR/pids" | tr '\n' ' ' | sed 's/ $//')"
rv_env RV_HARNESS_UP_MS $(($(rv_now_ms) - T0))
mv "$RV_DIR/env.tmp" "$RV_DIR/env"
rv_log "ready in $(($(rv_now_ms) - T0)) ms; env: $RV_DIR/env"
