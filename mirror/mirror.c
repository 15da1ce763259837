/*
 * mirror.c — registries → a standby registry, verified, recorded.
 *
 * The order is backup's: resolve and record what the primary had; skip
 * what the catalog says the standby holds under the same name; copy the
 * rest; read every manifest back from the standby and find every blob
 * there; only then record copies, the image's own manifest last. A crash
 * leaves images on the standby that the catalog does not claim yet — the
 * next run copies nothing for them (the blobs are there) and records them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mirror/mirror.h"
#include "oci/reference.h"
#include "util/error.h"
#include "util/log.h"
#include "util/str.h"
#include "util/timeutil.h"
#include "util/banned.h"

struct item {
	char *registry, *repo, *tag;   /* the source; tag NULL: named by digest */
	char digest[OCI_DIGEST_MAX];
	char *name;                    /* "registry/repo:tag" or "…@digest" */
	char *dst_repo;                /* PREFIX/repo on the standby */
	char *dst;                     /* "host/prefix/repo:tag" */
	enum mirror_status status;
	int rc;
	char *msg;
	struct xfer_result res;
};

struct run {
	const struct mirror_options *o;
	struct item *items;
	size_t n, alloc;
	char *dst_registry;            /* HOST[:PORT] */
	char *prefix;                  /* NULL or "team/standby" */
	struct oci_store *dst;
	int64_t store_id, run_id, now;
};

static void item_fail(struct item *it, int rc, const char *msg)
{
	it->status = MIRROR_FAILED;
	it->rc = rc;
	free(it->msg);
	it->msg = xstrdup(msg && *msg ? msg : "failed");
}

static void add_item(struct run *r, const char *registry, const struct xfer_pick *p)
{
	r->items = xgrow(r->items, sizeof(*r->items), r->n + 1, &r->alloc);
	struct item *it = &r->items[r->n++];
	const char *sep = p->tag ? ":" : "@";

	memset(it, 0, sizeof(*it));
	it->registry = xstrdup(registry);
	it->repo = xstrdup(p->repo);
	it->tag = xstrdup_or_null(p->tag);
	it->name = xasprintf("%s/%s%s%s", registry, p->repo, sep, p->ref);
	it->dst_repo = r->prefix ? xasprintf("%s/%s", r->prefix, p->repo) : xstrdup(p->repo);
	it->dst = xasprintf("%s/%s%s%s", r->dst_registry, it->dst_repo, sep, p->ref);
	if (p->rc < 0)
		item_fail(it, p->rc, p->msg);
	else
		memcpy(it->digest, p->digest, sizeof(it->digest));
}

/* --- Where to, and from where ------------------------------------------------ */

/* HOST[:PORT][/PREFIX]: docker.io/myorg stays myorg (no "library/"). */
static int open_destination(struct run *r)
{
	int rc = oci_ref_parse_location(r->o->to, &r->dst_registry, &r->prefix);

	if (rc < 0)
		return error_wrap(rc, "destination");
	char *location = r->prefix ? xasprintf("%s/%s", r->dst_registry, r->prefix)
	                           : xstrdup(r->dst_registry);
	rc = catalog_store_id(r->o->cat, CATALOG_STORE_REGISTRY, location, &r->store_id);
	free(location);
	if (rc == 0)
		rc = registry_store_open(&r->dst, r->o->session, r->dst_registry);
	return rc;
}

static int gather(struct run *r, struct xfer_selection *sel)
{
	struct xfer_filter f = { r->o->tags, r->o->n_tags, r->o->exclude_tags,
	                         r->o->n_exclude_tags };
	int rc = xfer_select(sel, r->o->sources, r->o->n_sources, &f, r->o->xfer.jobs,
	                     registry_store_opener, r->o->session);

	for (size_t i = 0; rc == 0 && i < sel->n_picks; i++)
		add_item(r, sel->origins[sel->picks[i].origin].registry, &sel->picks[i]);
	for (size_t i = 0; rc == 0 && i < r->n; i++) {
		struct item *it = &r->items[i];
		if (it->status != MIRROR_FAILED && it->tag)
			rc = catalog_tag_seen(r->o->cat, it->registry, it->repo, it->tag, it->digest,
			                      r->now, r->run_id);
	}
	return rc;
}

/* --- What moves ------------------------------------------------------------------ */

/* Unchanged when the catalog says the standby holds this very name at this
 * digest, verified. No request to the standby at all: that is what makes
 * a scheduled rerun cost one HEAD per tag at the source. */
static int unchanged(struct run *r, const struct item *it)
{
	char held[OCI_DIGEST_MAX];
	int same = 1;

	if (it->tag)
		same = catalog_store_ref_get(r->o->cat, r->store_id, it->registry, it->repo, it->tag,
		                             held) == 0 &&
		       strcmp(held, it->digest) == 0;
	same = same && catalog_copy_has(r->o->cat, r->store_id, it->digest) == 0;
	error_clear();
	return same;
}

static void copy_from(struct run *r, struct oci_store *src, const char *registry)
{
	struct xfer_image *imgs = xcalloc(r->n + 1, sizeof(*imgs));
	struct item **its = xcalloc(r->n + 1, sizeof(*its));
	size_t n = 0;

	for (size_t i = 0; i < r->n; i++) {
		struct item *it = &r->items[i];
		if (it->status != MIRROR_COPIED || strcmp(it->registry, registry) != 0)
			continue;
		imgs[n] = (struct xfer_image){ it->repo, it->tag ? it->tag : it->digest, it->dst_repo,
		                               NULL };
		its[n++] = it;
	}
	struct xfer_result *res = xcalloc(n + 1, sizeof(*res));
	xfer_copy(src, r->dst, imgs, n, &r->o->xfer, res);
	for (size_t i = 0; i < n; i++) {
		its[i]->res = res[i];
		if (res[i].rc != 0)
			item_fail(its[i], res[i].rc, res[i].msg);
		else
			memcpy(its[i]->digest, res[i].digest, sizeof(its[i]->digest));
	}
	free(res);
	free(its);
	free(imgs);
}

/* --- Recording --------------------------------------------------------------------- */

/* Objects first, the image's own manifest last (catalog_record_image). */
static int record_item(struct run *r, struct item *it)
{
	const struct xfer_result *res = &it->res;
	struct catalog_image_manifest *ms = xcalloc(res->n_manifests + 1, sizeof(*ms));
	struct catalog_image_object *obs = xcalloc(res->n_objects + 1, sizeof(*obs));
	struct catalog_image img = { r->store_id, it->registry, it->repo, it->tag, it->digest,
	                             ms, res->n_manifests, obs, res->n_objects, r->now, r->run_id,
	                             !res->partial };
	int rc = 0, complete = 0;

	/* An index's own time comes from its children: the catalog fills it. */
	for (size_t k = 0; k < res->n_manifests; k++) {
		const struct xfer_manifest *xm = &res->manifests[k];
		ms[k] = (struct catalog_image_manifest){
			xm->m, xm->top, xm->tag, xfer_created(r->dst, it->dst_repo, xm->m, NULL, NULL)
		};
	}
	/* xfer_verify() fetched every manifest and hashed it; blobs were
	 * found with their sizes. */
	for (size_t k = 0; k < res->n_objects; k++)
		obs[k] = (struct catalog_image_object){ res->objects[k].digest,
		                                        res->objects[k].is_manifest ? "read-back"
		                                                                    : "head" };
	if (rc == 0)
		rc = catalog_record_image(r->o->cat, &img, &complete);
	if (rc == 0 && !complete) {
		it->status = MIRROR_PARTIAL;
		free(it->msg);
		it->msg = xstrdup("not every platform was copied: no complete copy recorded");
	}
	free(ms);
	free(obs);
	return rc;
}

/* Per image: read back, then one transaction. One image's failure never
 * costs another its record. */
static void verify_and_record(struct run *r)
{
	for (size_t i = 0; i < r->n; i++) {
		struct item *it = &r->items[i];
		int rc;
		if (it->status != MIRROR_COPIED)
			continue;
		if ((rc = xfer_verify(r->dst, it->dst_repo, it->tag, &it->res)) < 0) {
			item_fail(it, rc, error_msg());
			continue;
		}
		if ((rc = catalog_begin(r->o->cat)) == 0 && (rc = record_item(r, it)) == 0)
			rc = catalog_commit(r->o->cat);
		else if (rc < 0)
			catalog_rollback(r->o->cat);
		if (rc < 0)
			item_fail(it, rc, error_msg());
	}
}

/* --- The run ------------------------------------------------------------------------ */

static void report(const struct run *r, struct mirror_report *out)
{
	out->items = xcalloc(r->n + 1, sizeof(*out->items));
	out->n_items = r->n;
	for (size_t i = 0; i < r->n; i++) {
		const struct item *it = &r->items[i];
		struct mirror_item *mi = &out->items[i];
		mi->ref = xstrdup(it->name);
		mi->dst = xstrdup(it->dst);
		memcpy(mi->digest, it->digest, sizeof(mi->digest));
		mi->status = it->status;
		mi->bytes_copied = it->status == MIRROR_FAILED ? 0 : it->res.bytes_copied;
		mi->rc = it->rc;
		mi->msg = xstrdup_or_null(it->msg);
		out->copied += it->status == MIRROR_COPIED;
		out->partial += it->status == MIRROR_PARTIAL;
		out->unchanged += it->status == MIRROR_UNCHANGED;
		out->failed += it->status == MIRROR_FAILED;
		out->bytes_copied += it->res.bytes_copied;
		out->bytes_skipped += it->res.bytes_skipped;
		out->blobs_copied += it->res.blobs_copied;
		out->blobs_skipped += it->res.blobs_skipped;
		out->manifests_put += it->res.manifests_put;
	}
}

static void release_run(struct run *r)
{
	for (size_t i = 0; i < r->n; i++) {
		struct item *it = &r->items[i];
		free(it->registry);
		free(it->repo);
		free(it->tag);
		free(it->name);
		free(it->dst_repo);
		free(it->dst);
		free(it->msg);
		xfer_result_release(&it->res);
	}
	free(r->items);
	oci_store_close(r->dst);
	free(r->dst_registry);
	free(r->prefix);
}

int mirror_run(const struct mirror_options *o, struct mirror_report *out)
{
	struct run r = { 0 };
	struct xfer_selection sel = { 0 };
	int64_t t0 = time_mono_ms();
	int rc;

	memset(out, 0, sizeof(*out));
	r.o = o;
	r.now = out->started = time_now();
	if ((rc = catalog_run_start(o->cat, "mirror", o->args_json, &r.run_id)) < 0)
		goto done;
	out->run_id = r.run_id;
	if ((rc = open_destination(&r)) < 0 || (rc = gather(&r, &sel)) < 0)
		goto done;
	for (size_t i = 0; i < r.n; i++)
		if (r.items[i].status != MIRROR_FAILED)
			r.items[i].status = unchanged(&r, &r.items[i]) ? MIRROR_UNCHANGED : MIRROR_COPIED;
	for (size_t k = 0; k < sel.n_origins; k++)
		copy_from(&r, sel.origins[k].store, sel.origins[k].registry);
	verify_and_record(&r);
	report(&r, out);
	if (out->failed)
		rc = error_set(RV_ERROR, "%zu of %zu images failed", out->failed, r.n);
done:
	out->finished = time_now();
	out->duration_ms = time_mono_ms() - t0;
	if (r.run_id)
		catalog_run_finish(o->cat, r.run_id,
		                   rc == 0 ? "ok" : out->failed && out->failed < r.n ? "partial" : "failed",
		                   NULL);
	xfer_selection_release(&sel);
	release_run(&r);
	return rc;
}

void mirror_report_release(struct mirror_report *r)
{
	for (size_t i = 0; i < r->n_items; i++) {
		free(r->items[i].ref);
		free(r->items[i].dst);
		free(r->items[i].msg);
	}
	free(r->items);
	memset(r, 0, sizeof(*r));
}
