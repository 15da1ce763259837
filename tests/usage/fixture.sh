# shellcheck shell=bash
# tests/usage/fixture.sh — a registry whose storage is known to the byte,
# for `catalog usage` (sourced by tests/usage/*.sh and tests/cli/live).
#
# usage_registry_start DIR: starts a private docker-registry (tests/harness
#   lib.sh; files under DIR, stopped by usage_registry_stop) and sets REG.
#   `catalog usage HOST` reads the whole registry: the shared harness
#   registries change under parallel tests, this one does not.
# usage_fixture_push DIR: pushes the images below with curl (no client of
#   ours in between: the bytes are exactly the files in DIR/blobs) and sets
#   D_<NAME> to each manifest's digest.
#
# Blobs (every size exact; configs are padded to 100 bytes):
#   L1..L5   layers of 1000, 2000, 3000, 4000, 5000 bytes ("a"… "e" repeated)
#   C1..C4   configs, 100 bytes each
# Manifests, compact JSON of 247 + 150 × layers bytes (246 bytes up to the
# first layer, 149 per layer descriptor, a comma between two, "]}"):
#   WEB1 = C1 [L1 L2]     547     app/web:v1, and the same bytes as mirror/web:v1
#   WEB2 = C2 [L1 L3]     547     app/web:v2
#   API  = C3 [L1 L2 L4]  697     app/api:v1 and app/api:v1-copy
#   OS   = C4 [L1]        397     base/os:1
#   JOB  = C3 [L5]        397     tools/job:1
#   OLD  = C2 [L3]        397     app/web, pushed by digest only (untagged)

fixture_here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

usage_registry_start() {
	# shellcheck source=../harness/lib.sh
	source "$fixture_here/../harness/lib.sh"
	RV_DIR=$1/reg-harness
	RV_STORE=$1/reg-storage
	mkdir -p "$RV_DIR" "$RV_STORE"
	rv_registry_config usage plain
	rv_registry_start usage
	rv_registry_wait usage http 200
	REG=$RV_ADDR
}

usage_registry_stop() {
	rv_stop_recorded >/dev/null 2>&1 || true
}

# fixture_blob NAME SIZE CHAR: DIR/blobs/NAME, SIZE bytes of CHAR.
fixture_blob() {
	head -c "$2" /dev/zero | tr '\0' "$3" >"$fixture_dir/blobs/$1"
}

# fixture_config NAME: a 100-byte image config.
fixture_config() {
	local c='{"architecture":"amd64","os":"linux","comment":"%s"}' pad
	pad=$(printf '%-50s' "config-$1" | tr ' ' '.')
	# shellcheck disable=SC2059 # the format is ours
	printf "$c" "$pad" >"$fixture_dir/blobs/$1"
}

fixture_digest() {
	echo "sha256:$(sha256sum "$fixture_dir/blobs/$1" | cut -d' ' -f1)"
}

fixture_size() {
	wc -c <"$fixture_dir/blobs/$1" | tr -d ' '
}

# fixture_manifest NAME CONFIG LAYER...: the manifest's bytes in DIR/blobs/NAME.
fixture_manifest() {
	local name=$1 config=$2 l sep="" m
	shift 2
	m='{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",'
	m+='"config":{"mediaType":"application/vnd.oci.image.config.v1+json",'
	m+="\"digest\":\"$(fixture_digest "$config")\",\"size\":$(fixture_size "$config")},\"layers\":["
	for l in "$@"; do
		m+="$sep{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar\","
		m+="\"digest\":\"$(fixture_digest "$l")\",\"size\":$(fixture_size "$l")}"
		sep=,
	done
	printf '%s]}' "$m" >"$fixture_dir/blobs/$name"
	printf -v "D_$name" '%s' "$(fixture_digest "$name")"
}

# push_blob REPO NAME: a monolithic upload (distribution-spec: POST, then
# PUT with the digest).
push_blob() {
	local loc sep='?'
	loc=$(curl -fsS -X POST -D - -o /dev/null "http://$REG/v2/$1/blobs/uploads/" |
		tr -d '\r' | sed -n 's/^[Ll]ocation: *//p')
	[[ -n $loc ]] || { echo "fixture: no upload location for $1" >&2; return 1; }
	[[ $loc == http* ]] || loc=http://$REG$loc
	[[ $loc == *'?'* ]] && sep='&'
	curl -fsS -o /dev/null -X PUT -H 'Content-Type: application/octet-stream' \
		--data-binary @"$fixture_dir/blobs/$2" "$loc${sep}digest=$(fixture_digest "$2")"
}

# push_image REPO REF MANIFEST CONFIG LAYER...
push_image() {
	local repo=$1 ref=$2 m=$3 b
	shift 3
	for b in "$@"; do
		push_blob "$repo" "$b" || return 1
	done
	curl -fsS -o /dev/null -X PUT -H 'Content-Type: application/vnd.oci.image.manifest.v1+json' \
		--data-binary @"$fixture_dir/blobs/$m" "http://$REG/v2/$repo/manifests/$ref"
}

usage_fixture_push() {
	fixture_dir=$1/fixture
	mkdir -p "$fixture_dir/blobs"
	fixture_blob L1 1000 a
	fixture_blob L2 2000 b
	fixture_blob L3 3000 c
	fixture_blob L4 4000 d
	fixture_blob L5 5000 e
	local c
	for c in C1 C2 C3 C4; do
		fixture_config "$c"
	done
	fixture_manifest WEB1 C1 L1 L2
	fixture_manifest WEB2 C2 L1 L3
	fixture_manifest API C3 L1 L2 L4
	fixture_manifest OS C4 L1
	fixture_manifest JOB C3 L5
	fixture_manifest OLD C2 L3
	push_image app/web v1 WEB1 C1 L1 L2 &&
		push_image app/web v2 WEB2 C2 L1 L3 &&
		push_image app/web "$D_OLD" OLD C2 L3 &&
		push_image app/api v1 API C3 L1 L2 L4 &&
		push_image app/api v1-copy API &&
		push_image base/os 1 OS C4 L1 &&
		push_image tools/job 1 JOB C3 L5 &&
		push_image mirror/web v1 WEB1 C1 L1 L2
}
