#!/bin/bash
# tests/harness/faultproxy.sh — does rv-faultproxy do what README.md says?
# Starts its own proxies (RV_FAULTPROXY from the harness env) in front of the
# real `plain` registry, one fault at a time at --rate 1, and checks each with
# curl; then --rate 0 must be byte-identical, uploads included. Needs
# $RV_HARNESS_ENV (ctest fixture `registries`).
set -uo pipefail

[[ -r ${RV_HARNESS_ENV:-} ]] || {
	echo "faultproxy: RV_HARNESS_ENV is not set or unreadable; is harness_up done?" >&2
	exit 1
}
while IFS= read -r line; do
	[[ $line == *=* ]] || continue
	printf -v "${line%%=*}" '%s' "${line#*=}"
done <"$RV_HARNESS_ENV"

[[ -x ${RV_FAULTPROXY:-} ]] || {
	echo "faultproxy: no RV_FAULTPROXY in $RV_HARNESS_ENV: build target rv-faultproxy, rerun harness_up" >&2
	exit 1
}
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TMP=$(mktemp -d)
RV_DIR=$TMP/run # our proxies' files and PIDs (lib.sh signals only these)
mkdir -p "$RV_DIR"
touch "$RV_DIR/.rv-harness"
RV_HARNESS_TTL=300
# shellcheck source=lib.sh
source "$HERE/lib.sh"
RV_FAULTPROXY_BIN=$RV_FAULTPROXY
trap 'rv_stop_recorded; rm -rf "$TMP"' EXIT

ACCEPT='application/vnd.oci.image.manifest.v1+json'
UP=$RV_REG_PLAIN
UPLOG=$RV_HARNESS_DIR/reg-plain/log # registry access log (log level info)
TAG=t/faultproxy-$$-$RANDOM         # our repositories and request markers
BLOB=${RV_FX_IMAGE_LAYERS%%,*}      # image's first layer, the largest (~64 KiB)
BLOB_SIZE=$(curl -sf --max-time 10 -o "$TMP/blob" -w '%{size_download}' "http://$UP/v2/fx/image/blobs/$BLOB")
fails=0
ok() { echo "ok   $*"; }
bad() {
	echo "FAIL $*"
	fails=$((fails + 1))
}
verdict() { # DESCRIPTION — report the exit status of the command just before
	local rc=$?
	if ((rc == 0)); then ok "$1"; else bad "$1"; fi
	return "$rc"
}
sha() { echo "sha256:$(sha256sum <"$1" | cut -d' ' -f1)"; }
header() { # FILE NAME — last value of a response header
	tr -d '\r' <"$1" | sed -n "s/^$2: *//Ip" | tail -n1
}
proxy() { # NAME OPTIONS... — start a proxy in front of plain; address in PX
	rv_faultproxy_start "$1" "$UP" --skip-path-prefix /v2/ "${@:2}"
	rv_faultproxy_wait "$1" 200
	PX=$RV_ADDR
}
plog() { cat "$RV_DIR/proxy-$1/requests.log"; }
[[ $BLOB_SIZE -gt 1000 && $(sha "$TMP/blob") == "$BLOB" ]] || {
	echo "faultproxy: cannot fetch $BLOB from plain" >&2
	exit 1
}
head -c $((3 * 1024 * 1024 + 17)) /dev/urandom >"$TMP/upload" # > 1 read buffer, odd size
UPLOAD_DIGEST=$(sha "$TMP/upload")

# ---- --rate 0: everything passes, byte for byte ----------------------------------------
proxy pass --rate 0 --faults 429,500,502,503,reset,truncate,stall,flip
P=http://$PX/v2
got=$(curl -s -o "$TMP/b" -w '%{http_code}' --max-time 10 "$P/fx/image/blobs/$BLOB")
[[ $got == 200 && $(sha "$TMP/b") == "$BLOB" ]]
verdict "rate 0: blob GET 200, sha256 = digest"
curl -s -I -o "$TMP/h" --max-time 10 "$P/fx/image/blobs/$BLOB"
[[ $(header "$TMP/h" Content-Length) == "$BLOB_SIZE" ]]
verdict "rate 0: blob HEAD keeps Content-Length $BLOB_SIZE"
curl -s -D "$TMP/h" -o "$TMP/b" --max-time 10 -H "Accept: $ACCEPT" "$P/fx/image/manifests/v1?marker=$TAG"
[[ $(sha "$TMP/b") == "$RV_FX_IMAGE_DIGEST" && $(header "$TMP/h" Docker-Content-Digest) == "$RV_FX_IMAGE_DIGEST" ]]
verdict "rate 0: manifest bytes and Docker-Content-Digest = fixture"
curl -s -D "$TMP/h" -o /dev/null --max-time 10 "$P/_catalog?n=100"
grep -qi '^Link: </v2/_catalog?last=' "$TMP/h"
verdict "rate 0: catalog Link header passes"
out=$(curl -s -o /dev/null -w '%{http_code} %{num_connects} ' --max-time 10 "$P/fx/image/blobs/$BLOB" \
	-o /dev/null "$P/fx/image/blobs/$BLOB")
[[ $out == "200 1 200 0 " ]]
verdict "rate 0: keep-alive: the second request reuses the connection ($out)"

# monolithic upload: POST, then PUT 3 MiB to the Location with Expect: 100-continue
curl -s -X POST -D "$TMP/h" -o /dev/null --max-time 10 "$P/$TAG/mono/blobs/uploads/"
loc=$(header "$TMP/h" Location)
[[ $loc == "http://$PX/v2/$TAG/mono/blobs/uploads/"* ]]
verdict "rate 0: upload Location is rewritten to the proxy"
got=$(curl -s -X PUT -D "$TMP/h" -o /dev/null -w '%{http_code}' --max-time 30 -H 'Expect: 100-continue' \
	-H 'Content-Type: application/octet-stream' --data-binary @"$TMP/upload" "$loc&digest=$UPLOAD_DIGEST")
[[ $got == 201 && $(header "$TMP/h" Location) == "http://$PX/"* ]]
verdict "rate 0: PUT 3 MiB with Expect: 100-continue → $got, Location names the proxy"
curl -s -o "$TMP/b" --max-time 10 "http://$UP/v2/$TAG/mono/blobs/$UPLOAD_DIGEST"
[[ $(sha "$TMP/b") == "$UPLOAD_DIGEST" ]]
verdict "rate 0: upstream holds the uploaded bytes"
curl -s -o "$TMP/b" --max-time 10 "$P/$TAG/mono/blobs/$UPLOAD_DIGEST"
cmp -s "$TMP/b" "$TMP/upload"
verdict "rate 0: 3 MiB blob GET through the proxy is identical"

# chunked PATCH, then PUT without a body
curl -s -X POST -D "$TMP/h" -o /dev/null --max-time 10 "$P/$TAG/chunked/blobs/uploads/"
loc=$(header "$TMP/h" Location)
got=$(curl -s -X PATCH -D "$TMP/h" -o /dev/null -w '%{http_code}' --max-time 30 \
	-H 'Transfer-Encoding: chunked' -H 'Content-Type: application/octet-stream' \
	--data-binary @"$TMP/upload" "$loc")
loc=$(header "$TMP/h" Location)
got2=$(curl -s -X PUT -o /dev/null -w '%{http_code}' --max-time 30 "$loc&digest=$UPLOAD_DIGEST")
curl -s -o "$TMP/b" --max-time 10 "http://$UP/v2/$TAG/chunked/blobs/$UPLOAD_DIGEST"
[[ $got == 202 && $got2 == 201 && $(sha "$TMP/b") == "$UPLOAD_DIGEST" ]]
verdict "rate 0: chunked PATCH ($got) + PUT ($got2): the upload arrives intact"
n=$(plog pass | wc -l)
[[ $n == 13 && $(plog pass | grep -vc ' pass [0-9]*$') == 0 ]]
verdict "rate 0: one log line per request, all pass ($n)"
! grep -q '[?]' "$RV_DIR/proxy-pass/requests.log"
verdict "rate 0: the log holds no query string"
grep -q "manifests/v1?marker=$TAG" "$UPLOG"
verdict "upstream's access log shows requests made through the proxy"

# an independent client end to end: skopeo pushes through the proxy
if skopeo --policy "$RV_SKOPEO_POLICY" copy --quiet --retry-times 0 --dest-tls-verify=false \
	"oci:$RV_FX_LAYOUT:image" "docker://$PX/$TAG/skopeo:v1" >"$TMP/skopeo.log" 2>&1; then
	curl -s -o "$TMP/b" --max-time 10 -H "Accept: $ACCEPT" "http://$UP/v2/$TAG/skopeo/manifests/v1"
	[[ $(sha "$TMP/b") == "$RV_FX_IMAGE_DIGEST" ]]
	verdict "rate 0: skopeo pushes through the proxy, digest kept"
else
	bad "rate 0: skopeo push through the proxy: $(tail -n3 "$TMP/skopeo.log")"
fi

# ---- status faults: answered by the proxy, upstream never asked ---------------------------
status_fault() { # STATUS CODE
	local st=$1 code=$2 mark=$TAG/status-$1 got out
	proxy "s$st" --rate 1 --faults "$st" --retry-after 3
	P=http://$PX/v2
	got=$(curl -s -D "$TMP/h" -o "$TMP/b" -w '%{http_code}' --max-time 10 "$P/$mark/manifests/v1")
	[[ $got == "$st" ]] && grep -q "^{\"errors\":\[{\"code\":\"$code\"" "$TMP/b"
	verdict "$st: answered $got with {\"errors\":[{\"code\":\"$code\"…"
	if [[ $st == 429 ]]; then
		[[ $(header "$TMP/h" Retry-After) == 3 ]]
		verdict "429: Retry-After: 3 (--retry-after)"
	fi
	got=$(curl -s -I -o /dev/null -w '%{http_code} %{size_download}' --max-time 10 "$P/$mark/blobs/$BLOB")
	[[ $got == "$st 0" ]]
	verdict "$st: HEAD gets the status and no body ($got)"
	# a body is drained and the connection stays usable
	out=$(curl -s -o /dev/null -w '%{http_code} %{num_connects} %{size_upload} ' --max-time 10 \
		-X PUT -H 'Expect:' --data-binary @"$TMP/upload" "$P/$mark/blobs/uploads/x" \
		--next -s -o /dev/null -w '%{http_code} %{num_connects}' --max-time 10 "$P/$mark/tags/list")
	[[ $out == "$st 1 $(stat -c %s "$TMP/upload") $st 0" ]]
	verdict "$st: a 3 MiB PUT body is drained, the next request reuses the connection ($out)"
	# with Expect: 100-continue the body is never sent
	got=$(curl -s -o /dev/null -w '%{http_code} %{size_upload}' --max-time 10 -X PUT \
		-H 'Expect: 100-continue' --data-binary @"$TMP/upload" "$P/$mark/blobs/uploads/y")
	[[ $got == "$st 0" ]]
	verdict "$st: Expect: 100-continue is answered before the body ($got)"
	got=$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 "$P/")
	[[ $got == 200 ]]
	verdict "$st: /v2/ is exempt (--skip-path-prefix /v2/)"
	! grep -q "$mark" "$UPLOG"
	verdict "$st: upstream's access log never saw a faulted request"
	[[ $(plog "s$st" | grep -c " $st $st\$") == 5 && $(plog "s$st" | grep -c '^GET /v2/ pass 200$') == 2 ]]
	verdict "$st: 5 faulted and 2 passed lines in the log"
}
status_fault 429 TOOMANYREQUESTS
status_fault 500 UNKNOWN
status_fault 502 UNKNOWN
status_fault 503 UNAVAILABLE

# ---- body faults on a blob GET ----------------------------------------------------------
proxy reset --rate 1 --faults reset
out=$(curl -s -o "$TMP/b" -w '%{size_download}' --max-time 10 "http://$PX/v2/fx/image/blobs/$BLOB")
rc=$?
[[ ($rc == 18 || $rc == 56) && $out -lt $BLOB_SIZE ]]
verdict "reset: curl fails with $rc (want 18 or 56) after $out of $BLOB_SIZE bytes"
got=$(curl -s -I -o /dev/null -w '%{http_code}' --max-time 10 -H "Accept: $ACCEPT" \
	"http://$PX/v2/fx/image/manifests/v1")
[[ $got == 200 ]]
verdict "reset: a HEAD (no body) passes ($got)"
[[ $(plog reset | cut -d' ' -f3,4 | tr '\n' ' ') == "pass 200 reset 200 pass 200 " ]]
verdict "reset: logged reset, the HEAD pass"

proxy truncate --rate 1 --faults truncate
out=$(curl -s -o "$TMP/b" -w '%{size_download}' --max-time 10 "http://$PX/v2/fx/image/blobs/$BLOB")
rc=$?
[[ $rc == 18 && $out == $((BLOB_SIZE / 2)) ]]
verdict "truncate: curl fails with $rc (want 18) after $out of $BLOB_SIZE bytes (want half)"
cmp -s "$TMP/b" <(head -c "$out" "$TMP/blob")
verdict "truncate: the bytes it got are the blob's"

proxy flip --rate 1 --faults flip
curl -s -o "$TMP/b" --max-time 10 "http://$PX/v2/fx/image/blobs/$BLOB"
rc=$?
[[ $rc == 0 && $(stat -c %s "$TMP/b") == "$BLOB_SIZE" && $(sha "$TMP/b") != "$BLOB" &&
	$(cmp -l "$TMP/b" "$TMP/blob" | wc -l) == 1 ]]
verdict "flip: 200, same length, sha256 differs, exactly one byte differs"
curl -s -o "$TMP/b" --max-time 10 -H "Accept: $ACCEPT" "http://$PX/v2/fx/image/manifests/v1"
[[ $(sha "$TMP/b") == "$RV_FX_IMAGE_DIGEST" ]]
verdict "flip: a manifest is not a blob: intact"
[[ $(plog flip | cut -d' ' -f3 | tr '\n' ' ') == "pass flip pass " ]]
verdict "flip: logged flip, the manifest pass"

# --only-path-prefix: one blob flips on every GET, another passes (no draw)
BLOB2=$(cut -d, -f2 <<<"$RV_FX_IMAGE_LAYERS")
proxy only --rate 1 --faults flip --only-path-prefix "/v2/fx/image/blobs/$BLOB"
curl -s -o "$TMP/b" --max-time 10 "http://$PX/v2/fx/image/blobs/$BLOB"
curl -s -o "$TMP/b2" --max-time 10 "http://$PX/v2/fx/image/blobs/$BLOB"
curl -s -o "$TMP/c" --max-time 10 "http://$PX/v2/fx/image/blobs/$BLOB2"
[[ $(sha "$TMP/b") != "$BLOB" && $(sha "$TMP/b2") != "$BLOB" && $(sha "$TMP/c") == "$BLOB2" ]]
verdict "--only-path-prefix: the chosen blob flips on every GET, another blob is intact"
[[ $(plog only | cut -d' ' -f2,3 | tr '\n' ' ') == "/v2/ pass /v2/fx/image/blobs/$BLOB flip /v2/fx/image/blobs/$BLOB flip /v2/fx/image/blobs/$BLOB2 pass " ]]
verdict "--only-path-prefix: logged flip, flip, pass"

proxy stall --rate 1 --faults stall --stall-ms 1500
read -r ttfb total < <(curl -s -o "$TMP/b" -w '%{time_starttransfer} %{time_total}' --max-time 10 \
	"http://$PX/v2/fx/image/blobs/$BLOB")
awk -v a="$ttfb" -v b="$total" 'BEGIN { exit !(b - a >= 1.4 && a < 1) }'
verdict "stall: head at once (${ttfb} s), body done after the 1.5 s pause (${total} s)"
[[ $(sha "$TMP/b") == "$BLOB" ]]
verdict "stall: bytes intact"

# ---- same seed, same faults --------------------------------------------------------------
pattern() { # NAME SEED — statuses of 24 sequential requests through a fresh proxy
	local i s=""
	proxy "$1" --rate 0.5 --faults 429,503 --seed "$2"
	for ((i = 0; i < 24; i++)); do
		s+=$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 -H "Accept: $ACCEPT" \
			"http://$PX/v2/fx/image/manifests/v1")" "
	done
	PATTERN=$s
}
pattern seed7a 7 && a=$PATTERN
pattern seed7b 7 && b=$PATTERN
pattern seed8 8 && c=$PATTERN
[[ $a == "$b" ]]
verdict "--seed 7 twice gives the same faults: $a"
[[ $a == *200* && $a == *429* && $a == *503* ]]
verdict "--rate 0.5 mixes passes and both faults"
[[ $a != "$c" ]]
verdict "--seed 8 gives others: $c"

# ---- TERM stops it at once, even mid-stall --------------------------------------------------
proxy long --rate 1 --faults stall --stall-ms 60000
curl -s -o /dev/null --max-time 30 "http://$PX/v2/fx/image/blobs/$BLOB" &
cpid=$!
sleep 0.3
t0=$(rv_now_ms)
rv_stop_recorded
wait "$cpid"
crc=$?
t=$(($(rv_now_ms) - t0))
[[ $t -lt 3000 && $crc != 0 ]]
verdict "TERM mid-stall: all proxies gone in $t ms, the stalled curl fails ($crc)"
n=0
for f in "$RV_DIR"/proxy-*/stderr; do
	n=$((n + 1))
	what="$(basename "$(dirname "$f")"): clean exit"
	grep -q '^rv-faultproxy: stopped$' "$f" && ! grep -qE 'Sanitizer|runtime error' "$f"
	verdict "$what" || tail -n5 "$f"
done
[[ $n -ge 13 ]]
verdict "$n proxies checked"

echo "faultproxy: $fails failure(s)"
((fails == 0))
