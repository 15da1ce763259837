/*
 * backup.c — registries → an archive store (or a portable tarball).
 *
 * Resolve every SOURCE's images and record what the primary had, then let
 * safekeep copy, read back and record (safekeep/safekeep.h has the order
 * that makes it safe).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backup/backup.h"
#include "safekeep/safekeep.h"
#include "util/error.h"
#include "util/str.h"
#include "util/banned.h"

/* Every SOURCE's images, resolved, as safekeeping items. */
static int gather(const struct backup_options *o, struct safekeep_item **v, size_t *n)
{
	struct xfer_selection sel = { 0 };
	size_t alloc = 0;
	int rc = xfer_select(&sel, o->sources, o->n_sources, NULL, o->xfer.jobs,
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

static enum backup_status status_of(enum safekeep_status s)
{
	switch (s) {
	case SAFEKEEP_PARTIAL: return BACKUP_PARTIAL;
	case SAFEKEEP_LISTED: return BACKUP_LISTED;
	case SAFEKEEP_UNCHANGED: return BACKUP_UNCHANGED;
	case SAFEKEEP_FAILED: return BACKUP_FAILED;
	default: return BACKUP_COPIED;
	}
}

static void report_items(const struct safekeep_item *v, size_t n, struct backup_report *out)
{
	out->items = xcalloc(n + 1, sizeof(*out->items));
	out->n_items = n;
	for (size_t i = 0; i < n; i++) {
		const struct safekeep_item *it = &v[i];
		struct backup_item *bi = &out->items[i];
		bi->ref = it->where ? xstrdup(it->where)
		                    : it->tag ? xasprintf("%s/%s:%s", it->registry, it->repo, it->tag)
		                              : xasprintf("%s/%s@%s", it->registry, it->repo, it->digest);
		memcpy(bi->digest, it->digest, sizeof(bi->digest));
		bi->status = status_of(it->status);
		bi->bytes_written = it->bytes_copied;
		bi->rc = it->rc;
		bi->msg = xstrdup_or_null(it->msg);
		out->copied += bi->status == BACKUP_COPIED;
		out->partial += bi->status == BACKUP_PARTIAL;
		out->listed += bi->status == BACKUP_LISTED;
		out->unchanged += bi->status == BACKUP_UNCHANGED;
		out->failed += bi->status == BACKUP_FAILED;
	}
}

static int any_viable(const struct safekeep_item *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (v[i].status != SAFEKEEP_FAILED)
			return 1;
	return 0;
}

int backup_run(const struct backup_options *o, struct backup_report *out)
{
	struct safekeep_options so = { o->cat, o->session, o->xfer, 0, 0 };
	struct safekeep_item *v = NULL;
	struct safekeep_volume vol = { 0 };
	size_t n = 0;
	int rc;

	memset(out, 0, sizeof(*out));
	out->path = xstrdup(o->to);
	if ((rc = catalog_run_start(o->cat, "backup", o->args_json, &so.run_id)) < 0)
		goto done;
	out->run_id = so.run_id;
	if ((rc = gather(o, &v, &n)) < 0 || (rc = safekeep_record_tags(&so, v, n)) < 0)
		goto done;
	/* Every tag failed to resolve: create no store. */
	if (any_viable(v, n))
		rc = str_has_suffix(o->to, ".tar") ? safekeep_export(&so, o->to, v, n, &vol)
		                                   : safekeep_archive(&so, o->to, v, n, &vol);
	report_items(v, n, out);
	out->volume = xstrdup_or_null(vol.volume);
	out->volume_size = vol.size;
	out->bytes_written = vol.bytes_written;
	if ((rc == 0 || rc == RV_ERROR) && out->failed)
		rc = error_set(RV_ERROR, "%zu of %zu images failed", out->failed, n);
done:
	if (so.run_id)
		catalog_run_finish(o->cat, so.run_id,
		                   rc == 0 ? "ok" : out->failed && out->failed < n ? "partial" : "failed",
		                   NULL);
	safekeep_volume_release(&vol);
	safekeep_items_free(v, n);
	return rc;
}

void backup_report_release(struct backup_report *r)
{
	for (size_t i = 0; i < r->n_items; i++) {
		free(r->items[i].ref);
		free(r->items[i].msg);
	}
	free(r->items);
	free(r->volume);
	free(r->path);
	memset(r, 0, sizeof(*r));
}
