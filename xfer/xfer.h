/*
 * xfer.h — the one copy engine: images from one store to another.
 *
 * Mirror (registry → registry), backup (registry → archive) and restore
 * (archive or standby → registry) are all this one copy between two
 * implementations of oci/store.h. For each image it
 *
 *   1. walks the graph at the source: the manifest, every child of an index
 *      (nested indexes too; all platforms unless told otherwise), configs
 *      and layers, and — unless told not to — referrers: OCI 1.1 artifacts
 *      whose subject is one of those manifests (referrers API or fallback
 *      tag) and cosign "sha256-<hex>.sig/.att/.sbom" tags;
 *   2. moves every blob the destination lacks, several at once (--jobs),
 *      streaming with bounded memory and hashing every byte on the way;
 *      inside a registry destination a blob already put in another
 *      repository this run is mounted instead of uploaded;
 *   3. puts the manifests byte for byte (digests never change), children
 *      before parents, subjects before referrers, tags last.
 *
 * The engine never prints; it reports progress through a callback.
 */
#ifndef RV_XFER_XFER_H
#define RV_XFER_XFER_H

#include <stddef.h>
#include <stdint.h>
#include "oci/digest.h"
#include "oci/store.h"

/* One image to copy. */
struct xfer_image {
	const char *src_repo;  /* repository at the source */
	const char *ref;       /* tag or digest at the source */
	const char *dst_repo;  /* repository at the destination */
	const char *dst_tag;   /* tag to set there; NULL: ref when it is a tag, none otherwise */
};

enum xfer_event {
	XFER_IMAGE_BEGIN,   /* graph walked: total bytes known */
	XFER_BLOB_BEGIN,
	XFER_BLOB_BYTES,    /* bytes moved (cumulative for the blob) */
	XFER_BLOB_DONE,     /* rc tells how */
	XFER_BLOB_SKIPPED,  /* the destination had it (or mounted it) */
	XFER_IMAGE_DONE,    /* rc tells how */
};

struct xfer_progress {
	enum xfer_event event;
	size_t image;           /* index into the images array (blob events: the
	                           first image that needs the blob) */
	const char *name;       /* the image: "repo:tag" or "repo@digest" at the source */
	const char *digest;     /* the blob, for blob events */
	int64_t blob_done, blob_total;
	int64_t done_bytes, total_bytes;   /* blob bytes of the whole copy, moved or skipped */
	int rc;
	const char *msg;        /* for failed events */
};

typedef void (*xfer_progress_fn)(const struct xfer_progress *p, void *ctx);

struct xfer_options {
	int jobs;                 /* blob transfers at once (default 4, at most 64) */
	int no_referrers;         /* skip referrers and cosign tags */
	const char *const *platforms;  /* "os/arch[/variant]" children to keep; NULL = all */
	size_t n_platforms;
	int blob_attempts;        /* tries per blob for transient failures (default 3) */
	xfer_progress_fn progress;
	void *progress_ctx;
};

#define XFER_OPTIONS_INIT { 4, 0, NULL, 0, 3, NULL, NULL }

/* One object an image consists of at the destination. */
struct xfer_object {
	char digest[OCI_DIGEST_MAX];
	int64_t size;
	int is_manifest;
	int copied;               /* moved this run for this image (0: the destination had
	                             it, or another image of the same copy moved it) */
};

/* A manifest that reached the destination. */
struct xfer_manifest {
	struct oci_manifest *m;
	int top;                  /* listed on its own: the image, a referrer, a tagged attachment */
	char *tag;                /* the tag it was put under; NULL = by digest */
};

struct xfer_result {
	int rc;                   /* 0, or why the image failed */
	char *msg;                /* NULL on success */
	char digest[OCI_DIGEST_MAX];   /* the top-level manifest */
	char media_type[128];
	/* Every manifest and blob of the image, referrers included, each once,
	 * in the order they reached the destination (blobs, then manifests
	 * children first): a caller recording copies can take them in order. */
	struct xfer_object *objects;
	size_t n_objects;
	/* Every manifest of the image in put order (children first), for
	 * callers that record them (catalogs). */
	struct xfer_manifest *manifests;
	size_t n_manifests;
	int64_t bytes_copied, bytes_skipped;
	int blobs_copied, blobs_skipped, manifests_put;
};

/* Copies each image from src to dst. Fills results[i] for images[i] (the
 * caller releases them). Images fail independently: returns 0 when every
 * image was copied, RV_ERROR (message: how many failed) when some were not
 * — each result then says why — or another code when nothing could start. */
int xfer_copy(struct oci_store *src, struct oci_store *dst, const struct xfer_image *images,
              size_t n, const struct xfer_options *opts, struct xfer_result *results);
void xfer_result_release(struct xfer_result *r);

/* --- Choosing what to copy ------------------------------------------------- */

/* One image found at a source. */
struct xfer_found {
	char *repo;
	char *ref;    /* a tag, or a digest when the source named one */
	/* Filled by xfer_resolve: */
	char digest[OCI_DIGEST_MAX];
	int rc;       /* 0, or why the tag could not be resolved */
	char *msg;
};

/* Expands a SOURCE against a store: every repository matching repo_glob
 * (NULL or "" = every repository the store lists), then for each the tag
 * `ref` (a tag or digest), or every tag when ref is NULL. Attachment tags
 * (cosign sha256-<hex>.sig/.att/.sbom and referrer fallback tags) are left
 * out: they come with their subject. A repository glob that matches nothing
 * is RV_ENOTFOUND. *out is a new array the caller frees with
 * xfer_found_free. */
int xfer_expand(struct oci_store *src, const char *repo_glob, const char *ref,
                struct xfer_found **out, size_t *n);
void xfer_found_free(struct xfer_found *f, size_t n);

/* Resolves every tag of found[] to its current digest at src (digest refs
 * are taken as they are), up to jobs HEADs at once when the store can run
 * them concurrently. Each entry gets its digest or its own rc and msg; the
 * call itself fails only when nothing could be asked. */
int xfer_resolve(struct oci_store *src, struct xfer_found *found, size_t n, int jobs);

#endif
