/*
 * undo.c — restore --run: everything a prune run deleted comes back.
 *
 * The run's journal names each deleted digest with every tag it had (a
 * digest delete removes them all). Each comes back from whichever store
 * holds it, with its first tag last-put by the copy engine and the others
 * after, then its row is marked undone; the run when every row is.
 *
 * Only prune runs are undone: every run shares one id sequence, so a
 * mistyped id is as likely to name a backup as a prune, and "undone" on a
 * run that deleted nothing would be a lie in the audit trail. A dry run
 * (xo->plan_only) asks the target what it lacks and writes nothing, to the
 * registry or to the catalog.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "restore/internal.h"
#include "util/error.h"
#include "util/timeutil.h"
#include "util/banned.h"

struct undo {
	catalog *cat;
	registry_session *session;
	const struct xfer_options *xo;
	struct restore_undo_report *out;
};

/* Every tag of the deleted image, the image itself pushed once. */
static int bring_back(struct undo *u, const struct catalog_deletion *d, struct restore_report *rep)
{
	struct candidates cs = { 0 };
	struct target t = { 0 };
	int rc = restore_candidates(u->cat, d->digest, RESTORE_AUTO, &cs);

	if (rc == 0)
		rc = restore_target_open(&t, u->session, d->registry, d->repository);
	if (rc == 0)
		rc = restore_from_candidates(&cs, u->session, d->digest, &t,
		                             d->n_tags ? d->tags[0] : NULL, u->xo, rep);
	/* A dry run put nothing, so there is nothing to read the other tags'
	 * manifest from, and they are one PUT each: nothing more to plan. */
	for (size_t i = 1; rc == 0 && !u->xo->plan_only && i < d->n_tags; i++) {
		struct oci_manifest *m = NULL;
		/* The image is there now: the other tags are one PUT each. */
		if ((rc = oci_store_manifest_get(t.store, t.repo, d->digest, &m)) == 0)
			rc = oci_store_manifest_put(t.store, t.repo, d->tags[i], m, 0);
		oci_manifest_free(m);
	}
	restore_target_close(&t);
	restore_candidates_release(&cs);
	return rc;
}

static int undo_one(const struct catalog_deletion *d, void *ctx)
{
	struct undo *u = ctx;
	struct restore_undo_report *out = u->out;
	struct restore_report rep = { 0 };

	out->items = xrealloc(out->items, (out->n_items + 1) * sizeof(*out->items));
	struct restore_undo_item *it = &out->items[out->n_items++];
	memset(it, 0, sizeof(*it));
	it->ref = xasprintf("%s/%s@%s", d->registry, d->repository, d->digest);
	it->tags = xcalloc(d->n_tags + 1, sizeof(*it->tags));
	for (size_t i = 0; i < d->n_tags; i++)
		it->tags[it->n_tags++] = xstrdup(d->tags[i]);
	if (d->undone_at) {   /* an earlier undo got this one already */
		out->restored++;
		return 0;
	}
	it->rc = bring_back(u, d, &rep);
	if (it->rc == 0 && !u->xo->plan_only)
		it->rc = catalog_deletion_undone(u->cat, d->id, time_now());
	if (it->rc < 0) {
		it->msg = xstrdup(error_msg());
		out->failed++;
	} else {
		out->restored++;
	}
	restore_report_release(&rep);
	return 0;   /* one failure must not stop the others */
}

int restore_undo_run(catalog *cat, registry_session *session, int64_t run_id,
                     const struct xfer_options *xo, struct restore_undo_report *out)
{
	struct undo u = { cat, session, xo, out };
	struct catalog_run run;
	int rc;

	memset(out, 0, sizeof(*out));
	out->run_id = run_id;
	out->dry_run = xo->plan_only;
	if ((rc = catalog_run_get(cat, run_id, &run)) < 0)
		return rc;
	if (strcmp(run.command, "prune") != 0)
		return error_set(RV_EINVALID, "run %lld is a %s run, not a prune run",
		                 (long long)run_id, run.command);
	if ((rc = catalog_deletions(cat, run_id, undo_one, &u)) < 0)
		return rc;
	if (out->failed)
		return error_set(RV_ERROR, "%zu of %zu deleted images of run %lld could not be restored",
		                 out->failed, out->n_items, (long long)run_id);
	/* Nothing deleted, nothing to undo: the run stays as it was. */
	if (out->n_items == 0 || xo->plan_only)
		return 0;
	return catalog_run_undone(cat, run_id, time_now());
}

void restore_undo_report_release(struct restore_undo_report *r)
{
	for (size_t i = 0; i < r->n_items; i++) {
		free(r->items[i].ref);
		for (size_t k = 0; k < r->items[i].n_tags; k++)
			free(r->items[i].tags[k]);
		free(r->items[i].tags);
		free(r->items[i].msg);
	}
	free(r->items);
	memset(r, 0, sizeof(*r));
}
