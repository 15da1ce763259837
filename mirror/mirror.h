/*
 * mirror.h — keep a standby registry in step with a primary, and verify it.
 *
 * mirror_run copies every image a SOURCE names to HOST[:PORT][/PREFIX]
 * (repository REPO becomes PREFIX/REPO) through the copy engine: every
 * platform, referrers and signature tags, digests byte-identical. It is
 * incremental through the catalog: an image the catalog says the standby
 * already holds, verified, under the same tag costs one HEAD at the source
 * and nothing at the destination. A tag that moved on the source moves on
 * the destination. It never deletes anything on the destination.
 *
 * After copying, every manifest is read back from the destination (its
 * bytes must hash to its digest) and every blob must be there with its
 * size; only then does the catalog record the copies, each image's own
 * manifest last.
 *
 * mirror_verify checks the registry copies the catalog records: quick —
 * manifests read back and hashed, blobs present with their size; deep —
 * blobs downloaded and hashed too. Failed copies are dropped.
 */
#ifndef RV_MIRROR_MIRROR_H
#define RV_MIRROR_MIRROR_H

#include <stddef.h>
#include <stdint.h>
#include "catalog/catalog.h"
#include "registry/registry.h"
#include "xfer/xfer.h"

struct mirror_options {
	const char *const *sources;      /* SOURCE strings */
	size_t n_sources;
	const char *to;                  /* HOST[:PORT][/PREFIX] */
	catalog *cat;                    /* open with CATALOG_WRITE (its lock keeps runs apart) */
	registry_session *session;
	struct xfer_options xfer;
	const char *const *tags;         /* keep only tags matching one of these globs (NULL: all) */
	size_t n_tags;
	const char *const *exclude_tags; /* then drop tags matching any of these */
	size_t n_exclude_tags;
	const char *args_json;
};

enum mirror_status {
	MIRROR_COPIED,      /* something moved, and the destination was verified */
	MIRROR_PARTIAL,     /* --platform left children out: no complete copy recorded */
	MIRROR_UNCHANGED,   /* the catalog says the destination holds it already */
	MIRROR_FAILED,
};

struct mirror_item {
	char *ref;                  /* the source: "registry/repo:tag" or "…@digest" */
	char *dst;                  /* the destination: "host/prefix/repo:tag" or "…@digest" */
	char digest[OCI_DIGEST_MAX];
	enum mirror_status status;
	int64_t bytes_copied;       /* blob bytes this image was first to move */
	int rc;
	char *msg;
};

struct mirror_report {
	int64_t run_id;
	struct mirror_item *items;
	size_t n_items;
	size_t copied, partial, unchanged, failed;
	int64_t bytes_copied, bytes_skipped;
	int blobs_copied, blobs_skipped, manifests_put;
	int64_t started, finished;  /* epoch seconds */
	int64_t duration_ms;
};

/* 0 when every image is mirrored and verified; RV_ERROR when some failed
 * (named in the report, the rest still done); another code when nothing
 * could be done (bad SOURCE or destination, catalog error). */
int mirror_run(const struct mirror_options *o, struct mirror_report *out);
void mirror_report_release(struct mirror_report *r);

struct mirror_verify_failure {
	char *store;     /* "host[/prefix]" */
	char *ref;       /* the image as stored: "host/prefix/repo:tag" */
	char *digest;    /* the object that failed */
	int rc;
	char *msg;
};

struct mirror_verify_report {
	size_t images, objects;
	int64_t bytes_hashed;
	struct mirror_verify_failure *failures;
	size_t n_failures;
};

/* Verifies every image the catalog records in registry stores, opening
 * clients on session. 0 when all hold, RV_EDIGEST when some failed (their
 * copy rows dropped), another code when verification could not run. */
int mirror_verify(catalog *cat, registry_session *session, int deep,
                  struct mirror_verify_report *out);
void mirror_verify_report_release(struct mirror_verify_report *r);

#endif
