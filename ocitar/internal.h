/*
 * internal.h — what the files of ocitar/ share; nothing outside ocitar/
 * includes it.
 *
 * One struct serves three kinds of store: an archive directory of volumes,
 * an export file being written, and a tarball opened read-only. A store is
 * driven from one thread at a time (the copy engine's loop); several blob
 * writers may be open at once and filled in any interleaving.
 */
#ifndef RV_OCITAR_INTERNAL_H
#define RV_OCITAR_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "oci/digest.h"
#include "oci/manifest.h"
#include "oci/store.h"
#include "ocitar/ocitar.h"
#include "util/buf.h"

/* Bounded I/O: blobs move in chunks of this size, never whole. */
#define OCITAR_CHUNK ((size_t)1 << 20)
/* index.json lists every image of a store: ~300 bytes each, so this allows
 * several hundred thousand images while bounding what a bad file costs. */
#define OCITAR_INDEX_MAX ((size_t)128 << 20)
#define OCITAR_BLOCK 512

#define OCITAR_MT_INDEX OCI_MT_IMAGE_INDEX
#define OCITAR_ANN_REF_NAME "org.opencontainers.image.ref.name"
#define OCITAR_ANN_IMAGE_NAME "io.containerd.image.name"
/* image-spec image-layout.md "oci-layout file" */
#define OCI_LAYOUT_FILE "{\"imageLayoutVersion\":\"1.0.0\"}"

/* Where a blob's bytes are: a committed volume (index into vols) or the
 * volume being written (VOL_TEMP). */
#define VOL_TEMP (-1)

enum ocitar_kind {
	OCITAR_KIND_DIR,    /* DIR/volumes/NNNNNN-….tar */
	OCITAR_KIND_EXPORT, /* one FILE.tar being written */
	OCITAR_KIND_FILE,   /* any OCI layout tarball, read only */
};

struct ocitar_loc {
	char *digest;       /* NULL in an empty slot */
	int vol;
	int64_t offset;
	int64_t length;
};

/* digest → location, open addressing; owns the digest strings. */
struct ocitar_blobtab {
	struct ocitar_loc *slots;
	size_t cap;         /* a power of two, or 0 */
	size_t n;
};

struct ocitar_vol {
	char *rel;          /* as reported: "volumes/000001-….tar", or the file path */
	char *path;         /* to open */
	int fd;             /* opened on first read, -1 before */
};

/* One image listed in index.json. */
struct ocitar_ent {
	char *name;         /* "<repository>:<tag>" or "<repository>@<digest>" */
	char *repository;   /* "" when the name has none (foreign tarballs) */
	char *tag;          /* NULL for "@digest" names */
	char *media_type;
	char digest[OCI_DIGEST_MAX];
	int64_t size;
	char *subject;      /* cached for referrers(): the manifest's subject digest */
	int subject_known;
};

/* index.json entries, kept sorted by name (unique). */
struct ocitar_reftab {
	struct ocitar_ent *v;
	size_t n;
	size_t alloc;
};

struct ocitar_writer;

struct ocitar {
	struct oci_store base;          /* first: the store handle is this struct */
	enum ocitar_kind kind;
	unsigned flags;
	char *path;                     /* the directory, or the file */
	char *label;                    /* for messages: `archive "/backups"` */
	int lock_fd;
	struct ocitar_vol *vols;
	size_t n_vols, alloc_vols;
	struct ocitar_blobtab blobs;
	struct ocitar_reftab refs;
	int64_t mtime;                  /* of the tar headers written by this store */

	/* The volume being written. */
	char *tmp_path;                 /* NULL until the first reservation */
	int tmp_fd;
	int64_t end;                    /* end of the reserved space */
	struct ocitar_entry *pending;   /* committed writers, this volume */
	size_t n_pending, alloc_pending;
	struct ocitar_writer *writers;  /* open writers */
	unsigned dead_seq;              /* names ".unused/<n>" */
	int refs_dirty;
	int broken;                     /* a dead entry could not be written: no commit */
	int sealed;                     /* export committed: no more writes */
};

/* ocitar.c */
struct ocitar *ocitar_new(enum ocitar_kind kind, const char *path, unsigned flags);
int ocitar_add_vol(struct ocitar *s, const char *rel, const char *path);
int ocitar_vol_fd(struct ocitar *s, int vol, int *out);
const struct ocitar_loc *ocitar_blobs_find(const struct ocitar_blobtab *t, const char *digest);
/* Adds digest unless present (the first location wins); 1 when added. */
int ocitar_blobs_add(struct ocitar_blobtab *t, const char *digest, int vol, int64_t off,
                     int64_t len);
void ocitar_blobs_set_vol(struct ocitar_blobtab *t, const char *digest, int vol);
void ocitar_blobs_release(struct ocitar_blobtab *t);
/* Scans one tar of s->vols into s: its blobs, and with want_index its
 * index.json (which the tar must have). */
int ocitar_load_tar(struct ocitar *s, int vol, int want_index);
/* 1 + the highest committed volume number in DIR/volumes. */
int ocitar_next_number(struct ocitar *s, long *out);
extern const struct oci_store_ops ocitar_ops;

/* volume.c */
/* The header bytes (ustar, with a pax extended header when the name or a
 * size of 8 GiB or more needs one) of a regular file entry, appended to out. */
int ocitar_hdr_make(struct buf *out, const char *name, int64_t size, int64_t mtime);
/* Callbacks of one scan; any may be NULL. A non-zero return stops the scan. */
struct ocitar_scan_cb {
	int (*blob)(void *ctx, const char *digest, int64_t offset, int64_t length);
	/* index.json's bytes (the last one in the tar wins, as on extraction) */
	int (*index)(void *ctx, const char *json, size_t len);
	void *ctx;
};
/* Reads every header of the tar at path, checking each entry (see
 * ocitar.h); label names the volume in messages. */
int ocitar_scan(const char *path, const char *label, const struct ocitar_scan_cb *cb);

/* refs.c */
int ocitar_reftab_parse(struct ocitar_reftab *t, const char *json, size_t len,
                        const char *what);
/* index.json for t: entries sorted by name, compact, deterministic. */
char *ocitar_reftab_json(const struct ocitar_reftab *t, size_t *len);
const struct ocitar_ent *ocitar_reftab_find(const struct ocitar_reftab *t, const char *name);
/* Lists m under repo:tag (tag NULL: repo@digest). A tag that moves leaves
 * its old image as repo@old. Returns 1 when the table changed, 0 if not. */
int ocitar_reftab_put(struct ocitar_reftab *t, const char *repo, const char *tag,
                      const char *digest, const char *media_type, int64_t size);
void ocitar_reftab_release(struct ocitar_reftab *t);

/* read.c */
int ocitar_manifest_get(struct oci_store *st, const char *repo, const char *ref,
                        struct oci_manifest **out);
int ocitar_manifest_head(struct oci_store *st, const char *repo, const char *ref,
                         struct oci_manifest_info *out);
int ocitar_blob_exists(struct oci_store *st, const char *repo, const struct oci_descriptor *d);
int ocitar_blob_get(struct oci_store *st, const char *repo, const struct oci_descriptor *d,
                    const struct oci_sink *sink);
int ocitar_tags(struct oci_store *st, const char *repo, struct strlist *out);
int ocitar_repositories(struct oci_store *st, struct strlist *out);
int ocitar_referrers(struct oci_store *st, const char *repo, const char *digest,
                     struct oci_manifest **out);
int ocitar_reader_open(struct oci_store *st, const struct oci_descriptor *d,
                       struct oci_source *out, void **handle);
void ocitar_reader_close(struct oci_store *st, void *handle);
/* The manifest stored as blob digest, read whole (capped) and verified. */
int ocitar_read_manifest(struct ocitar *s, const char *digest, const char *media_type,
                         struct oci_manifest **out);

/* write.c */
int ocitar_writer_open(struct oci_store *st, const struct oci_descriptor *d,
                       struct oci_sink *out, void **handle);
int ocitar_writer_close(struct oci_store *st, void *handle, int commit);
int ocitar_blob_put(struct oci_store *st, const char *repo, const struct oci_descriptor *d,
                    const struct oci_source *src);
int ocitar_manifest_put(struct oci_store *st, const char *repo, const char *ref,
                        const struct oci_manifest *m, unsigned flags);
/* Appends a whole small entry (oci-layout, index.json…) at the end. */
int ocitar_append_small(struct ocitar *s, const char *name, const void *data, size_t len);
int ocitar_pwrite_all(int fd, const void *data, size_t len, int64_t off, const char *path);
size_t ocitar_open_writers(const struct ocitar *s);
/* Closes and removes the volume being written, if any. */
void ocitar_discard_temp(struct ocitar *s);

/* commit.c */
/* Seals the volume being written (the caller appended its metadata
 * entries): end-of-archive, fsync, re-read and verify, sha256; does not
 * rename. */
int ocitar_seal_temp(struct ocitar *s, struct ocitar_commit_info *info);
/* After the rename to final (rel for messages and info): the pending
 * blobs now live in a new committed volume. */
int ocitar_adopt_temp(struct ocitar *s, const char *rel, const char *final_path);
int ocitar_fsync_dir_of(const char *path);

/* export.c */
int ocitar_export_commit(struct ocitar *s, struct ocitar_commit_info *info);

#endif
