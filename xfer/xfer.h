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
	/* Plan only (--dry-run): walk the images and ask the destination what
	 * it lacks, but move and put nothing. Results then say what would be
	 * copied (objects' `copied`, blobs_copied, manifests_put). */
	int plan_only;
};

#define XFER_OPTIONS_INIT { 4, 0, NULL, 0, 3, NULL, NULL, 0 }

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
	int held;                 /* the destination has it (0: an incomplete index not put) */
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
	/* --platform left children of an index out and the destination is a
	 * registry: distribution refuses an index whose children it lacks, and
	 * rewriting the index would change its digest, so the index (and its
	 * tag) was not put — only the chosen children, by digest. */
	int partial;
};

/* Copies each image from src to dst. Fills results[i] for images[i] (the
 * caller releases them). Images fail independently: returns 0 when every
 * image was copied, RV_ERROR (message: how many failed) when some were not
 * — each result then says why — or another code when nothing could start. */
int xfer_copy(struct oci_store *src, struct oci_store *dst, const struct xfer_image *images,
              size_t n, const struct xfer_options *opts, struct xfer_result *results);
void xfer_result_release(struct xfer_result *r);

/* Reads a copied image back from dst: every manifest of r it holds fetched
 * by digest (the store hashes the bytes against it), the tag (when not NULL
 * and r is not partial) resolving to r's image, and every blob of r present
 * with its size.
 * 0, or the first failure with its message. */
int xfer_verify(struct oci_store *dst, const char *dst_repo, const char *tag,
                const struct xfer_result *r);

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
/* The same, but digests are asked too: each entry's rc says whether the
 * store has it (RV_ENOTFOUND when not). Prune's check of the untagged
 * manifests the catalog remembers, many at once. */
int xfer_present(struct oci_store *src, struct xfer_found *found, size_t n, int jobs);

/* --- Whole SOURCE lists ------------------------------------------------------ */

/* One registry the SOURCEs name, opened through the caller's opener;
 * the selection closes its store. */
struct xfer_origin {
	char *registry;
	struct oci_store *store;
};

/* One image a SOURCE list names, resolved. */
struct xfer_pick {
	size_t origin;            /* index into origins */
	char *repo;
	char *ref;                /* the tag, or the digest the SOURCE named */
	char *tag;                /* NULL when named by digest */
	char digest[OCI_DIGEST_MAX];
	int rc;                   /* 0, or why it could not be resolved */
	char *msg;
};

/* Opens a registry as a store that owns what it opened (e.g.
 * registry_store_opener with a registry_session as ctx). */
typedef int (*xfer_open_fn)(void *ctx, const char *registry, struct oci_store **store);

struct xfer_selection {
	struct xfer_origin *origins;
	size_t n_origins;
	struct xfer_pick *picks;
	size_t n_picks;
	void *ctx;
};

/* Tag filters: a tag is kept when it matches one of include (all when
 * none) and none of exclude. Digest picks are never filtered out. */
struct xfer_filter {
	const char *const *include;
	size_t n_include;
	const char *const *exclude;
	size_t n_exclude;
};

/* Parses each SOURCE (HOST, HOST/REPO, HOST/REPO:TAG, HOST/REPO@DIGEST,
 * globs in the repository), opens each registry once through open,
 * expands and filters the tags, and resolves them to digests (jobs at
 * once). A SOURCE that does not parse or whose repositories cannot be
 * listed fails the call (message names it); a tag that cannot be resolved
 * fails only its pick. Release with xfer_selection_release(). */
int xfer_select(struct xfer_selection *out, const char *const *sources, size_t n,
                const struct xfer_filter *filter, int jobs, xfer_open_fn open, void *ctx);
void xfer_selection_release(struct xfer_selection *s);

/* --- Facts about an image ---------------------------------------------------- */

/* Looks up the created time already known for a manifest digest (0 when
 * unknown). */
typedef int64_t (*xfer_created_fn)(const char *digest, void *ctx);

/* When an image was made (ARCHITECTURE.md "Created"): the manifest's
 * org.opencontainers.image.created annotation, else its config's
 * "created" (read from store), else for an index its newest child's (from
 * child_created). 0 when none is known (an artifact has no image config). */
int64_t xfer_created(struct oci_store *store, const char *repo, const struct oci_manifest *m,
                     xfer_created_fn child_created, void *ctx);

#endif
