/*
 * restore.h — any image back by tag or digest, in one call.
 *
 * restore_run resolves a reference as it was known on the primary
 * (HOST/REPO:TAG, at its latest or at a given time, or HOST/REPO@DIGEST)
 * through the catalog, picks a store holding a verified copy — the archive
 * store when its directory is there (local disk), else the standby
 * registry, the other as fallback; it always says which it used — and
 * pushes the image back through the copy engine to where it came from (or
 * elsewhere): blobs the target has are skipped, blobs another repository
 * of the target has are mounted, every byte is hashed on the way, children
 * before parents, referrers and signature tags, the tag last. Then it
 * reads the image back from the target before reporting success.
 *
 * restore_file does the same from an OCI layout tarball (regvault's or
 * another tool's), without the catalog.
 *
 * restore_undo_run brings back everything a prune run deleted (the
 * catalog's deletion journal) and marks the run undone. It refuses runs of
 * any other command.
 */
#ifndef RV_RESTORE_RESTORE_H
#define RV_RESTORE_RESTORE_H

#include <stddef.h>
#include <stdint.h>
#include "catalog/catalog.h"
#include "registry/registry.h"
#include "xfer/xfer.h"

enum restore_prefer { RESTORE_AUTO = 0, RESTORE_ARCHIVE, RESTORE_REGISTRY };

struct restore_options {
	const char *ref;             /* HOST/REPO:TAG or HOST/REPO@DIGEST (primary names) */
	const char *to;              /* NULL: back where it came from; else HOST[/REPO] */
	int64_t at;                  /* epoch seconds: what the tag named then; 0 = latest */
	enum restore_prefer prefer;
	int dry_run;                 /* plan only: nothing pushed */
	catalog *cat;                /* open for reading at least (writing to record the run) */
	registry_session *session;
	struct xfer_options xfer;
	const char *args_json;       /* run record when cat is writable; NULL: no record */
	int64_t store_id;            /* 0: any store with a verified copy; else only this
	                                one (a restore drill tests each copy on its own) */
};

struct restore_report {
	char *ref;                   /* what was asked, normalised */
	char *target;                /* where it went: "host/repo:tag" or "host/repo@digest" */
	char digest[OCI_DIGEST_MAX];
	char *source;                /* "archive /srv/vault" or "registry standby.example/mirror" */
	char **notes;                /* e.g. "archive /srv/vault: volume missing; used the standby" */
	size_t n_notes;
	int blobs_total, blobs_uploaded, manifests_put;
	int64_t bytes_uploaded, bytes_total;
	int64_t duration_ms;
	int dry_run;
};

/* 0 when the image is back and read back from the target. RV_EINVALID for
 * a reference the catalog does not know (the message lists close matches:
 * other tags of the repository, similar repository names); RV_ENOTFOUND
 * when the catalog knows it but no store holds a verified copy; other codes
 * when every candidate store failed (each tried store is in the notes). */
int restore_run(const struct restore_options *o, struct restore_report *out);

/* Restores ref (a reference as named inside the tarball, or when the file
 * lists exactly one image, NULL) from an OCI layout tarball to `to`
 * (HOST/REPO[:TAG]). Same verification as restore_run. */
int restore_file(const char *file, const char *ref, const char *to, registry_session *session,
                 const struct xfer_options *xo, int dry_run, struct restore_report *out);

void restore_report_release(struct restore_report *r);

/* One image a prune run deleted, and how its undo went. */
struct restore_undo_item {
	char *ref;                   /* "host/repo@digest" */
	char **tags;                 /* the tags it had */
	size_t n_tags;
	int rc;
	char *msg;
};

struct restore_undo_report {
	int64_t run_id;
	struct restore_undo_item *items;
	size_t n_items;
	size_t restored, failed;     /* dry run: restored = would be restored */
	int dry_run;                 /* xo->plan_only: nothing was written */
};

/* Undoes prune run run_id: every digest it deleted comes back with all its
 * tags, each journal row is marked undone as its image comes back, and the
 * run when all did.
 *
 * RV_ENOTFOUND for an unknown run; RV_EINVALID, touching nothing, for a run
 * that is not a prune run ("run 7 is a backup run, not a prune run");
 * RV_ERROR when some image failed (each item says why; the rows that came
 * back stay marked, so a second call retries only the rest).
 *
 * A prune run with nothing in its journal (it found nothing to delete, or
 * was stopped before its first delete) is a legitimate no-op: 0 with no
 * items, and the run is not marked undone — nothing of it was undone, and
 * the mark would say it was.
 *
 * With xo->plan_only (dry run) nothing is written: the copy engine only
 * asks each target what it lacks, no manifest or tag is put, and neither
 * the journal rows nor the run are marked; items say what would come back
 * (a catalog opened CATALOG_READ is enough). */
int restore_undo_run(catalog *cat, registry_session *session, int64_t run_id,
                     const struct xfer_options *xo, struct restore_undo_report *out);
void restore_undo_report_release(struct restore_undo_report *r);

#endif
