#!/usr/bin/env bash
# tests/faults/disk_test.sh — ctest `faults_disk`: a full archive file system,
# an unwritable catalog directory and a full catalog file system (tmpfs
# mounts of our own; exit 77 = skipped when mounting is not permitted).
#
# A. The archive store on a tmpfs that fills up mid-volume: from one earlier
#    volume, a backup of five fixtures (image, child, an index, a Docker
#    image and list) with the free space set to 0, half the new volume and
#    one page short of it (the end: index.json, the tar trailer).
#    Each: exit 1, every FAILED line names the volume file and "No space
#    left on device", one `regvault: error:` line; volumes/ holds exactly
#    the volumes the catalog records (no temporary or partial file), every
#    recorded location reads back right (sqlite3 + sha256), `catalog verify
#    --deep` passes. After the filler file is deleted the same backup
#    succeeds (volumes/ again exactly what the catalog records); at the end
#    the volumes read back and tar alone finds every image in them.
# B. The catalog directory read-only (tmpfs remounted ro): backup, mirror
#    and prune --execute, with no catalog yet and with one, exit 1 with one
#    error line naming the catalog and "Read-only file system"; nothing is
#    written to the archive, nothing deleted. Writable again, prune
#    --execute deletes what the plan says; read-only again, restore and
#    catalog history still read the catalog and bring the image back.
# C. The catalog's file system nearly full (a few KiB to a few dozen KiB
#    free) during prune --execute: exit 1 or 3 with an error, and never a
#    delete without a verified copy and a journal row; after space is
#    freed `catalog verify --deep` passes and the next run deletes.
# RV_FAULTS_QUICK=1 (the ASan pass): one point of A and of C, B with a
# catalog only — each path once, a third of the time.
# Environment: RV_HARNESS_ENV, REGVAULT.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib.sh"
faults_setup faults-disk
reg=$RV_REG_PLAIN
quick=${RV_FAULTS_QUICK:-0}
t0=$(date +%s)
refs=()
for i in fx/image:v1 fx/child:v1 fx/multi:v1 fx/docker:v1 fx/dockerlist:v1; do refs+=("$reg/$i"); done
printf 'fx/%s\t%s\t%s\n' image "$RV_FX_IMAGE_DIGEST" v1 child "$RV_FX_CHILD_DIGEST" v1 \
	multi "$RV_FX_MULTI_DIGEST" v1 docker "$RV_FX_DOCKER_DIGEST" v1 \
	dockerlist "$RV_FX_DOCKERLIST_DIGEST" v1 >"$work/fixtures.tsv"

# avail DIR — free KiB on DIR's file system.
avail() { df -k --output=avail "$1" | tail -n 1 | tr -d ' '; }
# fill DIR KIB — a filler file leaving KIB free.
fill() {
	local a
	a=$(avail "$1")
	((a >= $2)) || fail "$1 has only $a KiB free, want $2"
	head -c $(((a - $2) * 1024)) /dev/zero >"$1/filler"
}
# one_error — exactly one error line on stderr ($work/err); prints it.
one_error() {
	local n
	n=$(grep -c '^regvault: error:' "$work/err" || true)
	((n == 1)) || fail "want one error line, got $n: $(cat "$work/err")"
	grep '^regvault: error:' "$work/err"
}

# ---- A. the archive fills up mid-volume ------------------------------------------------
arch=$work/arch
faults_mount "$arch" size=2m,mode=0700
db=$REGVAULT_CATALOG
want 0 backup "${refs[0]}" --to "$arch"
mkdir -p "$work/base/arch" "$work/base/db"
cp -a "$arch/." "$work/base/arch"
cp -a "$db"* "$work/base/db/"
reset_a() {
	rm -rf "${arch:?}"/* "$arch/.lock" "$db" "$db-wal" "$db-shm"
	cp -a "$work/base/arch/." "$arch/"
	cp -a "$work/base/db/." "$(dirname "$db")/"
}
# volumes_are_recorded — volumes/ holds exactly the catalog's volumes.
volumes_are_recorded() {
	diff <(cd "$arch/volumes" && ls -A | sort) <(sql "SELECT path FROM volumes" | sed 's#^volumes/##' | sort) >&2 ||
		fail "volumes/ and the catalog differ ('<' on disk only): $1"
}
# How big the new volume is, with room to spare.
want 0 -o json backup "${refs[@]}" --to "$arch"
size=$(jq -r .volumeSize "$work/out")
[[ $size =~ ^[0-9]+$ ]] && ((size > 64 * 1024)) || fail "the second volume is $size bytes"
pages=$(((size + 4095) / 4096))
points=(0 $((pages / 2 * 4)) $(((pages - 1) * 4)))
((quick)) && points=("${points[1]}")
echo "A. the new volume is $size bytes ($pages pages); free KiB at the failing points: ${points[*]}"
for kib in "${points[@]}"; do
	reset_a
	fill "$arch" "$kib"
	want 1 backup "${refs[@]}" --to "$arch"
	grep -q '^FAILED' "$work/out" || fail "$kib KiB free: no FAILED line: $(cat "$work/out")"
	if grep '^FAILED' "$work/out" | grep -v "\"$arch/volumes/[^\"]*\": .*No space left on device" >&2; then
		fail "$kib KiB free: a FAILED line does not name the volume and ENOSPC"
	fi
	line=$(one_error)
	echo "  $kib KiB free: $(grep -c '^FAILED' "$work/out") images FAILED, e.g. $(grep -m1 -o '"[^"]*": write at [0-9]*: No space left on device' "$work/out"); $line"
	volumes_are_recorded "$kib KiB free"
	check_volumes || fail "$kib KiB free: the catalog records a volume that does not read back"
	want 0 catalog verify --deep
	rm "$arch/filler"
	want 0 -o json backup "${refs[@]}" --to "$arch"
	jq -e '.summary.failed == 0' "$work/out" >/dev/null || fail "$kib KiB free, then freed: $(jq -c .summary "$work/out")"
	volumes_are_recorded "$kib KiB free, then freed"
done
# (after the last point only: each costs seconds on a busy machine)
check_volumes || fail "space freed: a volume does not read back"
want 0 catalog verify --deep
check_archive "$arch" "$reg" "$work/fixtures.tsv" || fail "space freed: the volumes lack an image"

echo "A. done at $(($(date +%s) - t0)) s"

# ---- B. the catalog directory is read-only ----------------------------------------------
cat=$work/cat
faults_mount "$cat" size=4m,mode=0700
export REGVAULT_CATALOG=$cat/catalog.db
ro() { mount -o remount,ro "$cat"; }
rw() { mount -o remount,rw "$cat"; }
# copy_image FROM-REPO REF TO-REPO TAG — by cross-repository mounts and a
# PUT of the same manifest bytes (curl: our own repository, quickly).
copy_image() {
	local ct d
	curl -sf -H "Accept: $manifest_accept" -D "$work/h" -o "$work/m" "http://$reg/v2/$1/manifests/$2"
	ct=$(tr -d '\r' <"$work/h" | sed -n 's/^[Cc]ontent-[Tt]ype: *//p')
	for d in $(jq -r '.config.digest, .layers[].digest' "$work/m"); do
		curl -sf -o /dev/null -X POST "http://$reg/v2/$3/blobs/uploads/?mount=$d&from=$1"
	done
	curl -sf -o /dev/null -X PUT -H "Content-Type: $ct" --data-binary @"$work/m" "http://$reg/v2/$3/manifests/$4"
}
repo=t/faults-disk-$$/app
copy_image fx/image v1 "$repo" keep
copy_image fx/child v1 "$repo" old
code() { curl -s -o /dev/null -I -w '%{http_code}' -H "Accept: $manifest_accept" "http://$reg/v2/$repo/manifests/$1"; }
cat >"$work/policy.yaml" <<EOF
version: 1
registry: $reg
repositories: ["t/faults-disk-$$/*"]
safekeeping:
  archive: $work/pvault
deployed: none
keep:
  - tags: ["keep"]
untagged: keep
max_delete: 100%
EOF
# refused RUN... — exit 1, one error naming the catalog and the read-only
# file system, nothing written anywhere, nothing deleted.
refused() {
	want 1 "$@"
	one_error | grep -q "$REGVAULT_CATALOG.*Read-only file system" ||
		fail "$*: the error does not name the catalog and the read-only file system: $(cat "$work/err")"
	[[ ! -e $work/pvault && ! -e $work/ro-vault && $(code old) == 200 && $(code keep) == 200 ]] ||
		fail "$*: something was written or deleted"
}
if ((!quick)); then
	ro
	refused backup "${refs[0]}" --to "$work/ro-vault"
	refused mirror "${refs[0]}" --to "$RV_REG_STANDBY/t/faults-disk-$$"
	refused prune --policy "$work/policy.yaml" --execute
	line=$(one_error)
	echo "B. no catalog yet, read-only: $line"
	rw
fi
want 0 prune --policy "$work/policy.yaml"
cp -a "$REGVAULT_CATALOG" "$work/planned.db"
ro
refused backup "${refs[0]}" --to "$work/ro-vault"
refused prune --policy "$work/policy.yaml" --execute
line=$(one_error)
echo "B. a catalog, read-only: $line"
rw
want 0 prune --policy "$work/policy.yaml" --execute
[[ $(code old) == 404 && $(code keep) == 200 ]] || fail "writable again, prune did not delete 'old' alone"
want 0 catalog verify --deep
# During an incident the catalog may sit on a read-only mount (a snapshot, a
# volume mounted read-only): SQLite cannot create the WAL index (-shm) there,
# yet restore must read the catalog and bring the image back, unrecorded.
ro
want 0 restore "$reg/$repo:old"
[[ $(code old) == 200 ]] || fail "read-only catalog: restore did not bring 'old' back"
echo "B. restore with the catalog read-only: $(cut -d' ' -f1-2 "$work/out")"
want 0 catalog history "$reg/$repo:old"
rw

echo "B. done at $(($(date +%s) - t0)) s"

# ---- C. the catalog's file system is (nearly) full during prune --execute ----------------
kibs=(8 40 96)
((quick)) && kibs=(40)
for kib in "${kibs[@]}"; do
	copy_image fx/child v1 "$repo" old
	rm -rf "$work/pvault" "$REGVAULT_CATALOG" "$REGVAULT_CATALOG-wal" "$REGVAULT_CATALOG-shm"
	cp -a "$work/planned.db" "$REGVAULT_CATALOG"
	fill "$cat" "$kib"
	rc=0
	"$REGVAULT" prune --policy "$work/policy.yaml" --execute >"$work/out" 2>"$work/err" || rc=$?
	no_sanitizer_report
	rm "$cat/filler"
	gone=$(code old)
	if ((rc == 0)); then
		[[ $gone == 404 ]] || fail "$kib KiB free: exit 0 but 'old' is still there"
		echo "C. $kib KiB free: prune --execute fit (exit 0)"
	else
		((rc == 1 || rc == 3)) || fail "$kib KiB free: exit $rc, want 1 or 3: $(cat "$work/err")"
		line=$(one_error)
		echo "C. $kib KiB free: exit $rc, $line"
	fi
	[[ $(code keep) == 200 ]] || fail "$kib KiB free: the kept image is gone"
	if [[ $gone == 404 ]]; then
		n=$(sql "SELECT count(*) FROM copies c JOIN stores s ON s.id = c.store_id
			WHERE s.location = '$work/pvault' AND c.digest = '$RV_FX_CHILD_DIGEST'")
		j=$(sql "SELECT count(*) FROM deletions WHERE digest = '$RV_FX_CHILD_DIGEST'")
		((n == 1 && j >= 1)) || fail "$kib KiB free: 'old' deleted with $n verified copies and $j journal rows"
	fi
	want 0 catalog verify --deep
	[[ ! -d $work/pvault ]] || check_volumes || fail "$kib KiB free: an archive volume does not read back"
	if [[ $gone == 200 ]]; then
		want 0 prune --policy "$work/policy.yaml" --execute
		[[ $(code old) == 404 ]] || fail "$kib KiB free, then freed: the next run did not delete 'old'"
	fi
done
echo "faults_disk: ok in $(($(date +%s) - t0)) s"
