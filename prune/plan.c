/*
 * plan.c — read the primary into the model, decide, summarise.
 *
 * Reading is cheap on a second run: tags are resolved with concurrent HEADs
 * (they move), but manifests come from the catalog when it has them (they
 * never change under a digest), so a warm plan of thousands of tags costs
 * one tags/list per repository and one HEAD per tag.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "oci/reference.h"
#include "prune/internal.h"
#include "util/error.h"
#include "util/log.h"
#include "util/str.h"
#include "util/timeutil.h"
#include "util/banned.h"

/* --- Reading the primary ------------------------------------------------------ */

/* The repositories in scope. A glob that matches none is said (a typo
 * there quietly prunes nothing of what was meant) but is no error: the
 * plan is only smaller, never wider. */
static int list_scope(struct model *md, struct strlist *out)
{
	struct strlist all = STRLIST_INIT;
	int rc = oci_store_repositories(md->reg, &all);

	for (size_t i = 0; rc == 0 && i < all.n; i++)
		if (keep_in_scope(md->p, all.v[i]))
			strlist_add(out, all.v[i]);
	for (size_t g = 0; rc == 0 && g < md->p->n_repositories; g++) {
		size_t i = 0;
		while (i < out->n && !str_glob_match(md->p->repositories[g], out->v[i]))
			i++;
		if (i == out->n)
			log_warn("repositories: \"%s\" matches no repository of %s",
			         md->p->repositories[g], md->p->registry);
	}
	strlist_release(&all);
	return rc;
}

/* Every tag of every repository in scope, resolved. A tag that vanished
 * between listing and resolving is gone, not an error; anything else is. */
static int load_tags(struct model *md, const struct strlist *repos)
{
	struct xfer_found *f = NULL;
	size_t n = 0, alloc = 0;
	int rc = 0;

	for (size_t i = 0; rc == 0 && i < repos->n; i++) {
		struct strlist tags = STRLIST_INIT;
		rc = oci_store_tags(md->reg, repos->v[i], &tags);
		for (size_t t = 0; rc == 0 && t < tags.n; t++)
			found_add(&f, &n, &alloc, repos->v[i], tags.v[t]);
		strlist_release(&tags);
	}
	if (rc == 0)
		xfer_resolve(md->reg, f, n, md->o->xfer.jobs);
	/* One transaction for the whole tag history: one commit (fsync), not
	 * one per tag — 5,000 tags took seconds of commits alone. */
	int begun = rc == 0 && (rc = catalog_begin(md->o->cat)) == 0;
	for (size_t i = 0; rc == 0 && i < n; i++) {
		if (f[i].rc == RV_ENOTFOUND)
			continue;
		if (f[i].rc < 0) {
			rc = error_set(f[i].rc, "%s", f[i].msg);
			break;
		}
		struct node *nd = model_add(md, f[i].repo, f[i].digest);
		strlist_add(&nd->tags, f[i].ref);
		nd->top = 1;
		rc = catalog_tag_seen(md->o->cat, md->p->registry, f[i].repo, f[i].ref, f[i].digest,
		                      md->now, 0);
	}
	if (begun && rc == 0)
		rc = catalog_commit(md->o->cat);
	else if (begun)
		catalog_rollback(md->o->cat);
	xfer_found_free(f, n);
	return rc;
}

/* Registries like distribution cannot list manifests no tag names: the
 * catalog's tag history can, and deployed digest references name some.
 * Those still there are untagged images in scope; an untagged manifest
 * regvault never saw under a tag stays invisible, and so is never deleted. */
static int load_untagged(struct model *md, const struct strlist *repos)
{
	struct xfer_found *f = NULL;
	size_t n = 0, alloc = 0;
	int rc = 0;

	for (size_t i = 0; rc == 0 && i < repos->n; i++) {
		struct strlist seen = STRLIST_INIT;
		rc = catalog_known_digests(md->o->cat, md->p->registry, repos->v[i], &seen);
		keep_deployed_digests(md, repos->v[i], &seen);
		strlist_sort(&seen);
		for (size_t k = 0; rc == 0 && k < seen.n; k++)
			if ((k == 0 || strcmp(seen.v[k], seen.v[k - 1]) != 0) &&
			    !model_find(md, repos->v[i], seen.v[k]))
				found_add(&f, &n, &alloc, repos->v[i], seen.v[k]);
		strlist_release(&seen);
	}
	/* Many HEADs at once: a long tag history must not cost a round trip
	 * per digest, one after another. */
	if (rc == 0 && n)
		rc = xfer_present(md->reg, f, n, md->o->xfer.jobs);
	for (size_t i = 0; rc == 0 && i < n; i++) {
		if (f[i].rc == 0)
			model_add(md, f[i].repo, f[i].ref)->top = 1;
		else if (f[i].rc != RV_ENOTFOUND)
			rc = error_set(f[i].rc, "%s", f[i].msg);
	}
	xfer_found_free(f, n);
	return rc;
}

/* Images of the primary that deployed sources name in repositories out of
 * scope. They are never pruned, but what they were built FROM may be in
 * scope (a deployed svc/app on lib/base:1.0, a policy pruning only the lib repositories):
 * they join the model as outside nodes, so the closure protects their base
 * images, and the plan leaves them out. One that is gone protects nothing
 * (keep_deployed warns); one that cannot be read stops the plan. */
static int load_outside(struct model *md)
{
	struct xfer_found *f = NULL;
	size_t n = 0, alloc = 0;
	int rc = 0;

	for (size_t i = 0; i < md->deployed.n; i++) {
		const struct deployed_ref *d = &md->deployed.refs[i];
		const char *ref = d->ref.digest ? d->ref.digest : d->ref.tag;
		if (d->ref.repository && ref && keep_on_primary(md, d->ref.registry) &&
		    !keep_in_scope(md->p, d->ref.repository))
			found_add(&f, &n, &alloc, d->ref.repository, ref);
	}
	if (n)
		rc = xfer_present(md->reg, f, n, md->o->xfer.jobs);
	for (size_t i = 0; rc == 0 && i < n; i++) {
		struct node *nd;
		if (f[i].rc == RV_ENOTFOUND)
			continue;
		if (f[i].rc < 0) {
			rc = error_set(f[i].rc, "%s", f[i].msg);
			break;
		}
		nd = model_add(md, f[i].repo, f[i].digest);
		nd->outside = 1;
		if (strcmp(f[i].ref, f[i].digest) != 0 && !strlist_contains(&nd->tags, f[i].ref))
			strlist_add(&nd->tags, f[i].ref);
	}
	xfer_found_free(f, n);
	return rc;
}

/* The manifest from the catalog when it has it, else from the registry
 * (then recorded: next time it is free). */
static int load_manifest(struct model *md, size_t k)
{
	struct node *nd = &md->nodes[k];
	struct oci_manifest *m = NULL;
	int rc = catalog_manifest_get(md->o->cat, nd->digest, &m);

	if (rc == RV_ENOTFOUND) {
		error_clear();
		rc = oci_store_manifest_get(md->reg, nd->repo, nd->digest, &m);
		if (rc == 0)
			rc = catalog_manifest_put(md->o->cat, md->p->registry, nd->repo, m,
			                          xfer_created(md->reg, nd->repo, m, NULL, NULL));
	}
	if (rc < 0) {
		oci_manifest_free(m);
		return error_wrap(rc, "%s/%s@%s", md->p->registry, nd->repo, nd->digest);
	}
	catalog_manifest_times(md->o->cat, m->digest, &nd->created, &nd->first_seen);
	nd->m = m;
	if (m->subject)
		nd->subject = xstrdup(m->subject->digest);
	/* Children become nodes of their own (md->nodes may move: no nd after). */
	char *repo = xstrdup(nd->repo);
	int outside = nd->outside;
	for (size_t i = 0; m->kind == OCI_KIND_INDEX && i < m->n_manifests; i++) {
		struct node *c = model_add(md, repo, m->manifests[i].digest);
		c->listed_child = 1;
		c->outside = outside;
	}
	free(repo);
	return 0;
}

/* "sha256-<hex>[.sig|.att|.sbom]" names its subject "sha256:<hex>". */
static void attachment_subject(struct node *nd)
{
	int only_attachments = nd->tags.n > 0;

	for (size_t i = 0; i < nd->tags.n; i++)
		only_attachments &= oci_ref_is_attachment_tag(nd->tags.v[i]);
	if (!only_attachments)
		return;
	nd->attachment = 1;
	const char *t = nd->tags.v[0], *dash = strchr(t, '-');
	char subject[OCI_DIGEST_MAX];
	snprintf(subject, sizeof(subject), "%.*s:%.*s", (int)(dash - t), t,
	         (int)strcspn(dash + 1, "."), dash + 1);
	if (!nd->subject && oci_digest_validate(subject) == 0)
		nd->subject = xstrdup(subject);
	error_clear();
}

static int load(struct model *md)
{
	struct strlist repos = STRLIST_INIT;
	int rc = list_scope(md, &repos);

	if (rc == 0)
		rc = load_tags(md, &repos);
	if (rc == 0)
		rc = load_untagged(md, &repos);
	if (rc == 0)
		rc = load_outside(md);
	for (size_t k = 0; rc == 0 && k < md->n; k++)   /* n grows with children */
		rc = load_manifest(md, k);
	for (size_t k = 0; rc == 0 && k < md->n; k++) {
		struct node *nd = &md->nodes[k];
		strlist_sort(&nd->tags);
		attachment_subject(nd);
		/* An index's time is its newest child's (ARCHITECTURE.md "Created"). */
		for (size_t i = 0; !nd->created && nd->m->kind == OCI_KIND_INDEX && i < nd->m->n_manifests;
		     i++) {
			struct node *c = model_find(md, nd->repo, nd->m->manifests[i].digest);
			if (c && c->created > nd->created && c->created >= CREATED_PLAUSIBLE)
				nd->created = c->created;
		}
	}
	/* A missing, 1970 or 0001-01-01 (cosign) time: a signature or
	 * referrer is as old as what it is about; anything else dates from
	 * when regvault first saw the digest. */
	for (int pass = 0; pass < 2; pass++)
		for (size_t k = 0; rc == 0 && k < md->n; k++) {
			struct node *nd = &md->nodes[k], *s;
			if (nd->created >= CREATED_PLAUSIBLE || !nd->subject != !pass)
				continue;
			s = nd->subject ? model_find(md, nd->repo, nd->subject) : NULL;
			nd->created = s && s->created >= CREATED_PLAUSIBLE ? s->created
			              : nd->first_seen ? nd->first_seen : md->now;
		}
	strlist_release(&repos);
	return rc;
}

/* --- Deciding ----------------------------------------------------------------------- */

/* A node nothing keeps goes. Children and attachments go with what they
 * belong to: they are never candidates of their own. */
static void decide(struct model *md)
{
	for (size_t k = 0; k < md->n; k++) {
		struct node *nd = &md->nodes[k];
		if (nd->why != WHY_NONE || nd->outside)
			continue;
		nd->deleted = 1;
		/* An untagged child goes with its index, even when the catalog also
		 * remembers it in the repository (nd->top): the untagged rule never
		 * applies to children, so it cannot be the reason. */
		if (nd->listed_child && nd->tags.n == 0)
			keep_mark(nd, WHY_NONE, "child of a deleted index");
		else if (nd->attachment || nd->subject) {
			struct node *s = nd->subject ? model_find(md, nd->repo, nd->subject) : NULL;
			if (s && s->tags.n)
				keep_mark(nd, WHY_NONE, "%s of deleted %s:%s",
				          nd->attachment ? "attachment" : "referrer", s->repo, s->tags.v[0]);
			else
				keep_mark(nd, WHY_NONE, "%s of deleted %s", nd->attachment ? "attachment"
				          : "referrer", nd->subject ? nd->subject : "an unknown image");
		}
		else if (nd->tags.n == 0)
			keep_mark(nd, WHY_NONE, "untagged (untagged: delete)");
		else
			keep_mark(nd, WHY_NONE, "no keep rule matches");
	}
}

static int64_t node_size(const struct model *md, const struct node *nd)
{
	int64_t s = (int64_t)nd->m->raw_len;

	if (nd->m->kind == OCI_KIND_IMAGE) {
		s += nd->m->config.size;
		for (size_t i = 0; i < nd->m->n_layers; i++)
			s += nd->m->layers[i].size;
	}
	for (size_t i = 0; nd->m->kind == OCI_KIND_INDEX && i < nd->m->n_manifests; i++) {
		const struct node *c = model_find((struct model *)md, nd->repo, nd->m->manifests[i].digest);
		if (c && c->m)
			s += node_size(md, c);
	}
	return s;
}

/* Bytes of blobs deleted images use and no kept image in scope does
 * (distribution stores each blob once per registry). An upper bound:
 * repositories outside the scope are never read (prune.h). */
static int64_t reclaimable(const struct model *md)
{
	struct strlist kept = STRLIST_INIT, gone = STRLIST_INIT;
	int64_t bytes = 0;

	for (size_t k = 0; k < md->n; k++) {
		const struct node *nd = &md->nodes[k];
		struct strlist *to = nd->deleted ? &gone : &kept;
		if (nd->m->kind != OCI_KIND_IMAGE)
			continue;
		strlist_add_owned(to, xasprintf("%s %lld", nd->m->config.digest,
		                                (long long)nd->m->config.size));
		for (size_t i = 0; i < nd->m->n_layers; i++)
			strlist_add_owned(to, xasprintf("%s %lld", nd->m->layers[i].digest,
			                                (long long)nd->m->layers[i].size));
	}
	strlist_sort(&gone);
	strlist_sort(&kept);
	/* Both sorted: one merge walk, not a search per blob. */
	for (size_t i = 0, j = 0; i < gone.n; i++) {
		if (i && strcmp(gone.v[i], gone.v[i - 1]) == 0)
			continue;
		while (j < kept.n && strcmp(kept.v[j], gone.v[i]) < 0)
			j++;
		if (j < kept.n && strcmp(kept.v[j], gone.v[i]) == 0)
			continue;
		long long size = 0;
		sscanf(strchr(gone.v[i], ' ') + 1, "%lld", &size);
		bytes += size;
	}
	strlist_release(&kept);
	strlist_release(&gone);
	return bytes;
}

static void to_plan(const struct model *md, struct prune_plan *out)
{
	out->images = xcalloc(md->n + 1, sizeof(*out->images));
	for (size_t k = 0; k < md->n; k++) {
		const struct node *nd = &md->nodes[k];
		if (nd->outside)
			continue;   /* out of scope: its blobs count as kept, no more */
		struct prune_image *im = &out->images[out->n_images++];
		im->repository = xstrdup(nd->repo);
		memcpy(im->digest, nd->digest, sizeof(im->digest));
		im->tags = xcalloc(nd->tags.n + 1, sizeof(*im->tags));
		for (size_t i = 0; i < nd->tags.n; i++)
			im->tags[im->n_tags++] = xstrdup(nd->tags.v[i]);
		im->media_type = xstrdup(nd->m->media_type);
		im->created = nd->created;
		im->size = node_size(md, nd);
		im->decision = nd->deleted ? PRUNE_DELETE : PRUNE_KEEP;
		im->keep = nd->why == WHY_PROTECTED ? PRUNE_PROTECTED : PRUNE_BY_RULE;
		/* Top level: tagged (signature tags too), or untagged and no
		 * index's child — what max_delete and the summary count. */
		im->top = nd->tags.n > 0 || (nd->top && !nd->listed_child);
		im->reasons = xcalloc(nd->reasons.n + 1, sizeof(*im->reasons));
		for (size_t i = 0; i < nd->reasons.n; i++)
			im->reasons[im->n_reasons++] = xstrdup(nd->reasons.v[i]);
		if (!im->top)
			continue;
		out->in_scope++;
		out->deleted += nd->deleted;
		out->protected_ += !nd->deleted && nd->why == WHY_PROTECTED;
		out->kept += !nd->deleted && nd->why == WHY_RULE;
	}
}

static void summarise(const struct model *md, struct prune_plan *out)
{
	to_plan(md, out);
	out->reclaimable = reclaimable(md);
	out->max_delete = policy_max_delete(md->p, out->in_scope);
	if (out->deleted > out->max_delete) {
		out->refused = 1;
		out->refusal = xasprintf("the plan deletes %zu of %zu images in scope; max_delete "
		                         "allows %zu (%zu too many)", out->deleted, out->in_scope,
		                         out->max_delete, out->deleted - out->max_delete);
	}
}

int prune_plan(const struct prune_options *o, struct prune_plan *out)
{
	struct model md = { 0 };
	int rc;

	memset(out, 0, sizeof(*out));
	md.o = o;
	md.p = o->policy;
	md.now = o->now ? o->now : time_now();
	out->registry = xstrdup(md.p->registry);
	out->policy = xstrdup_or_null(md.p->path);
	out->planned_at = md.now;
	/* Deployed state first: a source that fails stops the plan before a
	 * single request goes to the registry. */
	if ((rc = registry_store_open(&md.reg, o->session, md.p->registry)) < 0 ||
	    (rc = keep_deployed_read(&md)) < 0 || (rc = load(&md)) < 0)
		goto done;
	if ((rc = keep_deployed(&md)) < 0)
		goto done;
	keep_rules(&md);
	keep_closure(&md);
	decide(&md);
	summarise(&md, out);
done:
	keep_deployed_release(&md);
	model_release(&md);
	return rc;
}

void prune_plan_release(struct prune_plan *p)
{
	for (size_t i = 0; i < p->n_images; i++) {
		struct prune_image *im = &p->images[i];
		free(im->repository);
		for (size_t t = 0; t < im->n_tags; t++)
			free(im->tags[t]);
		free(im->tags);
		free(im->media_type);
		for (size_t r = 0; r < im->n_reasons; r++)
			free(im->reasons[r]);
		free(im->reasons);
	}
	free(p->images);
	free(p->registry);
	free(p->policy);
	free(p->refusal);
	memset(p, 0, sizeof(*p));
}

static const struct prune_image *find_image(const struct prune_plan *p, const char *repo,
                                            const char *digest)
{
	for (size_t i = 0; i < p->n_images; i++)
		if (strcmp(p->images[i].digest, digest) == 0 &&
		    strcmp(p->images[i].repository, repo) == 0)
			return &p->images[i];
	return NULL;
}

static int same_tags(const struct prune_image *a, const struct prune_image *b)
{
	if (a->n_tags != b->n_tags)
		return 0;
	for (size_t i = 0; i < a->n_tags; i++)   /* both sorted */
		if (strcmp(a->tags[i], b->tags[i]) != 0)
			return 0;
	return 1;
}

int prune_plan_check(const struct prune_plan *saved, const struct prune_plan *fresh)
{
	if (strcmp(saved->registry, fresh->registry) != 0)
		return error_set(RV_EINVALID, "the plan is for %s, the policy for %s", saved->registry,
		                 fresh->registry);
	for (size_t i = 0; i < saved->n_images; i++) {
		const struct prune_image *s = &saved->images[i], *f;
		if (s->decision != PRUNE_DELETE)
			continue;
		f = find_image(fresh, s->repository, s->digest);
		if (!f)
			continue;   /* gone already: nothing left to delete, nothing to lose */
		if (f->decision != PRUNE_DELETE)
			return error_set(RV_EDENIED, "the plan is stale: %s/%s@%s is kept now (%s); "
			                 "make a new plan", saved->registry, s->repository, s->digest,
			                 f->n_reasons ? f->reasons[0] : "a keep rule");
		if (!same_tags(s, f))
			return error_set(RV_EDENIED, "the plan is stale: the tags of %s/%s@%s changed "
			                 "since it was made; make a new plan", saved->registry,
			                 s->repository, s->digest);
	}
	return 0;
}

int prune_image_order(const void *a, const void *b)
{
	const struct prune_image *x = *(const struct prune_image *const *)a;
	const struct prune_image *y = *(const struct prune_image *const *)b;
	int c = strcmp(x->repository, y->repository);

	if (c)
		return c;
	if (x->created != y->created)
		return x->created > y->created ? -1 : 1;
	return strcmp(x->digest, y->digest);
}
