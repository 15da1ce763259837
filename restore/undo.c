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
 *
 * The journal also names the children of a deleted index (untagged rows
 * of their own), but copies are recorded for top-level images only: a
 * child has no copy of its own, and comes back inside its index. So a row
 * without a copy and without tags is settled last, and counts as restored
 * when the registry now has it by digest (or, in a dry run, when an index
 * this run brings back lists it).
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
	struct row *rows;             /* the journal, in order; rows[k] is out->items[k] */
	size_t n_rows;
};

/* One journal row, owned (catalog_deletions lends its strings). */
struct row {
	int64_t id, undone_at;
	char *registry, *repository, *digest;
	char **tags;
	size_t n_tags;
	int deferred;                 /* no copy, no tags: settled after the others */
};

static int collect(const struct catalog_deletion *d, void *ctx)
{
	struct undo *u = ctx;
	struct row *r;

	u->rows = xrealloc(u->rows, (u->n_rows + 1) * sizeof(*u->rows));
	r = &u->rows[u->n_rows++];
	memset(r, 0, sizeof(*r));
	r->id = d->id;
	r->undone_at = d->undone_at;
	r->registry = xstrdup(d->registry);
	r->repository = xstrdup(d->repository);
	r->digest = xstrdup(d->digest);
	r->tags = xcalloc(d->n_tags + 1, sizeof(*r->tags));
	for (size_t i = 0; i < d->n_tags; i++)
		r->tags[r->n_tags++] = xstrdup(d->tags[i]);
	return 0;
}

static void rows_release(struct undo *u)
{
	for (size_t k = 0; k < u->n_rows; k++) {
		free(u->rows[k].registry);
		free(u->rows[k].repository);
		free(u->rows[k].digest);
		for (size_t i = 0; i < u->rows[k].n_tags; i++)
			free(u->rows[k].tags[i]);
		free(u->rows[k].tags);
	}
	free(u->rows);
}

/* Every tag of the deleted image, the image itself pushed once. */
static int bring_back(struct undo *u, const struct row *d, struct restore_report *rep)
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

/* 1 when an index of the same repository that this run brought back (or,
 * in a dry run, would bring back) lists digest as a child. */
static int listed_by_restored_index(struct undo *u, size_t k)
{
	const struct row *d = &u->rows[k];

	for (size_t j = 0; j < u->n_rows; j++) {
		const struct row *p = &u->rows[j];
		struct oci_manifest *m = NULL;
		int listed = 0;

		if (j == k || p->deferred || u->out->items[j].rc != 0 ||
		    strcmp(p->registry, d->registry) || strcmp(p->repository, d->repository) ||
		    catalog_manifest_get(u->cat, p->digest, &m) != 0)
			continue;
		for (size_t i = 0; m->kind == OCI_KIND_INDEX && i < m->n_manifests; i++)
			listed |= strcmp(m->manifests[i].digest, d->digest) == 0;
		oci_manifest_free(m);
		if (listed)
			return 1;
	}
	return 0;
}

/* A deferred row (no copy, no tags): back when the registry has it now.
 * In a dry run nothing came back yet: an index of the run listing it
 * stands for it. */
static int settle_child(struct undo *u, size_t k)
{
	const struct row *d = &u->rows[k];
	struct target t = { 0 };
	struct oci_manifest_info info;
	int rc;

	if (u->xo->plan_only)
		return listed_by_restored_index(u, k) ? 0 : -1;
	if ((rc = restore_target_open(&t, u->session, d->registry, d->repository)) == 0)
		rc = oci_store_manifest_head(t.store, t.repo, d->digest, &info);
	restore_target_close(&t);
	return rc;
}

static void item_done(struct undo *u, size_t k, int rc)
{
	struct restore_undo_item *it = &u->out->items[k];

	if (rc == 0 && !u->xo->plan_only)
		rc = catalog_deletion_undone(u->cat, u->rows[k].id, time_now());
	it->rc = rc;
	free(it->msg);
	it->msg = NULL;
	if (rc < 0) {
		it->msg = xstrdup(error_msg());
		u->out->failed++;
	} else {
		u->out->restored++;
	}
}

static void undo_one(struct undo *u, size_t k)
{
	const struct row *d = &u->rows[k];
	struct restore_undo_item *it = &u->out->items[k];
	struct restore_report rep = { 0 };
	int rc;

	it->ref = xasprintf("%s/%s@%s", d->registry, d->repository, d->digest);
	it->tags = xcalloc(d->n_tags + 1, sizeof(*it->tags));
	for (size_t i = 0; i < d->n_tags; i++)
		it->tags[it->n_tags++] = xstrdup(d->tags[i]);
	if (d->undone_at) {   /* an earlier undo got this one already */
		u->out->restored++;
		return;
	}
	rc = bring_back(u, d, &rep);
	restore_report_release(&rep);
	if (rc == RV_ENOTFOUND && d->n_tags == 0) {
		u->rows[k].deferred = 1;   /* an index's child, most likely: below */
		it->rc = rc;
		it->msg = xstrdup(error_msg());
		return;
	}
	item_done(u, k, rc);   /* one failure must not stop the others */
}

int restore_undo_run(catalog *cat, registry_session *session, int64_t run_id,
                     const struct xfer_options *xo, struct restore_undo_report *out)
{
	struct undo u = { cat, session, xo, out, NULL, 0 };
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
	if ((rc = catalog_deletions(cat, run_id, collect, &u)) < 0) {
		rows_release(&u);
		return rc;
	}
	out->items = xcalloc(u.n_rows + 1, sizeof(*out->items));
	out->n_items = u.n_rows;
	for (size_t k = 0; k < u.n_rows; k++)
		undo_one(&u, k);
	for (size_t k = 0; k < u.n_rows; k++) {
		if (!u.rows[k].deferred)
			continue;
		if (settle_child(&u, k) == 0) {
			item_done(&u, k, 0);
		} else {   /* the first error said why: no store holds a copy */
			error_set(RV_ENOTFOUND, "%s", out->items[k].msg);
			item_done(&u, k, RV_ENOTFOUND);
		}
	}
	rows_release(&u);
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
