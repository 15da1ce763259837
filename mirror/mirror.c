/*
 * mirror.c — registries → a standby registry, verified, recorded.
 *
 * Resolve and filter every SOURCE's images and record what the primary
 * had, then let safekeep copy, read back and record
 * (safekeep/safekeep.h). It never deletes anything on the destination.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mirror/mirror.h"
#include "oci/reference.h"
#include "safekeep/safekeep.h"
#include "util/error.h"
#include "util/timeutil.h"
#include "util/banned.h"

static int gather(const struct mirror_options *o, struct safekeep_item **v, size_t *n)
{
	struct xfer_filter f = { o->tags, o->n_tags, o->exclude_tags, o->n_exclude_tags };
	struct xfer_selection sel = { 0 };
	size_t alloc = 0;
	int rc = xfer_select(&sel, o->sources, o->n_sources, &f, o->xfer.jobs,
	                     registry_store_opener, o->session);

	for (size_t i = 0; rc == 0 && i < sel.n_picks; i++) {
		const struct xfer_pick *p = &sel.picks[i];
		struct safekeep_item *it = safekeep_add(v, n, &alloc, sel.origins[p->origin].registry,
		                                        p->repo, p->tag);
		memcpy(it->digest, p->digest, sizeof(it->digest));
		if (p->rc < 0)
			safekeep_fail(it, p->rc, p->msg);
	}
	xfer_selection_release(&sel);
	return rc;
}

static enum mirror_status status_of(enum safekeep_status s)
{
	switch (s) {
	case SAFEKEEP_PARTIAL: return MIRROR_PARTIAL;
	case SAFEKEEP_UNCHANGED: return MIRROR_UNCHANGED;
	case SAFEKEEP_FAILED: return MIRROR_FAILED;
	default: return MIRROR_COPIED;
	}
}

static void report(const struct safekeep_item *v, size_t n, struct mirror_report *out)
{
	out->items = xcalloc(n + 1, sizeof(*out->items));
	out->n_items = n;
	for (size_t i = 0; i < n; i++) {
		const struct safekeep_item *it = &v[i];
		struct mirror_item *mi = &out->items[i];
		mi->ref = it->tag ? xasprintf("%s/%s:%s", it->registry, it->repo, it->tag)
		                  : xasprintf("%s/%s@%s", it->registry, it->repo, it->digest);
		mi->dst = xstrdup(it->where ? it->where : "");
		memcpy(mi->digest, it->digest, sizeof(mi->digest));
		mi->status = status_of(it->status);
		mi->bytes_copied = it->bytes_copied;
		mi->rc = it->rc;
		mi->msg = xstrdup_or_null(it->msg);
		out->copied += mi->status == MIRROR_COPIED;
		out->partial += mi->status == MIRROR_PARTIAL;
		out->unchanged += mi->status == MIRROR_UNCHANGED;
		out->failed += mi->status == MIRROR_FAILED;
		out->bytes_copied += it->bytes_copied;
		out->bytes_skipped += it->bytes_skipped;
		out->blobs_copied += it->blobs_copied;
		out->blobs_skipped += it->blobs_skipped;
		out->manifests_put += it->manifests_put;
	}
}

int mirror_run(const struct mirror_options *o, struct mirror_report *out)
{
	struct safekeep_options so = { o->cat, o->session, o->xfer, 0, 0 };
	struct safekeep_item *v = NULL;
	char *registry = NULL, *prefix = NULL;
	int64_t t0 = time_mono_ms();
	size_t n = 0;
	int rc;

	memset(out, 0, sizeof(*out));
	out->started = time_now();
	if ((rc = catalog_run_start(o->cat, "mirror", o->args_json, &so.run_id)) < 0)
		goto done;
	out->run_id = so.run_id;
	/* A bad destination stops everything before the sources are read. */
	if ((rc = oci_ref_parse_location(o->to, &registry, &prefix)) < 0) {
		rc = error_wrap(rc, "destination");
		goto done;
	}
	if ((rc = gather(o, &v, &n)) < 0 || (rc = safekeep_record_tags(&so, v, n)) < 0)
		goto done;
	rc = safekeep_standby(&so, o->to, v, n);
	report(v, n, out);
	if ((rc == 0 || rc == RV_ERROR) && out->failed)
		rc = error_set(RV_ERROR, "%zu of %zu images failed", out->failed, n);
done:
	out->finished = time_now();
	out->duration_ms = time_mono_ms() - t0;
	if (so.run_id)
		catalog_run_finish(o->cat, so.run_id,
		                   rc == 0 ? "ok" : out->failed && out->failed < n ? "partial" : "failed",
		                   NULL);
	safekeep_items_free(v, n);
	free(registry);
	free(prefix);
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
