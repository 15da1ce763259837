/*
 * walk.c — read what the registry holds now: repositories, tags, the
 * untagged manifests the catalog remembers, index children, manifests.
 *
 * The same reading as the prune planner's (prune/plan.c): tags resolved
 * with concurrent HEADs (they move), manifests from the catalog when it
 * has them (immutable), so a second run costs one tags/list per
 * repository and one HEAD per tag.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "usage/internal.h"
#include "util/error.h"
#include "util/log.h"
#include "xfer/xfer.h"
#include "util/banned.h"

/* --- Nodes, found by repository and digest ---------------------------------- */

static uint64_t hash_key(size_t repo, const char *digest)
{
	uint64_t h = 1469598103934665603ull ^ (uint64_t)repo;   /* FNV-1a */

	for (const char *p = digest; *p; p++)
		h = (h ^ (unsigned char)*p) * 1099511628211ull;
	return h;
}

static size_t *slot(struct walk *w, size_t repo, const char *digest)
{
	size_t i = (size_t)hash_key(repo, digest) & (w->n_buckets - 1);

	while (w->buckets[i]) {
		const struct node *nd = &w->nodes[w->buckets[i] - 1];
		if (nd->repo == repo && strcmp(nd->digest, digest) == 0)
			break;
		i = (i + 1) & (w->n_buckets - 1);
	}
	return &w->buckets[i];
}

static void rehash(struct walk *w)
{
	free(w->buckets);
	w->n_buckets = w->n_buckets ? w->n_buckets * 2 : 256;
	w->buckets = xcalloc(w->n_buckets, sizeof(*w->buckets));
	for (size_t k = 0; k < w->n; k++)
		*slot(w, w->nodes[k].repo, w->nodes[k].digest) = k + 1;
}

static struct node *find(struct walk *w, size_t repo, const char *digest)
{
	if (!w->n_buckets)
		return NULL;
	size_t k = *slot(w, repo, digest);
	return k ? &w->nodes[k - 1] : NULL;
}

static struct node *add(struct walk *w, size_t repo, const char *digest, int *added)
{
	struct node *nd = find(w, repo, digest);

	*added = !nd;
	if (nd)
		return nd;
	w->nodes = xgrow(w->nodes, sizeof(*w->nodes), w->n + 1, &w->alloc);
	nd = &w->nodes[w->n++];
	memset(nd, 0, sizeof(*nd));
	nd->repo = repo;
	snprintf(nd->digest, sizeof(nd->digest), "%s", digest);
	if (2 * w->n > w->n_buckets)
		rehash(w);
	else
		*slot(w, repo, digest) = w->n;
	return nd;
}

/* The index of a repository; one the listing lacked (a plan's, when the
 * repository went away since) is appended. */
static size_t repo_index(struct walk *w, const char *name)
{
	size_t lo = 0, hi = w->n_listed;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(w->repos.v[mid], name);
		if (c == 0)
			return mid;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (size_t i = w->n_listed; i < w->repos.n; i++)
		if (strcmp(w->repos.v[i], name) == 0)
			return i;
	strlist_add(&w->repos, name);
	w->tags = xrealloc(w->tags, w->repos.n * sizeof(*w->tags));
	w->tags[w->repos.n - 1] = 0;
	return w->repos.n - 1;
}

static void found_add(struct xfer_found **v, size_t *n, size_t *alloc, const char *repo,
                      const char *ref)
{
	*v = xgrow(*v, sizeof(**v), *n + 1, alloc);
	memset(&(*v)[*n], 0, sizeof(**v));
	(*v)[*n].repo = xstrdup(repo);
	(*v)[(*n)++].ref = xstrdup(ref);
}

/* --- Reading ------------------------------------------------------------------ */

static int list_repositories(struct walk *w)
{
	int rc = oci_store_repositories(w->reg, &w->repos);

	if (rc < 0)
		return rc;
	strlist_sort(&w->repos);
	w->n_listed = w->repos.n;
	w->tags = xcalloc(w->repos.n + 1, sizeof(*w->tags));
	return 0;
}

/* Every tag, resolved. A repository without a tag list (distribution
 * answers NAME_UNKNOWN for one whose tags are all gone) has none; a tag
 * that vanished between listing and resolving is gone. */
static int load_tags(struct walk *w)
{
	struct xfer_found *f = NULL;
	size_t n = 0, alloc = 0;
	int rc = 0, added;

	for (size_t i = 0; rc == 0 && i < w->n_listed; i++) {
		struct strlist tags = STRLIST_INIT;
		rc = oci_store_tags(w->reg, w->repos.v[i], &tags);
		if (rc == RV_ENOTFOUND) {
			error_clear();
			rc = 0;
		}
		for (size_t t = 0; rc == 0 && t < tags.n; t++)
			found_add(&f, &n, &alloc, w->repos.v[i], tags.v[t]);
		strlist_release(&tags);
	}
	if (rc == 0 && n)
		rc = xfer_resolve(w->reg, f, n, w->o->jobs);
	for (size_t i = 0; rc == 0 && i < n; i++) {
		if (f[i].rc == RV_ENOTFOUND)
			continue;
		if (f[i].rc < 0) {
			rc = error_set(f[i].rc, "%s", f[i].msg ? f[i].msg : "cannot resolve a tag");
			break;
		}
		size_t r = repo_index(w, f[i].repo);
		add(w, r, f[i].digest, &added)->tagged = 1;
		w->tags[r]++;
	}
	xfer_found_free(f, n);
	return rc;
}

/* Untagged manifests cannot be listed; the catalog remembers those
 * regvault saw. The ones still there count. */
static int load_remembered(struct walk *w)
{
	struct xfer_found *f = NULL;
	size_t n = 0, alloc = 0;
	int rc = 0, added;

	for (size_t i = 0; w->o->cat && rc == 0 && i < w->n_listed; i++) {
		struct strlist seen = STRLIST_INIT;
		rc = catalog_known_digests(w->o->cat, w->o->registry, w->repos.v[i], &seen);
		for (size_t k = 0; rc == 0 && k < seen.n; k++)
			if (!find(w, i, seen.v[k]))
				found_add(&f, &n, &alloc, w->repos.v[i], seen.v[k]);
		strlist_release(&seen);
	}
	if (rc == 0 && n)
		rc = xfer_present(w->reg, f, n, w->o->jobs);
	for (size_t i = 0; rc == 0 && i < n; i++) {
		if (f[i].rc == 0)
			add(w, repo_index(w, f[i].repo), f[i].ref, &added);
		else if (f[i].rc != RV_ENOTFOUND)
			rc = error_set(f[i].rc, "%s", f[i].msg ? f[i].msg : "cannot ask for a manifest");
	}
	xfer_found_free(f, n);
	return rc;
}

/* A plan's manifests were there when it was made (it found some the
 * registry cannot list: deployed digests, for one). */
static void load_plan(struct walk *w)
{
	int added;

	for (size_t i = 0; i < w->o->n_plan; i++) {
		const struct usage_plan_item *it = &w->o->plan[i];
		struct node *nd = add(w, repo_index(w, it->repository), it->digest, &added);
		nd->deleted = it->deleted;
	}
}

/* The manifest from the catalog, else from the registry (then cached,
 * with its created time, as the planner records it: a later plan reads
 * it from there). 0 with nd->m NULL when it has gone. */
static int load_manifest(struct walk *w, size_t k)
{
	struct node *nd = &w->nodes[k];
	const char *repo = w->repos.v[nd->repo];
	struct oci_manifest *m = NULL;
	int rc = w->o->cat ? catalog_manifest_get(w->o->cat, nd->digest, &m) : RV_ENOTFOUND;

	if (rc == RV_ENOTFOUND) {
		error_clear();
		rc = oci_store_manifest_get(w->reg, repo, nd->digest, &m);
		if (rc == RV_ENOTFOUND) {
			error_clear();
			w->vanished++;
			return 0;
		}
		if (rc == 0 && w->o->cache &&
		    catalog_manifest_put(w->o->cat, w->o->registry, repo, m,
		                         xfer_created(w->reg, repo, m, NULL, NULL)) < 0) {
			log_debug("not cached: %s", error_msg());
			error_clear();
		}
	}
	if (rc < 0) {
		oci_manifest_free(m);
		return error_wrap(rc, "%s/%s@%s", w->o->registry, repo, nd->digest);
	}
	nd->m = m;
	/* Children are nodes of their own (w->nodes may move: no nd after). */
	size_t r = nd->repo;
	int added;
	for (size_t i = 0; m->kind == OCI_KIND_INDEX && i < m->n_manifests; i++)
		add(w, r, m->manifests[i].digest, &added)->child = 1;
	return 0;
}

static int load_manifests(struct walk *w)
{
	int rc = 0, begun = 0;

	/* One transaction for everything cached: one commit, not one per
	 * manifest. */
	if (w->o->cache)
		begun = (rc = catalog_begin(w->o->cat)) == 0;
	for (size_t k = 0; rc == 0 && k < w->n; k++)   /* n grows with children */
		rc = load_manifest(w, k);
	if (begun && rc == 0)
		rc = catalog_commit(w->o->cat);
	else if (begun)
		catalog_rollback(w->o->cat);
	return rc;
}

int usage_walk(struct walk *w)
{
	int rc = registry_store_open(&w->reg, w->o->session, w->o->registry);

	if (rc == 0)
		rc = list_repositories(w);
	if (rc == 0)
		rc = load_tags(w);
	if (rc == 0)
		rc = load_remembered(w);
	if (rc == 0)
		load_plan(w);
	if (rc == 0)
		rc = load_manifests(w);
	return rc;
}

void usage_walk_release(struct walk *w)
{
	for (size_t k = 0; k < w->n; k++)
		oci_manifest_free(w->nodes[k].m);
	free(w->nodes);
	free(w->buckets);
	free(w->tags);
	strlist_release(&w->repos);
	oci_store_close(w->reg);
	memset(w, 0, sizeof(*w));
}
