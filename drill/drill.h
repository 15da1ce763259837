/*
 * drill.h — restore drills: a backup is only real once it has been
 * restored.
 *
 * drill_run takes, from each place the catalog says holds verified copies
 * (every archive store and every standby registry), up to n images chosen
 * at random — from a seed, so a failing drill can be replayed — and for
 * each one:
 *
 *   1. restores it from that place alone (restore_run with its store_id:
 *      no other copy may stand in) into the scratch registry, by digest,
 *      under "regvault-drill/<run>/<location>/<repository>": repositories
 *      no earlier drill used, so the registry holds none of its blobs
 *      there and every byte really travels (and is hashed on the way);
 *   2. pulls it back: every manifest fetched by digest and every blob
 *      downloaded, each hashed against its digest, and the digests that
 *      came back compared with the image as the catalog records it (its
 *      children, configs and layers);
 *   3. deletes its manifests from the scratch registry by digest (the
 *      image first, then its children). Blobs stay there until the
 *      scratch registry's garbage collection runs: distribution-spec has
 *      no blob delete that every registry allows.
 *
 * Referrers and signatures are not part of a drill (the image alone is
 * restored). Nothing is written to the catalog, and the primary registry
 * is never contacted. drill/ sits above restore/ — it drives restore_run
 * — and below cli/.
 */
#ifndef RV_DRILL_DRILL_H
#define RV_DRILL_DRILL_H

#include <stddef.h>
#include <stdint.h>
#include "catalog/catalog.h"
#include "registry/registry.h"
#include "xfer/xfer.h"

/* One image drilled. */
struct drill_image {
	char *ref;                   /* "host/repo@digest" as named on the primary */
	char digest[OCI_DIGEST_MAX];
	char *scratch_ref;           /* where it went: "scratch/regvault-drill/…/repo@digest" */
	int64_t bytes;               /* manifests and blobs pulled back and hashed */
	size_t objects;
	int64_t duration_ms;         /* restore, pull back and delete */
	int rc;                      /* 0: restored, came back whole and matching */
	char *msg;                   /* why not (NULL when rc is 0) */
	int cleanup_rc;              /* deleting its manifests from the scratch registry */
	char *cleanup_msg;
};

/* One place copies are kept, and how its drill went. */
struct drill_location {
	int64_t store_id;
	char *kind;                  /* "archive" / "registry" */
	char *store;                 /* archive directory, or "host[/prefix]" */
	size_t held;                 /* distinct images it holds a verified copy of */
	struct drill_image *images;  /* the ones drilled, in the order drilled */
	size_t n_images;
	size_t failed, cleanup_failed;
	int64_t bytes, duration_ms;
};

struct drill_report {
	uint64_t seed;
	char *prefix;                /* "scratch/regvault-drill/<run>" */
	struct drill_location *locations;   /* sorted by kind, then location */
	size_t n_locations;
	size_t drilled, failed, cleanup_failed;
};

/* Called after each image (for progress lines); loc is the image's place. */
typedef void (*drill_image_fn)(const struct drill_location *loc, const struct drill_image *im,
                               void *ctx);

struct drill_options {
	catalog *cat;                /* opened for reading is enough */
	registry_session *session;
	const char *scratch;         /* HOST[:PORT] of the scratch registry */
	size_t per_location;         /* images to drill from each place (> 0) */
	uint64_t seed;               /* the same seed picks the same images while the
	                                places hold the same ones */
	struct xfer_options xfer;    /* jobs; referrers are left out whatever it says */
	drill_image_fn on_image;
	void *ctx;
};

/* Runs the drill; out is filled whatever happens (release it).
 * 0 when every drilled image came back whole and was deleted again;
 * RV_ERROR when some did not — a copy that does not hash to its digest, a
 * part missing, a store or the scratch registry unreachable, a delete
 * refused: each image says why; RV_ENOTFOUND when the catalog records no
 * verified copy at all; RV_EINVALID for a scratch that is not HOST[:PORT]
 * (then nothing was drilled). */
int drill_run(const struct drill_options *o, struct drill_report *out);
void drill_report_release(struct drill_report *r);

/* A seed for a drill nobody asked to replay (clock and process id mixed;
 * below 2^32, so it is short to type). */
uint64_t drill_seed_new(void);

#endif
