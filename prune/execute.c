/*
 * execute.c — keep safe, then delete only what has a verified copy.
 *
 * The order is the safety argument (ARCHITECTURE.md invariants 1, 3, 4, 6):
 *
 *   1. a refused plan, or one whose images became deployed or whose tags
 *      moved since it was made, stops the run before anything is touched;
 *   2. every image to delete, and every protected image, goes to each
 *      safekeeping target (safekeep/: copy, read back, record — what is
 *      already verified there is skipped);
 *   3. per repository, tags are listed and resolved again; per image, its
 *      tags are asked once more right before the DELETE; an image is
 *      deleted only when the catalog names a verified copy of it, its tags
 *      are exactly the plan's, and each still points to it;
 *   4. each DELETE is journaled before it is sent and confirmed after, so
 *      `restore --run` undoes the run and a crash at any point leaves every
 *      deleted image with a journal row and a verified copy.
 *
 * Children of a deleted index (and artifacts a deleted fallback index
 * lists) are deleted after their parent, under the parent's copy.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "oci/reference.h"
#include "prune/internal.h"
#include "safekeep/safekeep.h"
#include "util/error.h"
#include "util/log.h"
#include "util/str.h"
#include "util/timeutil.h"
#include "util/banned.h"

struct exec {
	const struct prune_options *o;
	const struct policy *p;
	const struct prune_plan *plan;
	struct prune_report *out;
	struct oci_store *reg;
	int64_t run_id;
	size_t alloc;
};

static int has_tag(const struct prune_image *im, const char *tag)
{
	for (size_t i = 0; i < im->n_tags; i++)
		if (strcmp(im->tags[i], tag) == 0)
			return 1;
	return 0;
}

/* The repositories of the images the plan deletes (top-level only, or
 * only those with tags). */
static void deleting_repos(const struct prune_plan *p, int tagged_only, struct strlist *out)
{
	for (size_t i = 0; i < p->n_images; i++) {
		const struct prune_image *im = &p->images[i];
		if (im->decision == PRUNE_DELETE && im->top && (!tagged_only || im->n_tags) &&
		    !strlist_contains(out, im->repository))
			strlist_add(out, im->repository);
	}
}

/* --- 1. Is the plan still true? ---------------------------------------------------- */

/* An image the plan deletes that a deployed source names now. */
static int stale_deployed(struct exec *x)
{
	struct deployed_set set = DEPLOYED_SET_INIT;
	struct deployed_options o = x->o->deployed;
	int rc = 0;

	if (x->p->deployed_none)
		return 0;
	o.rollback = x->p->rollback;
	if ((rc = deployed_read(&set, x->p->deployed, x->p->n_deployed, &o)) < 0)
		return error_wrap(rc, "what is deployed is unknown, so nothing is deleted");
	for (size_t i = 0; rc == 0 && i < x->plan->n_images; i++) {
		const struct prune_image *im = &x->plan->images[i];
		if (im->decision != PRUNE_DELETE)
			continue;
		for (size_t d = 0; rc == 0 && d < set.n; d++) {
			const struct deployed_ref *r = &set.refs[d];
			if (!r->ref.repository || strcmp(r->ref.registry, x->plan->registry) != 0 ||
			    strcmp(r->ref.repository, im->repository) != 0)
				continue;
			if ((r->ref.digest && strcmp(r->ref.digest, im->digest) == 0) ||
			    (!r->ref.digest && r->ref.tag && has_tag(im, r->ref.tag)))
				rc = error_set(RV_EDENIED, "the plan is stale: it deletes %s/%s@%s, which is "
				               "deployed now (%s); make a new plan",
				               x->plan->registry, im->repository, im->digest, r->where);
		}
	}
	deployed_set_release(&set);
	return rc;
}

/* The tags of repo now: found[i].ref → found[i].digest (rc set when gone). */
static int tags_now(struct exec *x, const char *repo, struct xfer_found **f, size_t *n)
{
	struct strlist tags = STRLIST_INIT;
	size_t alloc = 0;
	int rc = oci_store_tags(x->reg, repo, &tags);

	*f = NULL;
	*n = 0;
	if (rc == RV_ENOTFOUND) {   /* the repository is gone: no tags */
		error_clear();
		rc = 0;
	}
	for (size_t i = 0; rc == 0 && i < tags.n; i++)
		found_add(f, n, &alloc, repo, tags.v[i]);
	strlist_release(&tags);
	if (rc == 0 && *n)
		rc = xfer_resolve(x->reg, *f, *n, x->o->xfer.jobs);
	for (size_t i = 0; rc == 0 && i < *n; i++)
		if ((*f)[i].rc < 0 && (*f)[i].rc != RV_ENOTFOUND)
			rc = error_set((*f)[i].rc, "%s", (*f)[i].msg);
	return rc;
}

/* Why im may not be deleted as the tags stand now, or NULL. */
static char *tags_changed(const struct prune_image *im, const struct xfer_found *f, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (f[i].rc < 0)
			continue;
		int on_it = strcmp(f[i].digest, im->digest) == 0, planned = has_tag(im, f[i].ref);
		if (on_it && !planned)
			return xasprintf("tag %s was added to it since the plan", f[i].ref);
		if (!on_it && planned)
			return xasprintf("tag %s moved to %s since the plan", f[i].ref, f[i].digest);
	}
	for (size_t t = 0; t < im->n_tags; t++) {
		int found = 0;
		for (size_t i = 0; i < n && !found; i++)
			found = f[i].rc == 0 && strcmp(f[i].ref, im->tags[t]) == 0;
		if (!found)
			return xasprintf("tag %s is gone since the plan", im->tags[t]);
	}
	return NULL;
}

typedef int (*image_fn)(struct exec *x, const struct prune_image *im,
                        const struct xfer_found *f, size_t n);

/* For each repository the plan deletes in: its tags as they are now, then
 * fn on each top-level image the plan deletes there (with tags only, when
 * tagged_only). The first failure stops the walk. */
static int each_deleted(struct exec *x, int tagged_only, image_fn fn)
{
	struct strlist repos = STRLIST_INIT;
	int rc = 0;

	deleting_repos(x->plan, tagged_only, &repos);
	for (size_t r = 0; rc == 0 && r < repos.n; r++) {
		struct xfer_found *f;
		size_t n;
		if ((rc = tags_now(x, repos.v[r], &f, &n)) < 0)
			break;
		for (size_t i = 0; rc == 0 && i < x->plan->n_images; i++) {
			const struct prune_image *im = &x->plan->images[i];
			if (im->decision == PRUNE_DELETE && im->top && (!tagged_only || im->n_tags) &&
			    strcmp(im->repository, repos.v[r]) == 0)
				rc = fn(x, im, f, n);
		}
		xfer_found_free(f, n);
	}
	strlist_release(&repos);
	return rc;
}

/* A difference on an image the plan deletes makes the plan stale as a
 * whole (--apply's promise: exactly the saved plan, or nothing). */
static int stale_image(struct exec *x, const struct prune_image *im, const struct xfer_found *f,
                       size_t n)
{
	char *why = tags_changed(im, f, n);
	int rc = 0;

	if (why)
		rc = error_set(RV_EDENIED, "the plan is stale: %s/%s@%s: %s; make a new plan",
		               x->plan->registry, im->repository, im->digest, why);
	free(why);
	return rc;
}

/* --- 2. Keep safe ------------------------------------------------------------------ */

static int wants_copy(const struct prune_image *im)
{
	return im->top && (im->decision == PRUNE_DELETE || im->keep == PRUNE_PROTECTED);
}

static void gather(struct exec *x, struct safekeep_item **v, size_t *n)
{
	size_t alloc = 0;

	for (size_t i = 0; i < x->plan->n_images; i++) {
		const struct prune_image *im = &x->plan->images[i];
		if (!wants_copy(im))
			continue;
		for (size_t t = 0; t < (im->n_tags ? im->n_tags : 1); t++) {
			struct safekeep_item *it = safekeep_add(v, n, &alloc, x->plan->registry,
			                                        im->repository,
			                                        im->n_tags ? im->tags[t] : NULL);
			memcpy(it->digest, im->digest, sizeof(it->digest));
		}
	}
}

static void warn_failed(const char *target, const struct safekeep_item *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (v[i].status == SAFEKEEP_FAILED)
			log_warn("%s: %s/%s%s%s not kept safe: %s", target, v[i].registry, v[i].repo,
			         v[i].tag ? ":" : "@", v[i].tag ? v[i].tag : v[i].digest,
			         v[i].msg ? v[i].msg : "failed");
}

/* Copies to every target. A target that fails as a whole is reported and
 * the images it should have held are then only deleted if the catalog
 * names another verified copy. */
static int keep_safe(struct exec *x)
{
	struct safekeep_options so = { x->o->cat, x->o->session, x->o->xfer, x->run_id, x->o->now };
	const char *targets[2] = { x->p->safekeeping_archive, x->p->safekeeping_registry };
	int rc = 0;

	for (int t = 0; t < 2; t++) {
		struct safekeep_item *v = NULL;
		struct safekeep_volume vol = { 0 };
		size_t n = 0;
		int r;

		if (!targets[t])
			continue;
		gather(x, &v, &n);
		if (!n) {
			safekeep_items_free(v, n);
			break;
		}
		r = t == 0 ? safekeep_archive(&so, targets[t], v, n, &vol)
		           : safekeep_standby(&so, targets[t], v, n);
		if (r < 0 && r != RV_ERROR)
			log_warn("safekeeping in %s failed: %s", targets[t], error_msg());
		warn_failed(targets[t], v, n);
		for (size_t i = 0; i < n; i++) {
			x->out->safekept += v[i].status != SAFEKEEP_FAILED;
			x->out->safekeep_failed += v[i].status == SAFEKEEP_FAILED;
		}
		if (rc == 0)
			rc = safekeep_record_tags(&so, v, n);
		safekeep_volume_release(&vol);
		safekeep_items_free(v, n);
	}
	if (rc == 0)
		error_clear();   /* a target's failure is reported; the deletes decide per image */
	return rc;
}

/* --- 3 and 4. Delete ---------------------------------------------------------------- */

static int count_holder(const struct catalog_holder *h, void *ctx)
{
	(void)h;
	++*(size_t *)ctx;
	return 1;   /* one is enough */
}

static int verified_copy(struct exec *x, const char *digest, size_t *holders)
{
	*holders = 0;
	return catalog_holders(x->o->cat, digest, count_holder, holders);
}

static struct prune_deletion *deletion_add(struct exec *x, const char *repo, const char *digest,
                                           char *const *tags, size_t n_tags)
{
	struct prune_report *r = x->out;
	struct prune_deletion *d;

	r->deletions = xgrow(r->deletions, sizeof(*r->deletions), r->n_deletions + 1, &x->alloc);
	d = &r->deletions[r->n_deletions++];
	memset(d, 0, sizeof(*d));
	d->repository = xstrdup(repo);
	snprintf(d->digest, sizeof(d->digest), "%s", digest);
	d->tags = xcalloc(n_tags + 1, sizeof(*d->tags));
	for (size_t i = 0; i < n_tags; i++)
		d->tags[d->n_tags++] = xstrdup(tags[i]);
	return d;
}

static void skip(struct exec *x, struct prune_deletion *d, int rc, char *why)
{
	d->rc = rc;
	d->why = why;
	x->out->skipped++;
	log_warn("kept %s/%s@%s: %s", x->plan->registry, d->repository, d->digest, why);
	error_clear();
}

/* Journal, DELETE, confirm. A DELETE answered 404 was done by someone else
 * (or by us before a crash): the image is gone either way, and the journal
 * row says so. */
static int delete_one(struct exec *x, struct prune_deletion *d, const char *reason)
{
	int64_t id = 0;
	int rc = catalog_deletion_record(x->o->cat, x->run_id, x->plan->registry, d->repository,
	                                 d->digest, (const char *const *)d->tags, d->n_tags, reason,
	                                 &id);
	if (rc < 0)
		return rc;   /* no journal row, no delete */
	rc = oci_store_manifest_delete(x->reg, d->repository, d->digest);
	if (rc == RV_ENOTFOUND) {
		log_info("%s/%s@%s was already gone", x->plan->registry, d->repository, d->digest);
		rc = 0;
	}
	if (rc < 0) {
		skip(x, d, rc, xasprintf("delete failed: %s", error_msg()));
		return 0;
	}
	if ((rc = catalog_deletion_confirm(x->o->cat, id, time_now())) < 0)
		return rc;
	d->done = 1;
	x->out->deleted++;
	return 0;
}

/* Right before the DELETE: each of the image's tags still names it. */
static char *tags_still(struct exec *x, const struct prune_image *im)
{
	struct xfer_found *f = xcalloc(im->n_tags + 1, sizeof(*f));
	char *why = NULL;

	for (size_t i = 0; i < im->n_tags; i++) {
		f[i].repo = xstrdup(im->repository);
		f[i].ref = xstrdup(im->tags[i]);
	}
	if (im->n_tags && xfer_resolve(x->reg, f, im->n_tags, x->o->xfer.jobs) < 0)
		why = xasprintf("its tags could not be resolved: %s", error_msg());
	for (size_t i = 0; !why && i < im->n_tags; i++) {
		if (f[i].rc < 0)
			why = xasprintf("tag %s could not be resolved: %s", f[i].ref,
			                f[i].msg ? f[i].msg : "gone");
		else if (strcmp(f[i].digest, im->digest) != 0)
			why = xasprintf("tag %s moved to %s", f[i].ref, f[i].digest);
	}
	xfer_found_free(f, im->n_tags);
	return why;
}

static const struct prune_image *planned(const struct prune_plan *p, const char *repo,
                                         const char *digest)
{
	for (size_t i = 0; i < p->n_images; i++)
		if (strcmp(p->images[i].digest, digest) == 0 &&
		    strcmp(p->images[i].repository, repo) == 0)
			return &p->images[i];
	return NULL;
}

/* The deleted index's children the plan deletes too, under its copy --
 * each unless a tag names it now (f: the repository's tags as they are). */
static int delete_children(struct exec *x, const struct prune_image *parent,
                           const struct xfer_found *f, size_t n)
{
	struct oci_manifest *m = NULL;
	int rc;

	if (catalog_manifest_get(x->o->cat, parent->digest, &m) < 0) {
		error_clear();   /* its children stay: garbage collection's business */
		return 0;
	}
	for (size_t i = 0; m->kind == OCI_KIND_INDEX && i < m->n_manifests; i++) {
		const struct prune_image *c = planned(x->plan, parent->repository, m->manifests[i].digest);
		if (!c || c->decision != PRUNE_DELETE || c->top)
			continue;
		struct prune_deletion *d = deletion_add(x, c->repository, c->digest, NULL, 0);
		char *why = tags_changed(c, f, n);   /* a child has no planned tags */
		if (why) {
			skip(x, d, RV_EDENIED, why);
			continue;
		}
		char *reason = xasprintf("child of deleted %s@%s", parent->repository, parent->digest);
		rc = delete_one(x, d, reason);
		free(reason);
		if (rc < 0) {
			oci_manifest_free(m);
			return rc;
		}
	}
	oci_manifest_free(m);
	return 0;
}

static int delete_image(struct exec *x, const struct prune_image *im, const struct xfer_found *f,
                        size_t n)
{
	struct prune_deletion *d = deletion_add(x, im->repository, im->digest, im->tags, im->n_tags);
	size_t holders;
	char *why;
	int rc;

	if ((rc = verified_copy(x, im->digest, &holders)) < 0 && rc != RV_ENOTFOUND)
		return rc;   /* the catalog failed: stop everything */
	if (!holders) {
		skip(x, d, RV_ENOTFOUND, xstrdup("no verified copy in the catalog"));
		return 0;
	}
	if ((why = tags_changed(im, f, n)) || (why = tags_still(x, im))) {
		skip(x, d, RV_EDENIED, why);
		return 0;
	}
	if ((rc = delete_one(x, d, im->n_reasons ? im->reasons[0] : "no keep rule matches")) < 0)
		return rc;
	return d->done ? delete_children(x, im, f, n) : 0;
}

static char *summary_json(const struct prune_report *r)
{
	return xasprintf("{\"deleted\":%zu,\"skipped\":%zu,\"safekept\":%zu,\"safekeepFailed\":%zu}",
	                 r->deleted, r->skipped, r->safekept, r->safekeep_failed);
}

int prune_execute(const struct prune_options *o, const struct prune_plan *plan,
                  struct prune_report *out)
{
	struct exec x = { .o = o, .p = o->policy, .plan = plan, .out = out };
	int rc;

	memset(out, 0, sizeof(*out));
	out->reclaimable = plan->reclaimable;
	if (plan->refused)
		return error_set(RV_EDENIED, "refused: %s", plan->refusal ? plan->refusal : "max_delete");
	if (strcmp(plan->registry, o->policy->registry) != 0)
		return error_set(RV_EINVALID, "the plan is for %s, the policy for %s", plan->registry,
		                 o->policy->registry);
	if ((rc = registry_store_open(&x.reg, o->session, plan->registry)) < 0)
		return rc;
	if ((rc = catalog_run_start(o->cat, "prune", o->args_json, &x.run_id)) < 0)
		goto done;
	out->run_id = x.run_id;
	if ((rc = stale_deployed(&x)) < 0 || (rc = each_deleted(&x, 1, stale_image)) < 0)
		goto done;
	if ((rc = keep_safe(&x)) < 0)
		goto done;
	rc = each_deleted(&x, 0, delete_image);
	if (rc == 0 && out->skipped)
		rc = error_set(RV_ERROR, "%zu of %zu deletions skipped", out->skipped,
		               out->n_deletions);
done:
	if (x.run_id) {
		char *sum = summary_json(out);
		const char *outcome = rc == 0 ? "ok" : out->deleted ? "partial" : "failed";
		int keep_rc = rc;
		catalog_run_finish(o->cat, x.run_id, outcome, sum);
		free(sum);
		rc = keep_rc;
	}
	oci_store_close(x.reg);
	return rc;
}

void prune_report_release(struct prune_report *r)
{
	for (size_t i = 0; i < r->n_deletions; i++) {
		struct prune_deletion *d = &r->deletions[i];
		free(d->repository);
		for (size_t t = 0; t < d->n_tags; t++)
			free(d->tags[t]);
		free(d->tags);
		free(d->why);
	}
	free(r->deletions);
	memset(r, 0, sizeof(*r));
}
