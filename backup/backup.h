/*
 * backup.h — copy images from registries into an archive store (or one
 * portable tarball) and record what is where; verify and rebuild.
 *
 * backup_run: every SOURCE is expanded (xfer_expand), every tag resolved
 * to its current digest with concurrent HEADs and recorded in the tag
 * history. Images the archive already holds under the same name cost
 * nothing more; a known digest under a new name is listed from the
 * catalog's bytes; everything else goes through the copy engine into one
 * new volume, which ocitar verifies by reading it back before it is kept.
 * Only then does the catalog record the copies, top-level manifests last.
 *
 * backup_verify: checks every copy the catalog records in archive stores —
 * the volume is there and the tar entry at the recorded offset names the
 * digest; with deep, the bytes are re-read and re-hashed. A copy that fails
 * is reported and dropped from the catalog (it must not count as verified).
 *
 * backup_rebuild: recreates the catalog's knowledge of an archive store
 * from its volumes alone (re-hashing every blob).
 *
 * Nothing here prints: results come back in reports; progress goes to the
 * xfer callback given in the options.
 */
#ifndef RV_BACKUP_BACKUP_H
#define RV_BACKUP_BACKUP_H

#include <stddef.h>
#include <stdint.h>
#include "catalog/catalog.h"
#include "registry/registry.h"
#include "xfer/xfer.h"

struct backup_options {
	const char *const *sources;   /* SOURCE strings: HOST, HOST/REPO[:TAG|@DIGEST], globs */
	size_t n_sources;
	const char *to;               /* archive store DIR, or FILE.tar for a portable export */
	catalog *cat;                 /* open with CATALOG_WRITE */
	registry_session *session;    /* the registries' clients are opened on it */
	struct xfer_options xfer;     /* jobs, referrers, platforms, progress */
	const char *args_json;        /* for the run record: arguments, no secrets */
};

enum backup_status {
	BACKUP_COPIED,      /* new bytes written this run */
	BACKUP_PARTIAL,     /* stored, but not all of it (--platform): no copy of the
	                       image as a whole is recorded, so nothing counts on it */
	BACKUP_LISTED,      /* known digest, new name: listed from the catalog */
	BACKUP_UNCHANGED,   /* already held under this name: nothing done */
	BACKUP_FAILED,
};

struct backup_item {
	char *ref;                    /* "registry/repo:tag" or "registry/repo@digest" */
	char digest[OCI_DIGEST_MAX];
	enum backup_status status;
	int64_t bytes_written;        /* blob bytes this image was first to add to the volume */
	int rc;
	char *msg;
};

struct backup_report {
	int64_t run_id;
	struct backup_item *items;
	size_t n_items;
	size_t copied, partial, listed, unchanged, failed;
	int64_t bytes_written;        /* blob and manifest bytes new in the volume */
	char *volume;                 /* relative path of the new volume, NULL when none */
	int64_t volume_size;
	char *path;                   /* the store directory or the tarball */
};

/* 0 when every image is in the store and recorded; RV_ERROR when some
 * failed (the report says which; the rest were still kept); another code
 * when nothing could be done (bad SOURCE, unreachable registry, archive
 * locked, volume failed its read-back — then nothing was recorded). */
int backup_run(const struct backup_options *o, struct backup_report *out);
void backup_report_release(struct backup_report *r);

struct verify_failure {
	char *store;
	char *digest;
	int rc;
	char *msg;
};

struct verify_report {
	size_t checked;
	int64_t bytes_hashed;
	struct verify_failure *failures;
	size_t n_failures;
};

/* Checks every archive copy the catalog records (deep: re-hash the bytes).
 * 0 when all are fine, RV_EDIGEST when some failed (listed in the report;
 * their copy rows are dropped), another code when verification could not
 * run. */
int backup_verify(catalog *cat, int deep, struct verify_report *out);
void verify_report_release(struct verify_report *r);

struct rebuild_report {
	size_t volumes, blobs, images;
	int64_t bytes;
	size_t bad;                   /* blobs that did not hash to their names (not recorded) */
	size_t skipped;               /* images index.json lists whose manifest is missing or
	                                 unreadable (not recorded; a warning names each) */
};

/* Records in cat (open for writing, normally fresh) everything the archive
 * store at dir holds, from its volumes alone: volumes, blob locations,
 * verified copies (every blob re-hashed), manifests, the images listed in
 * index.json and their tags. A volume with an entry no layout has (links,
 * devices, "..", a blob twice, a cut) fails it all (RV_EINVALID); a blob
 * that does not hash to its name, or an image whose manifest is missing or
 * does not hash to its name, is left out and counted (bad, skipped), the
 * rest recorded: a rebuild salvages what the volumes still prove. */
int backup_rebuild(catalog *cat, const char *dir, struct rebuild_report *out);

#endif
