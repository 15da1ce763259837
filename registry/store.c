/*
 * store.c — a registry client seen through the oci_store interface, so the
 * copy engine drives registries and archives alike.
 */
#include <stdlib.h>
#include <string.h>

#include "registry/internal.h"
#include "util/error.h"
#include "util/banned.h"

struct rstore {
	struct oci_store base;   /* first: the vtable user casts back to us */
	registry_client *c;
	int owns_client;         /* registry_store_open: closing the store closes it */
	char *name;
};

static registry_client *cl(struct oci_store *s)
{
	return ((struct rstore *)s)->c;
}

static int r_manifest_get(struct oci_store *s, const char *repo, const char *ref,
                          struct oci_manifest **out)
{
	return registry_manifest_get(cl(s), repo, ref, out);
}

static int r_manifest_head(struct oci_store *s, const char *repo, const char *ref,
                           struct oci_manifest_info *out)
{
	return registry_manifest_head(cl(s), repo, ref, out);
}

static int r_manifest_put(struct oci_store *s, const char *repo, const char *ref,
                          const struct oci_manifest *m, unsigned flags)
{
	(void)flags;   /* a registry keeps children by digest either way */
	return registry_manifest_put(cl(s), repo, ref, m->media_type, m->raw, m->raw_len);
}

static int r_manifest_delete(struct oci_store *s, const char *repo, const char *digest)
{
	return registry_manifest_delete(cl(s), repo, digest);
}

static int r_blob_exists(struct oci_store *s, const char *repo, const struct oci_descriptor *d)
{
	int64_t size = -1;
	int rc = registry_blob_head(cl(s), repo, d->digest, &size);

	if (rc < 0)
		return rc;
	/* A registry that reports another size holds something else under
	 * that name: not the blob we need. */
	if (size >= 0 && d->size >= 0 && size != d->size)
		return error_set(RV_ENOTFOUND, "blob \"%s@%s\" on \"%s\" has size %lld, expected %lld",
		                 repo, d->digest, registry_client_name(cl(s)), (long long)size,
		                 (long long)d->size);
	return 0;
}

static int r_blob_get(struct oci_store *s, const char *repo, const struct oci_descriptor *d,
                      const struct oci_sink *sink)
{
	return registry_blob_get(cl(s), repo, d, sink);
}

static int r_blob_put(struct oci_store *s, const char *repo, const struct oci_descriptor *d,
                      const struct oci_source *src)
{
	return registry_blob_put(cl(s), repo, d, src, 0);
}

static int r_tags(struct oci_store *s, const char *repo, struct strlist *out)
{
	return registry_tags_list(cl(s), repo, out);
}

static int r_repositories(struct oci_store *s, struct strlist *out)
{
	return registry_catalog(cl(s), out);
}

static int r_referrers(struct oci_store *s, const char *repo, const char *digest,
                       struct oci_manifest **out_index)
{
	return registry_referrers(cl(s), repo, digest, NULL, out_index);
}

/* Concurrent transfers: registry ops report (op, rc, ctx); the store
 * interface wants (ctx, rc, msg). A small adapter carries the caller's. */
struct done_adapter {
	oci_done_fn done;
	void *ctx;
};

static void adapt_done(registry_op *op, int rc, void *ctx)
{
	struct done_adapter a = *(struct done_adapter *)ctx;

	free(ctx);
	a.done(a.ctx, rc, rc < 0 ? registry_op_error(op) : "");
}

static struct done_adapter *adapter(oci_done_fn done, void *ctx)
{
	struct done_adapter *a = xmalloc(sizeof(*a));
	a->done = done;
	a->ctx = ctx;
	return a;
}

static int r_blob_get_start(struct oci_store *s, const char *repo,
                            const struct oci_descriptor *d, const struct oci_sink *sink,
                            oci_done_fn done, void *ctx, void **handle)
{
	struct done_adapter *a = adapter(done, ctx);
	int rc = registry_blob_get_start((registry_op **)handle, cl(s), repo, d, sink, adapt_done, a);

	if (rc < 0)
		free(a);   /* refused before starting: done will not run */
	return rc;
}

static int r_blob_put_start(struct oci_store *s, const char *repo,
                            const struct oci_descriptor *d, const struct oci_source *src,
                            oci_done_fn done, void *ctx, void **handle)
{
	struct done_adapter *a = adapter(done, ctx);
	int rc = registry_blob_put_start((registry_op **)handle, cl(s), repo, d, src, adapt_done, a);

	if (rc < 0)
		free(a);
	return rc;
}

static int r_manifest_head_start(struct oci_store *s, const char *repo, const char *ref,
                                 struct oci_manifest_info *out, oci_done_fn done, void *ctx)
{
	struct done_adapter *a = adapter(done, ctx);
	int rc = registry_manifest_head_start(NULL, cl(s), repo, ref, out, adapt_done, a);

	if (rc < 0)
		free(a);
	return rc;
}

static void r_resume(struct oci_store *s, void *handle)
{
	(void)s;
	registry_op_resume(handle);
}

static int r_blob_mount(struct oci_store *s, const char *repo, const char *digest,
                        const char *from_repo)
{
	return registry_blob_mount(cl(s), repo, digest, from_repo);
}

static int r_run(struct oci_store *s, int timeout_ms)
{
	return registry_session_run(registry_client_session(cl(s)), timeout_ms);
}

static void r_close(struct oci_store *s)
{
	struct rstore *r = (struct rstore *)s;
	if (r->owns_client)
		registry_client_close(r->c);
	free(r->name);
	free(r);
}

static const struct oci_store_ops registry_store_ops = {
	.manifest_get = r_manifest_get,
	.manifest_head = r_manifest_head,
	.manifest_put = r_manifest_put,
	.manifest_delete = r_manifest_delete,
	.blob_exists = r_blob_exists,
	.blob_get = r_blob_get,
	.blob_put = r_blob_put,
	.tags = r_tags,
	.repositories = r_repositories,
	.referrers = r_referrers,
	.close = r_close,
	.blob_get_start = r_blob_get_start,
	.blob_put_start = r_blob_put_start,
	.resume = r_resume,
	.manifest_head_start = r_manifest_head_start,
	.blob_mount = r_blob_mount,
	.run = r_run,
};

int registry_store_new(struct oci_store **out, registry_client *c)
{
	struct rstore *r = xcalloc(1, sizeof(*r));

	r->c = c;
	r->name = xasprintf("registry %s", registry_client_name(c));
	r->base.ops = &registry_store_ops;
	r->base.name = r->name;
	*out = &r->base;
	return 0;
}

int registry_store_open(struct oci_store **out, registry_session *s, const char *registry)
{
	registry_client *c = NULL;
	int rc = registry_client_open(&c, s, registry);

	*out = NULL;
	if (rc < 0)
		return rc;
	registry_store_new(out, c);
	((struct rstore *)*out)->owns_client = 1;
	return 0;
}

int registry_store_opener(void *session, const char *registry, struct oci_store **out)
{
	return registry_store_open(out, session, registry);
}

registry_client *registry_store_client(struct oci_store *s)
{
	return cl(s);
}
