# shellcheck shell=bash
# shellcheck disable=SC2034 # variables for the scripts that source this
# tests/faults/lib.sh — shared by the fault suite (sourced; README.md here).
#
# Every check here is independent of regvault: registries are read with curl
# (never through a proxy), archives are unpacked with tar, the catalog is read
# with sqlite3, and every byte is hashed with sha256sum.
#
# faults_setup NAME: loads the harness env ($RV_HARNESS_ENV), makes $work
#   (removed on exit, after proxies are stopped and mounts undone), sets
#   RV_DIR=$work/px for the harness's proxy helpers and exports
#   REGVAULT_CATALOG=$work/catalog.db.
# Environment: RV_HARNESS_ENV, REGVAULT, RV_MKSCENARIO; FAULTS_KEEP=1 keeps
# $work (to debug).

faults_here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
faults_root=$(cd "$faults_here/../.." && pwd)
faults_mounts=()
# Debian's python3 (scripts/deps) before a version manager's shim, which
# costs seconds a start on a busy machine.
faults_python=/usr/bin/python3
[[ -x $faults_python ]] || faults_python=python3

faults_setup() {
	[[ -x ${REGVAULT:-} ]] || { echo "REGVAULT not set" >&2; exit 1; }
	[[ -r ${RV_HARNESS_ENV:-} ]] || { echo "RV_HARNESS_ENV not readable" >&2; exit 1; }
	while IFS= read -r l; do [[ $l == *=* ]] && printf -v "${l%%=*}" '%s' "${l#*=}"; done <"$RV_HARNESS_ENV"
	[[ -x ${RV_FAULTPROXY:-} ]] || { echo "no RV_FAULTPROXY in $RV_HARNESS_ENV" >&2; exit 1; }
	work=$(mktemp -d "${TMPDIR:-/tmp}/rv-$1.XXXXXX")
	RV_DIR=$work/px
	RV_HARNESS_TTL=600 # our proxies die with a hung test at the latest
	mkdir -p "$RV_DIR"
	# shellcheck source=../harness/lib.sh
	source "$faults_root/tests/harness/lib.sh"
	RV_FAULTPROXY_BIN=$RV_FAULTPROXY
	export REGVAULT_CATALOG=$work/catalog.db
	trap faults_cleanup EXIT
}

faults_cleanup() {
	local m
	rv_stop_recorded
	for m in "${faults_mounts[@]}"; do
		umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || echo "cannot unmount $m" >&2
	done
	if [[ ${FAULTS_KEEP:-0} == 1 ]]; then
		echo "kept $work" >&2
	else
		rm -rf "$work"
	fi
}

# faults_mount DIR OPTIONS — a tmpfs at DIR, unmounted on exit. Exit 77
# (ctest: skipped) when mounting is not permitted here.
faults_mount() {
	mkdir -p "$1"
	if ! mount -t tmpfs -o "$2" tmpfs "$1" 2>"$work/mount.err"; then
		echo "SKIP: cannot mount a tmpfs ($(tr -s "\n " " " <"$work/mount.err")): disk faults need root" >&2
		exit 77
	fi
	faults_mounts+=("$1")
}

fail() {
	echo "FAIL: $*" >&2
	exit 1
}

# want RC ARGS... — run regvault, fail unless it exits RC; $work/out, $work/err.
want() {
	local rc=0 w=$1
	shift
	"$REGVAULT" "$@" >"$work/out" 2>"$work/err" || rc=$?
	if ((rc != w)); then
		tail -n 20 "$work/err" >&2
		fail "regvault $* exited $rc, want $w"
	fi
	no_sanitizer_report
}

# no_sanitizer_report — under ASan/UBSan a report may not change the exit
# status the test expects (1, say): look for one in $work/err.
no_sanitizer_report() {
	if grep -qE 'ERROR: (Address|Leak|Undefined)Sanitizer|runtime error:' "$work/err"; then
		cat "$work/err" >&2
		fail "a sanitizer reported (above)"
	fi
}

# proxy NAME UPSTREAM OPTIONS... — an rv-faultproxy of our own (its log in
# $RV_DIR/proxy-NAME/requests.log); the ping GET /v2/ is exempt, so waiting
# for it draws nothing from the seeded PRNG. Address in $PX.
proxy() {
	rv_faultproxy_start "$1" "$2" --skip-path-prefix /v2/ "${@:3}"
	rv_faultproxy_wait "$1" 200
	PX=$RV_ADDR
}

# proxy_log NAME — its request log.
proxy_log() {
	echo "$RV_DIR/proxy-$1/requests.log"
}

# count_faults LOG... — sets FAULTS_LINE to "N injected in M requests (429
# a, 500 b, …)" over the logs' lines, FAULTS_TOTAL to N, FAULTS_REQUESTS to
# M and FAULTS_KINDS to the number of kinds seen. (No output: call it
# directly, not in $(…), or the variables stay in the subshell.)
fault_kinds=(429 500 502 503 reset truncate stall flip)
count_faults() {
	local k n parts=() total=0 kinds=0
	for k in "${fault_kinds[@]}"; do
		n=$(cat "$@" | awk -v k="$k" '$3 == k' | wc -l)
		parts+=("$k $n")
		total=$((total + n))
		((n > 0)) && kinds=$((kinds + 1))
	done
	local joined
	joined=$(printf '%s, ' "${parts[@]}")
	FAULTS_TOTAL=$total FAULTS_KINDS=$kinds FAULTS_REQUESTS=$(cat "$@" | wc -l)
	FAULTS_LINE="$total injected in $FAULTS_REQUESTS requests (${joined%, })"
}

# ---- registries, read directly -------------------------------------------------------

manifest_accept='application/vnd.oci.image.index.v1+json,application/vnd.oci.image.manifest.v1+json,application/vnd.docker.distribution.manifest.list.v2+json,application/vnd.docker.distribution.manifest.v2+json'

sha_of() { echo "sha256:$(sha256sum <"$1" | cut -d' ' -f1)"; }

# check_registry REG PREFIX LINES — the registry REG (read directly, one
# curl per phase) holds every manifest of LINES (expected.tsv lines: repo,
# digest, tags) under PREFIX/repo (PREFIX empty: repo itself): by digest
# its bytes hash to the digest, every tag names it, and every blob it
# references (config, layers) is there and hashes to its digest. Index
# children must be among LINES. Prints each problem; sets CHECKED (the
# digests proven there, one a line, in $work/checked) and returns the
# number of problems.
check_registry() {
	local reg=$1 prefix=$2 lines=$3 d=$work/chk bad=0 i=0 nb=0 repo digest tags rest dst f t tl
	local url got code kind ntags=0 targs=() args=() bargs=()
	declare -A have=() want_tag=() good=() where=() blob_seen=()
	rm -rf "$d"
	mkdir -p "$d/m" "$d/b"
	: >"$work/checked"
	# Few processes: the machine is shared, and a process each would cost
	# more than the checks (one curl, one sha256sum, one jq per phase).
	while IFS=$'\t' read -r repo digest tags rest; do
		[[ -n $repo ]] || continue
		dst=${prefix:+$prefix/}$repo
		have[$digest]=1
		where[$d/m/$i]="$dst $digest"
		args+=(-o "$d/m/$i" "http://$reg/v2/$dst/manifests/$digest")
		if [[ $tags != - ]]; then
			IFS=, read -r -a tl <<<"$tags"
			for t in "${tl[@]}"; do
				targs+=(-o /dev/null "http://$reg/v2/$dst/manifests/$t")
				want_tag["http://$reg/v2/$dst/manifests/$t"]=$digest
				ntags=$((ntags + 1))
			done
		fi
		i=$((i + 1))
	done <"$lines"
	curl -s --fail --max-time 300 -H "Accept: $manifest_accept" "${args[@]}" || true
	while read -r got f; do
		read -r dst digest <<<"${where[$f]}"
		if [[ sha256:$got == "$digest" ]]; then
			good[$f]=1
			echo "$digest" >>"$work/checked"
		else
			echo "$reg/$dst@$digest: manifest bytes hash to sha256:$got" >&2
			bad=$((bad + 1))
		fi
	done < <(find "$d/m" -type f -print0 | xargs -0 -r sha256sum)
	for f in "${!where[@]}"; do
		[[ -s $f ]] || { echo "$reg/${where[$f]/ /@}: manifest missing" >&2; bad=$((bad + 1)); }
	done
	while read -r kind f t; do
		[[ -n ${good[$f]-} ]] || continue
		read -r dst digest <<<"${where[$f]}"
		if [[ $kind == C ]]; then
			[[ -n ${have[$t]-} ]] || { echo "$reg/$dst@$digest: child $t not among the images" >&2; bad=$((bad + 1)); }
			continue
		fi
		[[ -n ${blob_seen[$dst@$t]-} ]] && continue
		blob_seen[$dst@$t]=1
		bargs+=(-o "$d/b/$nb" "http://$reg/v2/$dst/blobs/$t")
		where[$d/b/$nb]="$dst $t"
		nb=$((nb + 1))
	done < <(cd "$d/m" && find . -type f -print0 | xargs -0 -r jq -r --arg d "$d/m/" \
		'input_filename as $f | ($d + ($f | ltrimstr("./"))) as $p
		 | ((.config.digest // empty), (.layers[]?.digest) | "B " + $p + " " + .),
		   (.manifests[]?.digest | "C " + $p + " " + .)')
	if ((${#targs[@]})); then
		# -w is one format for every transfer: the URL tells them apart
		while read -r url code got; do
			[[ -n ${want_tag[$url]-} ]] || continue
			[[ $code == 200 && $got == "${want_tag[$url]}" ]] || {
				echo "$url: HTTP $code, names '$got', want ${want_tag[$url]}" >&2
				bad=$((bad + 1))
			}
			unset "want_tag[$url]"
		done < <(curl -s -I --max-time 300 -H "Accept: $manifest_accept" \
			-w '%{url_effective} %{http_code} %header{docker-content-digest}\n' "${targs[@]}" |
			tr -d '\r' | grep '^http')
		for url in "${!want_tag[@]}"; do
			echo "$url: no answer" >&2
			bad=$((bad + 1))
		done
	fi
	if ((nb)); then
		curl -s --fail --max-time 300 "${bargs[@]}" || true
		declare -A ok=()
		while read -r got f; do
			read -r dst digest <<<"${where[$f]}"
			[[ sha256:$got == "$digest" ]] && ok[$f]=1 && echo "$digest" >>"$work/checked"
		done < <(find "$d/b" -type f -print0 | xargs -0 -r sha256sum)
		for ((t = 0; t < nb; t++)); do
			[[ -n ${ok[$d/b/$t]-} ]] || { echo "$reg/${where[$d/b/$t]/ / blob }: missing or its bytes differ" >&2; bad=$((bad + 1)); }
		done
	fi
	sort -u -o "$work/checked" "$work/checked"
	echo "checked $i manifests, $ntags tags and $nb blobs on $reg${prefix:+/$prefix}" >&2
	rm -rf "$d"
	return "$bad"
}

# ---- the catalog, read with sqlite3 ----------------------------------------------------

sql() { sqlite3 -readonly -batch -noheader "$REGVAULT_CATALOG" "$@"; }

# catalog_copies_are KIND LOCATION FILE — the verified copies the catalog
# records for the store (kind 1 archive, 2 registry) are exactly the
# digests of FILE (one a line, sorted): nothing missing, nothing recorded
# that was not proven there. Returns the number of differences.
catalog_copies_are() {
	local n
	sql "SELECT c.digest FROM copies c JOIN stores s ON s.id = c.store_id
		WHERE s.kind = $1 AND s.location = '$2' ORDER BY 1" | sort -u >"$work/recorded"
	n=$(comm -3 "$work/recorded" "$3" | wc -l)
	if ((n)); then
		echo "catalog vs $2: '<' recorded only, '>' proven only:" >&2
		comm -3 "$work/recorded" "$3" | sed 's/^\t/> /; t; s/^/< /' | head -n 20 >&2
	fi
	return "$n"
}

# check_volumes — every volume the catalog records is a file of that size and
# sha256, and every blob location in it reads back to bytes that hash to the
# blob's digest (one python3 process: hundreds of locations). Returns the
# number of problems.
check_volumes() {
	"$faults_python" - "$REGVAULT_CATALOG" <<'PY'
import hashlib, os, sqlite3, sys
db = sqlite3.connect("file:%s?mode=ro" % sys.argv[1], uri=True)
bad = n = 0
for vid, store, path, size, sha in db.execute(
        "SELECT v.id, s.location, v.path, v.size, v.sha256 FROM volumes v JOIN stores s ON s.id = v.store_id"):
    f = os.path.join(store, path)
    try:
        data = open(f, "rb").read()
    except OSError as e:
        print("volume %d: %s" % (vid, e), file=sys.stderr)
        bad += 1
        continue
    if len(data) != size or "sha256:" + hashlib.sha256(data).hexdigest() != sha:
        print("volume %d: %s is not %d bytes with %s" % (vid, f, size, sha), file=sys.stderr)
        bad += 1
    for digest, off, length in db.execute(
            "SELECT digest, data_offset, data_length FROM locations WHERE volume_id = ?", (vid,)):
        n += 1
        if "sha256:" + hashlib.sha256(data[off:off + length]).hexdigest() != digest:
            print("volume %d: %s at %d+%d does not hash to it" % (vid, digest, off, length), file=sys.stderr)
            bad += 1
print("checked %d blob locations in the volumes the catalog records" % n, file=sys.stderr)
sys.exit(min(bad, 100))
PY
}

# ---- archive stores, unpacked with tar ----------------------------------------------------

# check_archive DIR SRC LINES — the volumes of archive store DIR, unpacked
# oldest first into one folder with tar (the README's way out without
# regvault), form an OCI layout holding every manifest of LINES and every
# blob they reference, each hashing to its name; index.json names each tag
# as SRC/repo:tag and each untagged image as SRC/repo@digest. Sets
# $work/checked like check_registry; returns the number of problems.
check_archive() {
	local dir=$1 src=$2 lines=$3 lay=$work/layout bad=0 v f repo digest tags rest t tl got n=0
	rm -rf "$lay"
	mkdir -p "$lay"
	for v in "$dir"/volumes/*.tar; do
		tar -xf "$v" -C "$lay" || { echo "$v: tar cannot read it" >&2; bad=$((bad + 1)); }
	done
	[[ -s $lay/oci-layout && -s $lay/index.json ]] || { echo "$dir: no OCI layout in the volumes" >&2; return 1; }
	: >"$work/checked"
	while read -r got f; do
		n=$((n + 1))
		if [[ $got == "${f#./}" ]]; then
			echo "sha256:$got" >>"$work/checked"
		else
			echo "$dir: blob ${f#./} does not hash to its name" >&2
			bad=$((bad + 1))
		fi
	done < <(cd "$lay/blobs/sha256" && find . -type f -print0 | xargs -0 -r sha256sum)
	declare -A named=()
	while read -r t; do named[$t]=1; done < <(jq -r '.manifests[]
		| .annotations["org.opencontainers.image.ref.name"] + " " + .digest' "$lay/index.json")
	while IFS=$'\t' read -r repo digest tags rest; do
		[[ -n $repo ]] || continue
		f=$lay/blobs/sha256/${digest#sha256:}
		[[ -f $f ]] || { echo "$dir: manifest $repo@$digest missing" >&2; bad=$((bad + 1)); continue; }
		echo "$f" >>"$work/manifest-files"
		if [[ $tags == - ]]; then
			continue # an index child or referrer: stored with its parent, not named
		fi
		IFS=, read -r -a tl <<<"$tags"
		for t in "${tl[@]}"; do
			[[ -n ${named["$src/$repo:$t $digest"]-} ]] ||
				{ echo "$dir: index.json does not name $src/$repo:$t $digest" >&2; bad=$((bad + 1)); }
		done
	done <"$lines"
	while read -r f t; do
		[[ -f $lay/blobs/sha256/${t#sha256:} ]] || { echo "$dir: ${f##*/} needs $t, missing" >&2; bad=$((bad + 1)); }
	done < <(xargs -r jq -r 'input_filename as $f | (.config.digest // empty), (.layers[]?.digest),
		(.manifests[]?.digest) | $f + " " + .' <"$work/manifest-files")
	sort -u -o "$work/checked" "$work/checked"
	echo "checked $n blobs and $(grep -c . "$lines") manifests in the volumes of $dir" >&2
	rm -rf "$lay"
	return "$bad"
}
