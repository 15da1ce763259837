/*
 * safekeep.h — keep images safe: copy them into an archive store or a
 * standby registry, verify the copy, and only then record it.
 *
 * The part of backup and mirror that prune needs too ("first copies to the
 * safekeeping targets every image it will delete … verifies them by
 * read-back"), so it lives below all three:
 *
 *   archive  skip what the store lists under the same name; list a digest it
 *            holds under a new name from the catalog's bytes; copy the rest
 *            into one new volume that ocitar_commit() reads back before it
 *            is kept; then record copies, each image's own manifest last.
 *   standby  skip what the catalog says the standby holds under the same
 *            name (no request at the standby); copy the rest; read every
 *            manifest back and find every blob; then record, per image.
 *   export   one portable tarball; nothing recorded.
 *
 * Items name images as they are known on the primary, already resolved.
 * Nothing is printed; results are in the items.
 */
#ifndef RV_SAFEKEEP_SAFEKEEP_H
#define RV_SAFEKEEP_SAFEKEEP_H

#include <stddef.h>
#include <stdint.h>
#include "catalog/catalog.h"
#include "registry/registry.h"
#include "xfer/xfer.h"

enum safekeep_status {
	SAFEKEEP_PENDING = 0,  /* on entry: to do */
	SAFEKEEP_COPIED,       /* bytes moved (or found) and verified, recorded */
	SAFEKEEP_PARTIAL,      /* --platform left children out: no complete copy recorded */
	SAFEKEEP_LISTED,       /* archive: a digest it held, now under a new name too */
	SAFEKEEP_UNCHANGED,    /* already held under this very name */
	SAFEKEEP_FAILED,       /* on entry: leave alone; on return: why in rc/msg */
};

struct safekeep_item {
	char *registry, *repo, *tag;   /* the primary's names; tag NULL: by digest */
	char digest[OCI_DIGEST_MAX];   /* resolved (a moved tag updates it to what was copied) */
	enum safekeep_status status;
	int rc;
	char *msg;
	int64_t bytes_copied, bytes_skipped;   /* blob bytes this image was first to move / found */
	int blobs_copied, blobs_skipped, manifests_put;
	char *where;                   /* its name in the store ("host/prefix/repo:tag", …) */
};

struct safekeep_options {
	catalog *cat;                  /* open for writing (not needed for export) */
	registry_session *session;     /* source registries are opened on it */
	struct xfer_options xfer;
	int64_t run_id;                /* the run the copies are recorded under */
	int64_t now;                   /* verified_at; 0 = time_now() */
};

struct safekeep_volume {
	char *volume;                  /* relative to the store; NULL when nothing was written */
	int64_t size;                  /* of the volume file */
	int64_t bytes_written;         /* blob and manifest bytes new in it */
};

/* Adds an item (copies the names). The caller fills digest/status. */
struct safekeep_item *safekeep_add(struct safekeep_item **v, size_t *n, size_t *alloc,
                                   const char *registry, const char *repo, const char *tag);
void safekeep_items_free(struct safekeep_item *v, size_t n);
/* Marks an item failed with msg (copied). */
void safekeep_fail(struct safekeep_item *it, int rc, const char *msg);

/* Records in the tag history what each tagged, non-failed item's tag
 * points to now. */
int safekeep_record_tags(const struct safekeep_options *o, const struct safekeep_item *v,
                         size_t n);

/* 0 when every pending item ended COPIED/PARTIAL/LISTED/UNCHANGED;
 * RV_ERROR when some failed (the rest still kept and recorded); another
 * code when nothing could be kept (store locked or unreadable, the volume
 * failed its read-back: then every pending item is FAILED). */
int safekeep_archive(const struct safekeep_options *o, const char *dir,
                     struct safekeep_item *v, size_t n, struct safekeep_volume *out);
int safekeep_export(const struct safekeep_options *o, const char *file,
                    struct safekeep_item *v, size_t n, struct safekeep_volume *out);
/* location: HOST[:PORT][/PREFIX]; REPO goes to PREFIX/REPO. */
int safekeep_standby(const struct safekeep_options *o, const char *location,
                     struct safekeep_item *v, size_t n);
void safekeep_volume_release(struct safekeep_volume *vol);

#endif
