/*
 * common.c — items, source registries, and the copy step both targets share.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "safekeep/internal.h"
#include "util/error.h"
#include "util/timeutil.h"
#include "util/banned.h"

struct safekeep_item *safekeep_add(struct safekeep_item **v, size_t *n, size_t *alloc,
                                   const char *registry, const char *repo, const char *tag)
{
	*v = xgrow(*v, sizeof(**v), *n + 1, alloc);
	struct safekeep_item *it = &(*v)[(*n)++];
	memset(it, 0, sizeof(*it));
	it->registry = xstrdup(registry);
	it->repo = xstrdup(repo);
	it->tag = xstrdup_or_null(tag);
	return it;
}

void safekeep_items_free(struct safekeep_item *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(v[i].registry);
		free(v[i].repo);
		free(v[i].tag);
		free(v[i].msg);
		free(v[i].where);
	}
	free(v);
}

void safekeep_fail(struct safekeep_item *it, int rc, const char *msg)
{
	it->status = SAFEKEEP_FAILED;
	it->rc = rc;
	free(it->msg);
	it->msg = xstrdup(msg && *msg ? msg : "failed");
}

int safekeep_record_tags(const struct safekeep_options *o, const struct safekeep_item *v,
                         size_t n)
{
	int64_t now = o->now ? o->now : time_now();
	int rc = 0;

	for (size_t i = 0; rc == 0 && i < n; i++)
		if (v[i].status != SAFEKEEP_FAILED && v[i].tag)
			rc = catalog_tag_seen(o->cat, v[i].registry, v[i].repo, v[i].tag, v[i].digest, now,
			                      o->run_id);
	return rc;
}

void safekeep_volume_release(struct safekeep_volume *vol)
{
	free(vol->volume);
	memset(vol, 0, sizeof(*vol));
}

size_t sk_failed(const struct safekeep_item *v, size_t n)
{
	size_t f = 0;
	for (size_t i = 0; i < n; i++)
		f += v[i].status == SAFEKEEP_FAILED;
	return f;
}

/* The caller's progress, then on_copied for an image the engine is done
 * with (from the engine's loop, never inside a transfer's callback, so
 * on_copied may make blocking requests). */
struct hook {
	struct sk_run *r;
	const size_t *which;          /* copy index → item index */
	const struct xfer_result *res;
};

static void hook_progress(const struct xfer_progress *p, void *ctx)
{
	struct hook *h = ctx;
	const struct xfer_options *o = &h->r->o->xfer;

	if (o->progress)
		o->progress(p, o->progress_ctx);
	if (p->event == XFER_IMAGE_DONE && p->rc == 0 && !o->plan_only)
		h->r->on_copied(h->r, h->which[p->image], &h->res[p->image]);
}

/* Copies every item of one source registry marked "copy" into dst. The
 * xfer results go to res[i] for v[i]. */
static void copy_registry(struct sk_run *r, struct oci_store *src, const char *registry)
{
	struct xfer_image *imgs = xcalloc(r->n + 1, sizeof(*imgs));
	size_t *which = xcalloc(r->n + 1, sizeof(*which));
	struct xfer_options xo = r->o->xfer;
	struct hook h = { r, which, NULL };
	size_t n = 0;

	for (size_t i = 0; i < r->n; i++) {
		struct safekeep_item *it = &r->v[i];
		if (!r->copy[i] || strcmp(it->registry, registry) != 0)
			continue;
		imgs[n] = (struct xfer_image){ it->repo, it->tag ? it->tag : it->digest, r->dst_repo[i],
		                               NULL };
		which[n++] = i;
	}
	struct xfer_result *res = xcalloc(n + 1, sizeof(*res));
	h.res = res;
	if (r->on_copied) {
		xo.progress = hook_progress;
		xo.progress_ctx = &h;
	}
	xfer_copy(src, r->dst, imgs, n, &xo, res);
	for (size_t k = 0; k < n; k++) {
		struct safekeep_item *it = &r->v[which[k]];
		r->res[which[k]] = res[k];
		if (res[k].rc != 0)
			safekeep_fail(it, res[k].rc, res[k].msg);
		else   /* a tag that moved between HEAD and GET: keep what was copied */
			memcpy(it->digest, res[k].digest, sizeof(it->digest));
	}
	free(res);
	free(which);
	free(imgs);
}

/* Each source registry opened once on the session, its items copied. */
void sk_copy(struct sk_run *r)
{
	for (size_t i = 0; i < r->n; i++) {
		if (!r->copy[i] || r->v[i].status == SAFEKEEP_FAILED)
			continue;
		int first = 1;
		for (size_t j = 0; j < i && first; j++)
			first = !r->copy[j] || strcmp(r->v[j].registry, r->v[i].registry) != 0;
		if (!first)
			continue;
		struct oci_store *src = NULL;
		int rc = registry_store_open(&src, r->o->session, r->v[i].registry);
		if (rc == 0)
			copy_registry(r, src, r->v[i].registry);
		else
			for (size_t j = i; j < r->n; j++)
				if (r->copy[j] && strcmp(r->v[j].registry, r->v[i].registry) == 0)
					safekeep_fail(&r->v[j], rc, error_msg());
		oci_store_close(src);
	}
}

/* Counts from the copy into the item. */
void sk_counts(struct safekeep_item *it, const struct xfer_result *res)
{
	it->bytes_copied = res->bytes_copied;
	it->bytes_skipped = res->bytes_skipped;
	it->blobs_copied = res->blobs_copied;
	it->blobs_skipped = res->blobs_skipped;
	it->manifests_put = res->manifests_put;
}

/* The manifests of a copy, for catalog_record_image. created comes from
 * store (configs): an index's own time the catalog derives from children. */
struct catalog_image_manifest *sk_manifests(const struct xfer_result *res,
                                            struct oci_store *store, const char *repo)
{
	struct catalog_image_manifest *ms = xcalloc(res->n_manifests + 1, sizeof(*ms));

	for (size_t k = 0; k < res->n_manifests; k++) {
		const struct xfer_manifest *xm = &res->manifests[k];
		ms[k] = (struct catalog_image_manifest){ xm->m, xm->top, xm->tag,
		                                         xfer_created(store, repo, xm->m, NULL, NULL) };
	}
	return ms;
}

void sk_run_init(struct sk_run *r, const struct safekeep_options *o, struct safekeep_item *v,
                 size_t n)
{
	memset(r, 0, sizeof(*r));
	r->o = o;
	r->v = v;
	r->n = n;
	r->now = o->now ? o->now : time_now();
	r->copy = xcalloc(n + 1, sizeof(*r->copy));
	r->res = xcalloc(n + 1, sizeof(*r->res));
	r->dst_repo = xcalloc(n + 1, sizeof(*r->dst_repo));
	r->checked = xcalloc(n + 1, sizeof(*r->checked));
}

void sk_run_release(struct sk_run *r)
{
	for (size_t i = 0; i < r->n; i++) {
		xfer_result_release(&r->res[i]);
		free(r->dst_repo[i]);
	}
	free(r->res);
	free(r->checked);
	free(r->copy);
	free(r->dst_repo);
	oci_store_close(r->dst);
}
