# shellcheck shell=bash
# tests/harness/lib.sh — start and stop the real servers the live tests use.
# Sourced by up.sh and down.sh; see README.md. Bash only.
# Functions that find an address return it in RV_ADDR.
# shellcheck disable=SC2034
#
# Every server runs under `timeout $RV_HARNESS_TTL` (default 3600 s), so a
# crashed test run cannot leak it forever, and every PID we start is recorded
# in $RV_DIR/pids as "PID KIND". We only ever signal PIDs from that file, and
# only while /proc/PID/cmdline still mentions $RV_DIR (the PID was not reused).

RV_TTL=${RV_HARNESS_TTL:-3600}
RV_POLL_TRIES=100 # x 0.1 s: how long we wait for a server to come up
RV_MANIFEST_ACCEPT='application/vnd.oci.image.index.v1+json,application/vnd.oci.image.manifest.v1+json,application/vnd.docker.distribution.manifest.list.v2+json,application/vnd.docker.distribution.manifest.v2+json'

rv_die() {
	echo "harness: $*" >&2
	exit 1
}

rv_log() {
	echo "harness: $*" >&2
}

rv_rand_hex() { # BYTES
	openssl rand -hex "$1"
}

# Seconds since the epoch with milliseconds, for the timing lines.
rv_now_ms() {
	local t
	t=$(date +%s%N)
	echo $((t / 1000000))
}

# rv_env KEY VALUE — append to the env file being built.
rv_env() {
	printf '%s=%s\n' "$1" "$2" >>"$RV_DIR/env.tmp"
}

# Does PID still belong to this harness directory?
rv_pid_is_ours() { # PID
	local cmd
	[[ -r /proc/$1/cmdline ]] || return 1
	cmd=$(tr '\0' ' ' 2>/dev/null <"/proc/$1/cmdline") || return 1
	[[ $cmd == *"$RV_DIR/"* ]]
}

# rv_spawn KIND LOG CMD... — start CMD under timeout, detached from our
# stdio (ctest waits for the test's pipes to close), and record its PIDs.
# Sets RV_SPAWNED_PID to the timeout process.
rv_spawn() {
	local kind=$1 log=$2
	shift 2
	timeout "$RV_TTL" "$@" </dev/null >"$log" 2>&1 &
	RV_SPAWNED_PID=$!
	echo "$RV_SPAWNED_PID $kind" >>"$RV_DIR/pids"
}

# Record the child that `timeout` started (if KILL ever hits timeout itself,
# the child would otherwise survive); bounded wait for it to exist.
rv_record_child() { # TIMEOUT_PID KIND
	local i child
	for ((i = 0; i < 50; i++)); do
		child=$(pgrep -P "$1" 2>/dev/null | head -n1)
		if [[ -n $child ]]; then
			echo "$child $2-child" >>"$RV_DIR/pids"
			return 0
		fi
		kill -0 "$1" 2>/dev/null || return 0
		sleep 0.02
	done
}

# rv_stop_recorded — TERM every recorded PID that is still ours, wait up to
# 5 s, then KILL what is left. Safe to call when nothing runs.
#
# The servers themselves (kind *-child) go first; each `timeout` then exits
# with its child. Signalling `timeout` first makes it forward the signal to
# its process group and then send SIGCONT, and a SIGCONT discards the SIGSTOP
# that LeakSanitizer's exit-time stop-the-world (ptrace) waits for: an
# ASan-built rv-faultproxy hung there in about 1 of 6 stops.
rv_stop_recorded() {
	local pidfile=$RV_DIR/pids
	[[ -f $pidfile ]] || return 0
	rv_stop_kind child
	rv_stop_kind any
	rm -f "$pidfile"
}

# rv_stop_kind child|any — rv_stop_recorded's rounds: the recorded *-child
# PIDs, or all that are left.
rv_stop_kind() {
	local which=$1 pid kind live=() i
	while read -r pid kind; do
		[[ $pid =~ ^[0-9]+$ ]] || continue
		[[ $which == any || $kind == *-child ]] || continue
		if rv_pid_is_ours "$pid"; then
			live+=("$pid")
			kill -TERM "$pid" 2>/dev/null || true
		fi
	done <"$RV_DIR/pids"
	for ((i = 0; i < 50 && ${#live[@]} > 0; i++)); do
		local still=()
		for pid in "${live[@]}"; do
			rv_pid_is_ours "$pid" && still+=("$pid")
		done
		live=("${still[@]}")
		((${#live[@]} == 0)) && break
		sleep 0.1
	done
	for pid in "${live[@]}"; do
		if rv_pid_is_ours "$pid"; then
			rv_log "pid $pid did not stop on TERM, sending KILL"
			kill -KILL "$pid" 2>/dev/null || true
		fi
	done
}

# ---- certificates and credentials ------------------------------------------

# A CA and a server certificate for 127.0.0.1 / localhost signed by it.
# Writes $1/ca.crt ca.key server.crt server.key and $1/certs.d/ca.crt (the
# directory layout skopeo's --cert-dir expects).
rv_make_tls() { # DIR
	local d=$1
	mkdir -p "$d/certs.d"
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
		-keyout "$d/ca.key" -out "$d/ca.crt" -days 2 -subj "/CN=regvault test CA" \
		-addext "basicConstraints=critical,CA:TRUE" \
		-addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null ||
		rv_die "openssl: cannot create the test CA"
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
		-keyout "$d/server.key" -out "$d/server.csr" -subj "/CN=localhost" 2>/dev/null ||
		rv_die "openssl: cannot create the server key"
	cat >"$d/server.ext" <<EOF
basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=serverAuth
subjectAltName=IP:127.0.0.1,DNS:localhost
EOF
	openssl x509 -req -in "$d/server.csr" -CA "$d/ca.crt" -CAkey "$d/ca.key" \
		-CAcreateserial -out "$d/server.crt" -days 2 -extfile "$d/server.ext" 2>/dev/null ||
		rv_die "openssl: cannot sign the server certificate"
	cp "$d/ca.crt" "$d/certs.d/ca.crt"
}

# The token signer: a P-256 key and a self-signed certificate for the
# registry's rootcertbundle (D28 matches the JWT kid to this key).
rv_make_signer() { # DIR
	local d=$1
	openssl ecparam -name prime256v1 -genkey -noout -out "$d/signer.key" 2>/dev/null ||
		rv_die "openssl: cannot create the token signing key"
	openssl req -x509 -new -key "$d/signer.key" -out "$d/signer.crt" -days 2 \
		-subj "/CN=rv-tokend" 2>/dev/null ||
		rv_die "openssl: cannot create the token signing certificate"
}

# ---- registries ---------------------------------------------------------------

# ---- registry storage -------------------------------------------------------------

# Storage roots live on tmpfs (/dev/shm) unless RV_HARNESS_STORAGE=disk: the
# 5,000-tag repository is ~40,000 small files, and on a busy shared disk
# creating and deleting them took tens of seconds. The chosen directory is
# recorded in $RV_DIR/storage-dir so the next up.sh or down.sh removes it.
rv_storage_create() { # sets RV_STORE
	if [[ ${RV_HARNESS_STORAGE:-tmpfs} == tmpfs && -d /dev/shm && -w /dev/shm ]]; then
		RV_STORE=$(mktemp -d /dev/shm/rv-harness.XXXXXX) || rv_die "cannot create storage in /dev/shm"
	else
		RV_STORE=$RV_DIR/storage
		mkdir -p "$RV_STORE"
	fi
	echo "$RV_STORE" >"$RV_DIR/storage-dir"
}

rv_storage_remove() {
	local store
	[[ -f $RV_DIR/storage-dir ]] || return 0
	store=$(cat "$RV_DIR/storage-dir")
	# only what we created: a /dev/shm/rv-harness.* directory or $RV_DIR/storage
	if [[ $store == /dev/shm/rv-harness.?* || $store == "$RV_DIR/storage" ]]; then
		rm -rf -- "$store"
	fi
	rm -f "$RV_DIR/storage-dir"
}

# rv_registry_config NAME VARIANT — write $RV_DIR/reg-NAME/config.yml.
# VARIANT: plain | basic | tls | token. Reads RV_STORE, RV_TLS_DIR,
# RV_BASIC_HTPASSWD, RV_TOKEN_REALM, RV_TOKEN_SERVICE, RV_TOKEN_ISSUER,
# RV_SIGNER_CRT. The storage root is $RV_STORE/NAME.
rv_registry_config() {
	local name=$1 variant=$2 d root
	d=$RV_DIR/reg-$name
	root=$RV_STORE/$name
	mkdir -p "$d" "$root"
	# log level info: the "listening on" line is how we learn the port.
	# No storage.cache: an inmemory blob cache lies after garbage-collect.
	cat >"$d/config.yml" <<EOF
version: 0.1
log:
  level: info
  formatter: text
storage:
  filesystem:
    rootdirectory: $root
  delete:
    enabled: true
  maintenance:
    uploadpurging:
      enabled: false
http:
  addr: 127.0.0.1:0
  secret: $(rv_rand_hex 16)
  headers:
    X-Content-Type-Options: [nosniff]
EOF
	case $variant in
	plain) ;;
	tls)
		cat >>"$d/config.yml" <<EOF
  tls:
    certificate: $RV_TLS_DIR/server.crt
    key: $RV_TLS_DIR/server.key
EOF
		;;
	basic)
		cat >>"$d/config.yml" <<EOF
auth:
  htpasswd:
    realm: regvault-basic
    path: $RV_BASIC_HTPASSWD
EOF
		;;
	token)
		cat >>"$d/config.yml" <<EOF
auth:
  token:
    realm: $RV_TOKEN_REALM
    service: $RV_TOKEN_SERVICE
    issuer: $RV_TOKEN_ISSUER
    rootcertbundle: $RV_SIGNER_CRT
EOF
		;;
	*) rv_die "unknown registry variant \"$variant\"" ;;
	esac
}

rv_registry_start() { # NAME
	local d=$RV_DIR/reg-$1
	rv_spawn "registry-$1" "$d/log" docker-registry serve "$d/config.yml"
	echo "$RV_SPAWNED_PID" >"$d/pid"
}

rv_fail_with_log() { # LOG MESSAGE
	echo "harness: $2; last lines of $1:" >&2
	tail -n 20 "$1" >&2
	exit 1
}

# rv_registry_wait NAME SCHEME EXPECTED_STATUS — learn the port from the log,
# then poll /v2/ until it answers EXPECTED_STATUS. Sets RV_ADDR.
rv_registry_wait() {
	local name=$1 scheme=$2 want=$3 d=$RV_DIR/reg-$1 i addr="" code
	local curl_tls=()
	[[ $scheme == https ]] && curl_tls=(--cacert "$RV_TLS_DIR/ca.crt")
	for ((i = 0; i < RV_POLL_TRIES; i++)); do
		addr=$(grep -o 'listening on 127\.0\.0\.1:[0-9]*' "$d/log" 2>/dev/null | head -n1 || true)
		[[ -n $addr ]] && break
		kill -0 "$(cat "$d/pid")" 2>/dev/null ||
			rv_fail_with_log "$d/log" "registry $name exited while starting"
		sleep 0.1
	done
	[[ -n $addr ]] || rv_fail_with_log "$d/log" "registry $name never logged its port"
	addr=${addr#listening on }
	for ((i = 0; i < RV_POLL_TRIES; i++)); do
		code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "${curl_tls[@]}" \
			"$scheme://$addr/v2/") || true
		[[ $code == "$want" ]] && break
		sleep 0.1
	done
	[[ $code == "$want" ]] ||
		rv_fail_with_log "$d/log" "registry $name at $addr answers /v2/ with $code, want $want"
	echo "$addr" >"$d/addr"
	rv_record_child "$(cat "$d/pid")" "registry-$name"
	RV_ADDR=$addr
}

# ---- token server ----------------------------------------------------------------

rv_tokend_start() { # DIR (holds signer.key, users)
	local d=$1
	rv_spawn tokend "$d/stderr" "$RV_TOKEND_BIN" --key "$d/signer.key" --users "$d/users" \
		--port-file "$d/port" --log "$d/requests.log" --issuer "$RV_TOKEN_ISSUER" \
		--service "$RV_TOKEN_SERVICE" --expires-in "${RV_TOKEN_EXPIRES_IN:-300}"
	echo "$RV_SPAWNED_PID" >"$d/pid"
}

rv_tokend_wait() { # DIR — sets RV_ADDR
	local d=$1 i port="" code
	for ((i = 0; i < RV_POLL_TRIES; i++)); do
		[[ -s $d/port ]] && port=$(cat "$d/port") && break
		kill -0 "$(cat "$d/pid")" 2>/dev/null ||
			rv_fail_with_log "$d/stderr" "rv-tokend exited while starting"
		sleep 0.1
	done
	[[ -n $port ]] || rv_fail_with_log "$d/stderr" "rv-tokend never wrote its port"
	# An anonymous token request: answered 200 with an empty access list.
	code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 \
		"http://127.0.0.1:$port/token?client_id=rv-harness&service=$RV_TOKEN_SERVICE") || true
	[[ $code == 200 ]] || rv_fail_with_log "$d/stderr" "rv-tokend answers $code, want 200"
	rv_record_child "$(cat "$d/pid")" tokend
	RV_ADDR=127.0.0.1:$port
}

# ---- fault proxy -----------------------------------------------------------------

# rv_faultproxy_start NAME UPSTREAM [rv-faultproxy options...] — start
# rv-faultproxy in front of UPSTREAM (127.0.0.1:PORT). Files in
# $RV_DIR/proxy-NAME/: port, requests.log (--log), stderr, pid. The binary is
# $RV_FAULTPROXY_BIN, else $RV_FAULTPROXY, else rv-faultproxy from PATH.
rv_faultproxy_start() {
	local name=$1 upstream=$2 d=$RV_DIR/proxy-$1
	shift 2
	mkdir -p "$d"
	rm -f "$d/port"
	: >"$d/requests.log"
	rv_spawn "faultproxy-$name" "$d/stderr" "${RV_FAULTPROXY_BIN:-${RV_FAULTPROXY:-rv-faultproxy}}" \
		--upstream "$upstream" --port-file "$d/port" --log "$d/requests.log" "$@"
	echo "$RV_SPAWNED_PID" >"$d/pid"
}

# rv_faultproxy_wait NAME [WANT] — read the port file (written atomically
# once it listens), then GET /v2/ through the proxy must answer WANT
# (default 200: start it with --skip-path-prefix /v2/). Sets RV_ADDR.
rv_faultproxy_wait() {
	local name=$1 want=${2:-200} d=$RV_DIR/proxy-$1 i port="" code
	for ((i = 0; i < 250; i++)); do # x 0.02 s
		[[ -s $d/port ]] && port=$(cat "$d/port") && break
		kill -0 "$(cat "$d/pid")" 2>/dev/null ||
			rv_fail_with_log "$d/stderr" "rv-faultproxy $name exited while starting"
		sleep 0.02
	done
	[[ -n $port ]] || rv_fail_with_log "$d/stderr" "rv-faultproxy $name never wrote its port"
	code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "http://127.0.0.1:$port/v2/") || true
	[[ $code == "$want" ]] ||
		rv_fail_with_log "$d/stderr" "rv-faultproxy $name answers /v2/ with $code, want $want"
	rv_record_child "$(cat "$d/pid")" "faultproxy-$name"
	RV_ADDR=127.0.0.1:$port
}

# ---- pushing and checking ------------------------------------------------------------

# rv_skopeo SRC DEST [skopeo options...] — copy with digests preserved.
rv_skopeo() {
	local src=$1 dst=$2 out
	shift 2
	if ! out=$(skopeo --policy "$RV_DIR/policy.json" copy --all --preserve-digests --quiet \
		--retry-times 0 --dest-authfile "$RV_AUTHFILE" "$@" "$src" "$dst" 2>&1); then
		echo "$out" >&2
		rv_die "skopeo copy $src $dst failed"
	fi
}

# rv_manifest_digest URL [curl options...] — GET a manifest, print the sha256
# of the bytes; fail unless Docker-Content-Digest says the same.
rv_manifest_digest() {
	local url=$1 hdr body sum said
	shift
	hdr=$(mktemp "$RV_DIR/hdr.XXXXXX")
	body=$(mktemp "$RV_DIR/body.XXXXXX")
	curl -sf --max-time 10 -H "Accept: $RV_MANIFEST_ACCEPT" -D "$hdr" -o "$body" "$@" "$url" ||
		rv_die "GET $url failed"
	sum=sha256:$(sha256sum <"$body" | cut -d' ' -f1)
	said=$(tr -d '\r' <"$hdr" | sed -n 's/^[Dd]ocker-[Cc]ontent-[Dd]igest: *//p' | tail -n1)
	rm -f "$hdr" "$body"
	[[ $said == "$sum" ]] || rv_die "GET $url: Docker-Content-Digest $said but bytes hash to $sum"
	echo "$sum"
}

rv_expect_digest() { # URL WANT [curl options...]
	local url=$1 want=$2 got
	shift 2
	got=$(rv_manifest_digest "$url" "$@")
	[[ $got == "$want" ]] || rv_die "$url has digest $got, fixture says $want"
}

# ---- seeding storage directly --------------------------------------------------------

# rv_seed_tags REPO_DIR DIGEST COUNT — tags t00001..t(COUNT-1) on DIGEST, laid
# out as D28 writes them (registry/storage/paths.go): a tag is
# _manifests/tags/<tag>/current/link plus index/<alg>/<hex>/link, each file
# holding the bare digest. DIGEST must already be pushed to the repository
# (its revision and layer links exist), which makes the tags fully servable.
rv_seed_tags() {
	local repo=$1 digest=$2 count=$3 hex i t dirs=()
	hex=${digest#sha256:}
	[[ -d $repo/_manifests/revisions/sha256/$hex ]] ||
		rv_die "rv_seed_tags: $digest is not pushed to $repo"
	for ((i = 1; i < count; i++)); do
		printf -v t 't%05d' "$i"
		dirs+=("$repo/_manifests/tags/$t/current" "$repo/_manifests/tags/$t/index/sha256/$hex")
	done
	printf '%s\0' "${dirs[@]}" | xargs -0 mkdir -p
	for ((i = 1; i < count; i++)); do
		printf -v t 't%05d' "$i"
		printf '%s' "$digest" >"$repo/_manifests/tags/$t/current/link"
		printf '%s' "$digest" >"$repo/_manifests/tags/$t/index/sha256/$hex/link"
	done
}

# rv_seed_repos REPOS_DIR TEMPLATE TAG PREFIX COUNT — COUNT copies of the
# pushed repository TEMPLATE named PREFIX000.., each keeping only TAG.
rv_seed_repos() {
	local repos=$1 template=$2 tag=$3 prefix=$4 count=$5 tmpl i name
	((count > 0)) || return 0
	tmpl=$RV_DIR/repo-template
	rm -rf "$tmpl"
	cp -a "$repos/$template" "$tmpl"
	find "$tmpl/_manifests/tags" -mindepth 1 -maxdepth 1 ! -name "$tag" -exec rm -rf {} +
	mkdir -p "$repos/$(dirname "${prefix}000")"
	for ((i = 0; i < count; i++)); do
		printf -v name '%s%03d' "$prefix" "$i"
		cp -a "$tmpl" "$repos/$name"
	done
	rm -rf "$tmpl"
}
