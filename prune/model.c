/*
 * model.c — the planner's nodes, found by repository and digest.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "oci/reference.h"
#include "prune/internal.h"
#include "util/error.h"
#include "util/banned.h"

static uint64_t hash_key(const char *repo, const char *digest)
{
	uint64_t h = 1469598103934665603ull;   /* FNV-1a over "repo@digest" */

	for (const char *p = repo; *p; p++)
		h = (h ^ (unsigned char)*p) * 1099511628211ull;
	h = (h ^ '@') * 1099511628211ull;
	for (const char *p = digest; *p; p++)
		h = (h ^ (unsigned char)*p) * 1099511628211ull;
	return h;
}

static size_t *slot(struct model *md, const char *repo, const char *digest)
{
	size_t i = (size_t)hash_key(repo, digest) & (md->n_buckets - 1);

	while (md->buckets[i]) {
		const struct node *nd = &md->nodes[md->buckets[i] - 1];
		if (strcmp(nd->digest, digest) == 0 && strcmp(nd->repo, repo) == 0)
			break;
		i = (i + 1) & (md->n_buckets - 1);
	}
	return &md->buckets[i];
}

static void rehash(struct model *md)
{
	free(md->buckets);
	md->n_buckets = md->n_buckets ? md->n_buckets * 2 : 256;
	md->buckets = xcalloc(md->n_buckets, sizeof(*md->buckets));
	for (size_t k = 0; k < md->n; k++)
		*slot(md, md->nodes[k].repo, md->nodes[k].digest) = k + 1;
}

struct node *model_find(struct model *md, const char *repo, const char *digest)
{
	if (!md->n_buckets)
		return NULL;
	size_t k = *slot(md, repo, digest);
	return k ? &md->nodes[k - 1] : NULL;
}

struct node *model_add(struct model *md, const char *repo, const char *digest)
{
	struct node *nd = model_find(md, repo, digest);

	if (nd)
		return nd;
	md->nodes = xgrow(md->nodes, sizeof(*md->nodes), md->n + 1, &md->alloc);
	nd = &md->nodes[md->n++];
	memset(nd, 0, sizeof(*nd));
	nd->repo = xstrdup(repo);
	snprintf(nd->digest, sizeof(nd->digest), "%s", digest);
	if (2 * md->n > md->n_buckets)
		rehash(md);
	else
		*slot(md, repo, digest) = md->n;
	return nd;
}

struct node *model_tagged(struct model *md, const char *repo, const char *tag)
{
	/* Tags are few per node and looked up rarely (bases by name, the
	 * deployed): a scan keeps the model simple. */
	for (size_t k = 0; k < md->n; k++)
		if (strcmp(md->nodes[k].repo, repo) == 0 && strlist_contains(&md->nodes[k].tags, tag))
			return &md->nodes[k];
	return NULL;
}

void found_add(struct xfer_found **v, size_t *n, size_t *alloc, const char *repo,
               const char *ref)
{
	*v = xgrow(*v, sizeof(**v), *n + 1, alloc);
	memset(&(*v)[*n], 0, sizeof(**v));
	(*v)[*n].repo = xstrdup(repo);
	(*v)[(*n)++].ref = xstrdup(ref);
}

void keep_mark(struct node *nd, enum why why, const char *fmt, ...)
{
	va_list ap;
	char *reason;

	va_start(ap, fmt);
	reason = xvasprintf(fmt, ap);
	va_end(ap);
	if (!strlist_contains(&nd->reasons, reason)) {
		strlist_add(&nd->reasons, reason);
		/* Protecting reasons first: the plan shows the first one, and
		 * "base of …" says more than the rule that also keeps it. */
		if (why == WHY_PROTECTED) {
			char *last = nd->reasons.v[nd->reasons.n - 1];
			memmove(&nd->reasons.v[nd->n_strong + 1], &nd->reasons.v[nd->n_strong],
			        (nd->reasons.n - 1 - nd->n_strong) * sizeof(*nd->reasons.v));
			nd->reasons.v[nd->n_strong++] = last;
		}
	}
	free(reason);
	if (why > nd->why)
		nd->why = why;
}

void model_release(struct model *md)
{
	for (size_t k = 0; k < md->n; k++) {
		struct node *nd = &md->nodes[k];
		free(nd->repo);
		oci_manifest_free(nd->m);
		strlist_release(&nd->tags);
		strlist_release(&nd->reasons);
		free(nd->subject);
	}
	free(md->nodes);
	free(md->buckets);
	oci_store_close(md->reg);
	memset(md, 0, sizeof(*md));
}
