/*
 * store.h — the one interface every place that holds images implements.
 *
 * A store is a registry (registry/), an archive (ocitar/, later) or a
 * standby registry: the copy engine moves images between two stores and
 * never needs to know which kind it talks to (containers/image's
 * ImageSource/ImageDestination, libgit2's git_odb_backend).
 *
 * Implementations embed `struct oci_store` as their first member and fill
 * `ops`. Every operation returns 0 or a negative RV_E* code with the error
 * message set (util/error.h); RV_ENOTFOUND always means "not there".
 *
 * Bytes are sacred: manifests travel as their raw bytes plus media type,
 * and blob_get verifies size and digest of every byte it hands to the sink
 * (RV_EDIGEST on mismatch, after the sink already saw the bytes — sinks
 * must treat data as unverified until blob_get returns 0).
 */
#ifndef RV_OCI_STORE_H
#define RV_OCI_STORE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include "oci/manifest.h"
#include "util/buf.h"
#include "util/strlist.h"

/* Receives a blob's bytes in order. Returns 0 to go on or a negative code
 * to abort the transfer (which then fails with that code). In a concurrent
 * transfer (registry_*_start) it may also return OCI_IO_PAUSE: the bytes
 * were NOT taken and will be offered again after the op is resumed. */
struct oci_sink {
	int (*write)(void *ctx, const void *data, size_t len);
	void *ctx;
};

/* Produces a blob's bytes in order: returns the count copied into buf
 * (0 at the end) or a negative code. `rewind` (may be NULL) restarts from
 * byte 0 so a failed upload can be retried; without it the caller retries.
 * In a concurrent transfer read may return OCI_IO_AGAIN: nothing yet, call
 * again after the op is resumed. */
struct oci_source {
	ssize_t (*read)(void *ctx, void *buf, size_t cap);
	int (*rewind)(void *ctx);
	void *ctx;
};

#define OCI_IO_PAUSE 1
#define OCI_IO_AGAIN (-100)

/* What a HEAD of a manifest tells. */
struct oci_manifest_info {
	char digest[OCI_DIGEST_MAX];
	char media_type[128];
	int64_t size;
};

struct oci_store;

/* manifest_put flags. */
#define OCI_PUT_CHILD 1u

/* Completion of a concurrent transfer: rc 0 or RV_E*, msg its message. */
typedef void (*oci_done_fn)(void *ctx, int rc, const char *msg);

struct oci_store_ops {
	/* Reads the manifest named by a tag or digest. Fetching by digest
	 * verifies the bytes hash to it. *out owned by the caller. */
	int (*manifest_get)(struct oci_store *s, const char *repo, const char *ref,
	                    struct oci_manifest **out);
	/* Resolves a tag or digest without the body. */
	int (*manifest_head)(struct oci_store *s, const char *repo, const char *ref,
	                     struct oci_manifest_info *out);
	/* Stores m's raw bytes under ref (a tag, or m's digest). flags:
	 * OCI_PUT_CHILD marks a manifest that is only part of a larger image
	 * (an index's child): archives then list no index.json entry for it. */
	int (*manifest_put)(struct oci_store *s, const char *repo, const char *ref,
	                    const struct oci_manifest *m, unsigned flags);
	/* Deletes a manifest by digest (never by tag: see registry.h). */
	int (*manifest_delete)(struct oci_store *s, const char *repo, const char *digest);
	/* 0 when the blob is present with d's size, RV_ENOTFOUND otherwise. */
	int (*blob_exists)(struct oci_store *s, const char *repo,
	                   const struct oci_descriptor *d);
	/* Streams the blob to sink, checking size and digest on the way. */
	int (*blob_get)(struct oci_store *s, const char *repo,
	                const struct oci_descriptor *d, const struct oci_sink *sink);
	/* Stores a blob read from src; the store checks the digest. */
	int (*blob_put)(struct oci_store *s, const char *repo,
	                const struct oci_descriptor *d, const struct oci_source *src);
	/* Every tag of repo, sorted. RV_ENOTFOUND for an unknown repository. */
	int (*tags)(struct oci_store *s, const char *repo, struct strlist *out);
	/* Every repository, sorted. RV_EUNSUPPORTED where a store cannot list. */
	int (*repositories)(struct oci_store *s, struct strlist *out);
	/* The referrers of a manifest as raw OCI index bytes (the referrers API,
	 * else the "<alg>-<hex>" fallback tag; an empty index when neither). */
	int (*referrers)(struct oci_store *s, const char *repo, const char *digest,
	                 struct oci_manifest **out_index);
	void (*close)(struct oci_store *s);

	/* --- Optional: concurrent transfers (registries). NULL when absent. --- */

	/* Start a blob GET into sink / a PUT from src and return at once;
	 * done(ctx, rc, msg) runs from inside run() when it ends (msg is the
	 * error message, valid during the call). *handle is for resume() and
	 * stays valid until done has run. Sinks may answer OCI_IO_PAUSE and
	 * sources OCI_IO_AGAIN: the transfer then waits for resume(), which
	 * may be called from inside any sink or source. */
	int (*blob_get_start)(struct oci_store *s, const char *repo,
	                      const struct oci_descriptor *d, const struct oci_sink *sink,
	                      oci_done_fn done, void *ctx, void **handle);
	int (*blob_put_start)(struct oci_store *s, const char *repo,
	                      const struct oci_descriptor *d, const struct oci_source *src,
	                      oci_done_fn done, void *ctx, void **handle);
	void (*resume)(struct oci_store *s, void *handle);
	/* Starts a manifest HEAD (resolving many tags at once); *out is filled
	 * before done runs. */
	int (*manifest_head_start)(struct oci_store *s, const char *repo, const char *ref,
	                           struct oci_manifest_info *out, oci_done_fn done, void *ctx);
	/* Makes a blob that repository from_repo of the same store holds
	 * available in repo without moving bytes (registry cross-repository
	 * mount). 0 mounted, RV_ENOTFOUND declined. */
	int (*blob_mount)(struct oci_store *s, const char *repo, const char *digest,
	                  const char *from_repo);
	/* Drives this store's running transfers (for registries: every
	 * transfer of the session the store's client belongs to) until one
	 * finishes or timeout_ms passed. Returns how many are still running. */
	int (*run)(struct oci_store *s, int timeout_ms);

	/* --- Optional: direct access (archives). NULL when absent. ----------- */

	/* A sink that stores the blob d (its size known up front, so several
	 * writers may be open at once and fill their places concurrently).
	 * blob_writer_close(commit=1) checks size and digest of what was
	 * written and keeps it; commit=0 (or a failed check) discards it. */
	int (*blob_writer_open)(struct oci_store *s, const struct oci_descriptor *d,
	                        struct oci_sink *out, void **handle);
	int (*blob_writer_close)(struct oci_store *s, void *handle, int commit);
	/* A rewindable source over a stored blob (for uploads that may be
	 * retried); it does not verify: the consumer hashes what it reads. */
	int (*blob_reader_open)(struct oci_store *s, const struct oci_descriptor *d,
	                        struct oci_source *out, void **handle);
	void (*blob_reader_close)(struct oci_store *s, void *handle);
};

struct oci_store {
	const struct oci_store_ops *ops;
	const char *name;   /* for messages: "registry reg.example.com", "archive /backups" */
};

/* Thin wrappers so call sites read as verbs. */
int oci_store_manifest_get(struct oci_store *s, const char *repo, const char *ref,
                           struct oci_manifest **out);
int oci_store_manifest_head(struct oci_store *s, const char *repo, const char *ref,
                            struct oci_manifest_info *out);
int oci_store_manifest_put(struct oci_store *s, const char *repo, const char *ref,
                           const struct oci_manifest *m, unsigned flags);
int oci_store_manifest_delete(struct oci_store *s, const char *repo, const char *digest);
int oci_store_blob_exists(struct oci_store *s, const char *repo,
                          const struct oci_descriptor *d);
int oci_store_blob_get(struct oci_store *s, const char *repo,
                       const struct oci_descriptor *d, const struct oci_sink *sink);
int oci_store_blob_put(struct oci_store *s, const char *repo,
                       const struct oci_descriptor *d, const struct oci_source *src);
int oci_store_tags(struct oci_store *s, const char *repo, struct strlist *out);
int oci_store_repositories(struct oci_store *s, struct strlist *out);
int oci_store_referrers(struct oci_store *s, const char *repo, const char *digest,
                        struct oci_manifest **out_index);
/* NULL is a no-op. */
void oci_store_close(struct oci_store *s);

/* Reads a whole blob into out (appending), capped at max bytes (RV_ETOOBIG
 * beyond: checked against d->size first, and again as bytes arrive), then
 * verified: size, and digest re-hashed here (RV_EDIGEST). On any error out
 * keeps its old length. For configs and other small JSON blobs. */
int oci_store_blob_read(struct oci_store *s, const char *repo,
                        const struct oci_descriptor *d, struct buf *out, size_t max);

#endif
