/*
 * ocitar.h — the archive store: OCI image layouts kept in uncompressed tar
 * volumes, and portable single-file OCI tarballs.
 *
 * An archive store is a directory:
 *
 *   DIR/volumes/000001-20261123T190000Z.tar    one volume per backup run
 *   DIR/volumes/000002-20261124T020000Z.tar
 *   DIR/.lock                                   held while a run writes
 *
 * Each volume is a POSIX tar holding "oci-layout", "index.json" and
 * "blobs/<alg>/<hex>" entries for the blobs and manifests that earlier
 * volumes do not already hold: every blob is stored once per store. Each
 * volume's index.json lists every image of the store so far, so extracting
 * all volumes in order into one folder gives a complete OCI image layout
 * that skopeo, umoci and podman read without regvault.
 *
 * Names. Inside an archive a repository is the image's full name as it
 * was known on the primary ("reg.example.com:5000/team/app"). Index
 * entries carry org.opencontainers.image.ref.name and
 * io.containerd.image.name = "<repository>:<tag>", or
 * "<repository>@<digest>" for an image stored by digest. When a tag moves,
 * the image it pointed to stays listed under "<repository>@<old digest>":
 * nothing once stored becomes unreachable without the catalog.
 *
 * Writing. A volume is written under "volumes/.tmp-<pid>-<n>.tar". Blob
 * sizes are known up front, so each blob writer reserves its place (tar
 * header + data + padding) at once and several writers fill their places
 * concurrently with pwrite — no spooling, every byte written once, memory
 * bounded whatever the blob size. ocitar_commit() then appends oci-layout
 * and index.json, fsyncs, drops the file from the page cache, re-reads and
 * re-hashes every blob of the volume, and only then renames it to its final
 * name. A killed run leaves only a temp file, which the next writer removes.
 *
 * Reading. Entries are found by digest in the tar headers; nothing is ever
 * extracted to a path taken from an archive. Entries whose names contain
 * "..", start with "/", are links or devices, or are not "blobs/<alg>/<hex>"
 * with a valid digest (besides oci-layout, index.json, manifest.json and
 * repositories), a blob stored twice in one tar, and an entry whose size
 * runs past the end of the file make the volume refused with RV_EINVALID
 * naming the entry. Blob bytes are checked against their name when read.
 */
#ifndef RV_OCITAR_OCITAR_H
#define RV_OCITAR_OCITAR_H

#include <stddef.h>
#include <stdint.h>
#include "oci/digest.h"
#include "oci/store.h"
#include "util/strlist.h"

enum {
	OCITAR_READ = 0,
	/* Create DIR (0700) and DIR/volumes if missing, take DIR/.lock
	 * (RV_EEXISTS when another run holds it), remove stale temp volumes,
	 * and write a new volume on the first blob or manifest put. */
	OCITAR_WRITE = 1 << 0,
};

/* Opens the archive store at dir: scans every committed volume's tar
 * headers (cheap: data is skipped by seeking) and reads the newest
 * index.json. blob_put of a blob already stored with the same size
 * succeeds without writing, as a registry upload would (blob_writer_open
 * says RV_EEXISTS instead, so a caller can skip the transfer). The store implements every oci_store operation except
 * manifest_delete and the concurrent-transfer ones; blob_writer_* and
 * blob_reader_* are available. RV_ENOTFOUND when dir has no volumes and
 * OCITAR_WRITE was not given. */
int ocitar_open(struct oci_store **out, const char *dir, unsigned flags);

/* Opens a single self-contained OCI layout tarball for writing (FILE.tar):
 * every blob, oci-layout, index.json, and a Docker manifest.json (RepoTags
 * in the familiar form, Layers pointing into blobs/; one entry per image,
 * and for an index the child for the platform regvault was built for) so
 * that `skopeo copy oci-archive:FILE.tar:REF`, `podman load` and
 * `docker load` accept it. ref.name is the full "<repository>:<tag>", as in
 * store volumes (a bare tag is ambiguous when two repositories share it):
 * `skopeo copy oci-archive:FILE.tar:reg.example.com/team/app:1.2 …`.
 * Written to "FILE.tmp-<pid>" and renamed by ocitar_commit().
 * Reading an existing tarball: ocitar_open_file(). */
int ocitar_export_open(struct oci_store **out, const char *file);
/* Opens any OCI layout tarball (ours or not) read-only as a store, with the
 * same entry checks as volumes. */
int ocitar_open_file(struct oci_store **out, const char *file);

/* One blob entry of a volume. */
struct ocitar_entry {
	char digest[OCI_DIGEST_MAX];
	int64_t offset;   /* of the first data byte in the volume file */
	int64_t length;
};

struct ocitar_commit_info {
	char *volume;                 /* path relative to the store dir; NULL when nothing was written */
	int64_t size;                 /* bytes of the volume file */
	char sha256[OCI_DIGEST_MAX];  /* of the whole volume file */
	struct ocitar_entry *entries; /* every blob written by this run */
	size_t n_entries;
};

/* Finishes the volume (or export file) being written: index.json and the
 * rest, fsync, re-read and verify every blob written, rename. RV_EDIGEST
 * (and nothing renamed) when a re-read blob does not hash to its name.
 * With nothing written, succeeds with info->volume NULL. The store stays
 * usable for reading; a later write starts another volume. */
int ocitar_commit(struct oci_store *s, struct ocitar_commit_info *info);
void ocitar_commit_info_release(struct ocitar_commit_info *info);

/* Committed volumes, oldest first, as paths relative to the store dir. */
int ocitar_volumes(struct oci_store *s, struct strlist *out);
/* The store directory (or export/tarball file) path. */
const char *ocitar_path(struct oci_store *s);

/* One image listed in index.json. Strings valid during the callback. */
struct ocitar_ref {
	const char *name;        /* "<repository>:<tag>" or "<repository>@<digest>" */
	const char *repository;
	const char *tag;         /* NULL for "@digest" names */
	const char *digest;
	const char *media_type;
	int64_t size;
};
typedef int (*ocitar_ref_fn)(const struct ocitar_ref *r, void *ctx);
/* Every image the store lists (including this run's puts), by name. */
int ocitar_refs(struct oci_store *s, ocitar_ref_fn fn, void *ctx);

/* Every blob entry of one volume file (absolute or store-relative path),
 * in file order, checked as described above. For `catalog rebuild`. */
typedef int (*ocitar_entry_fn)(const struct ocitar_entry *e, void *ctx);
int ocitar_scan_volume(struct oci_store *s, const char *volume, ocitar_entry_fn fn, void *ctx);

/* Re-reads length bytes at offset of a volume and checks they hash to
 * digest (RV_EDIGEST otherwise; RV_ENOTFOUND when the volume is missing or
 * too short). The range is dropped from the page cache first, so the bytes
 * come from the medium. For `catalog verify --deep`, from catalog
 * locations, and `catalog rebuild`. */
int ocitar_verify_range(struct oci_store *s, const char *volume, int64_t offset,
                        int64_t length, const char *digest);

#endif
