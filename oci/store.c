/*
 * store.c — verbs over the store vtable, and the capped whole-blob read.
 */
#include <stdio.h>
#include <string.h>

#include "oci/store.h"
#include "util/error.h"
#include "util/banned.h"

/* A store may leave an operation it cannot do NULL (an archive cannot
 * delete); callers get a message instead of a crash. */
static int missing(struct oci_store *s, const char *op)
{
	return error_set(RV_EUNSUPPORTED, "%s: %s is not supported",
	                 s->name ? s->name : "store", op);
}

#define DISPATCH(s, op, ...) ((s)->ops->op ? (s)->ops->op((s), __VA_ARGS__) : missing((s), #op))

int oci_store_manifest_get(struct oci_store *s, const char *repo, const char *ref,
                           struct oci_manifest **out)
{
	return DISPATCH(s, manifest_get, repo, ref, out);
}

int oci_store_manifest_head(struct oci_store *s, const char *repo, const char *ref,
                            struct oci_manifest_info *out)
{
	return DISPATCH(s, manifest_head, repo, ref, out);
}

int oci_store_manifest_put(struct oci_store *s, const char *repo, const char *ref,
                           const struct oci_manifest *m, unsigned flags)
{
	return DISPATCH(s, manifest_put, repo, ref, m, flags);
}

int oci_store_manifest_delete(struct oci_store *s, const char *repo, const char *digest)
{
	return DISPATCH(s, manifest_delete, repo, digest);
}

int oci_store_blob_exists(struct oci_store *s, const char *repo,
                          const struct oci_descriptor *d)
{
	return DISPATCH(s, blob_exists, repo, d);
}

int oci_store_blob_get(struct oci_store *s, const char *repo,
                       const struct oci_descriptor *d, const struct oci_sink *sink)
{
	return DISPATCH(s, blob_get, repo, d, sink);
}

int oci_store_blob_put(struct oci_store *s, const char *repo,
                       const struct oci_descriptor *d, const struct oci_source *src)
{
	return DISPATCH(s, blob_put, repo, d, src);
}

int oci_store_tags(struct oci_store *s, const char *repo, struct strlist *out)
{
	return DISPATCH(s, tags, repo, out);
}

int oci_store_repositories(struct oci_store *s, struct strlist *out)
{
	return s->ops->repositories ? s->ops->repositories(s, out) : missing(s, "repositories");
}

int oci_store_referrers(struct oci_store *s, const char *repo, const char *digest,
                        struct oci_manifest **out_index)
{
	return DISPATCH(s, referrers, repo, digest, out_index);
}

void oci_store_close(struct oci_store *s)
{
	if (s && s->ops->close)
		s->ops->close(s);
}

struct capped {
	struct buf *out;
	size_t max;
	size_t got;
	const char *digest;
};

/* Refuses before copying, so a store that sends more than the descriptor
 * said can never make us hold more than max. */
static int capped_write(void *ctx, const void *data, size_t len)
{
	struct capped *c = ctx;

	if (len > c->max - c->got)
		return error_set(RV_ETOOBIG, "blob \"%s\": over the %zu-byte limit", c->digest, c->max);
	c->got += len;
	if (buf_add(c->out, data, len))
		return error_wrap(RV_ETOOBIG, "blob \"%s\"", c->digest);
	return 0;
}

int oci_store_blob_read(struct oci_store *s, const char *repo,
                        const struct oci_descriptor *d, struct buf *out, size_t max)
{
	struct capped c = { out, max, 0, d->digest };
	struct oci_sink sink = { capped_write, &c };
	size_t old_len = out->len;
	char what[OCI_DIGEST_MAX + 8];
	int rc;

	if (d->size < 0)
		return error_set(RV_EINVALID, "blob \"%s\": negative size %lld", d->digest,
		                 (long long)d->size);
	if ((uint64_t)d->size > max)
		return error_set(RV_ETOOBIG, "blob \"%s\": %lld bytes is over the %zu-byte limit",
		                 d->digest, (long long)d->size, max);
	rc = oci_store_blob_get(s, repo, d, &sink);
	/* blob_get verifies; checking again here costs one hash of a small
	 * blob and keeps a buggy store from handing us wrong bytes. */
	if (!rc && c.got != (size_t)d->size)
		rc = error_set(RV_EDIGEST, "blob \"%s\": expected %lld bytes, got %zu", d->digest,
		               (long long)d->size, c.got);
	snprintf(what, sizeof(what), "blob \"%s\"", d->digest);
	if (!rc)
		rc = oci_digest_verify(d->digest, out->ptr ? out->ptr + old_len : "", c.got, what);
	if (rc) {
		out->len = old_len;
		if (out->alloc)
			out->ptr[old_len] = '\0';
	}
	return rc;
}
