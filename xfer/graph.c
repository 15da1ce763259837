/*
 * graph.c — everything an image consists of at its source.
 *
 * Manifests are fetched once each (by digest after the first), blobs are
 * collected once each, and the node order is the put order a registry
 * accepts: distribution v2.8 refuses an index whose children it does not
 * hold yet (MANIFEST_BLOB_UNKNOWN), so children come before parents.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "oci/reference.h"
#include "util/error.h"
#include "util/log.h"
#include "util/str.h"
#include "xfer/internal.h"
#include "util/banned.h"

/* Nested indexes, referrers of referrers: real graphs are shallow. A
 * deeper one is a cycle or an attack. */
#define MAX_DEPTH 8

static int have_node(const struct graph *g, const char *digest)
{
	for (size_t i = 0; i < g->n_nodes; i++)
		if (strcmp(g->nodes[i].m->digest, digest) == 0)
			return 1;
	return 0;
}

static void add_blob(struct graph *g, const struct oci_descriptor *d)
{
	if (oci_descriptor_is_foreign(d))
		return;   /* image-spec: non-distributable layers are never uploaded */
	for (size_t i = 0; i < g->n_blobs; i++)
		if (strcmp(g->blobs[i].d.digest, d->digest) == 0)
			return;
	g->blobs = xgrow(g->blobs, sizeof(*g->blobs), g->n_blobs + 1, &g->alloc_blobs);
	oci_descriptor_copy(&g->blobs[g->n_blobs++].d, d);
	g->total += d->size;
}

static void add_node(struct graph *g, struct oci_manifest *m, int top, const char *tag)
{
	g->nodes = xgrow(g->nodes, sizeof(*g->nodes), g->n_nodes + 1, &g->alloc_nodes);
	struct gnode *n = &g->nodes[g->n_nodes++];
	n->m = m;
	n->top = top;
	n->tag = xstrdup_or_null(tag);
}

static int platform_wanted(const struct oci_descriptor *d, const struct xfer_options *o)
{
	if (!o->n_platforms)
		return 1;
	if (!d->platform)
		return 0;
	char *p = oci_platform_string(d->platform);
	int want = 0;
	for (size_t i = 0; i < o->n_platforms && !want; i++) {
		const char *f = o->platforms[i];
		/* "linux/arm64" also takes linux/arm64/v8. */
		want = strcmp(p, f) == 0 || (str_has_prefix(p, f) && p[strlen(f)] == '/');
	}
	free(p);
	return want;
}

static struct strlist *cached_tags(struct tag_cache *tc, struct oci_store *src, const char *repo)
{
	for (size_t i = 0; i < tc->n; i++)
		if (strcmp(tc->repos[i], repo) == 0)
			return &tc->tags[i];
	tc->repos = xgrow(tc->repos, sizeof(*tc->repos), tc->n + 1, &tc->alloc);
	tc->tags = xrealloc(tc->tags, tc->alloc * sizeof(*tc->tags));
	tc->repos[tc->n] = xstrdup(repo);
	struct strlist *l = &tc->tags[tc->n++];
	memset(l, 0, sizeof(*l));
	/* A source that cannot list tags simply has no attachment tags. */
	if (oci_store_tags(src, repo, l) < 0)
		error_clear();
	return l;
}

struct walk {
	struct graph *g;
	struct oci_store *src;
	const struct xfer_options *o;
	struct tag_cache *tc;
};

static int walk(struct walk *w, const char *ref, int top, const char *tag, int depth);

/* OCI 1.1 referrers of digest, then cosign's tag-named attachments
 * ("sha256-<hex>.sig" and friends, and the "sha256-<hex>" fallback index). */
static int walk_referrers(struct walk *w, const char *digest, int depth)
{
	struct oci_manifest *idx = NULL;
	int rc = oci_store_referrers(w->src, w->g->src_repo, digest, &idx);

	if (rc == RV_EUNSUPPORTED) {
		error_clear();
		rc = 0;
	}
	for (size_t i = 0; rc == 0 && idx && i < idx->n_manifests; i++)
		rc = walk(w, idx->manifests[i].digest, 1, NULL, depth + 1);
	oci_manifest_free(idx);
	if (rc < 0)
		return rc;

	const struct strlist *tags = cached_tags(w->tc, w->src, w->g->src_repo);
	char prefix[OCI_DIGEST_MAX];
	const char *colon = strchr(digest, ':');
	snprintf(prefix, sizeof(prefix), "%.*s-%s", (int)(colon - digest), digest, colon + 1);
	for (size_t i = 0; rc == 0 && i < tags->n; i++) {
		const char *t = tags->v[i];
		if (str_has_prefix(t, prefix) && oci_ref_is_attachment_tag(t))
			rc = walk(w, t, 1, t, depth + 1);
	}
	return rc;
}

static int walk_children(struct walk *w, const struct oci_manifest *m, int depth,
                         int *skipped)
{
	int rc = 0;

	for (size_t i = 0; rc == 0 && i < m->n_manifests; i++) {
		const struct oci_descriptor *d = &m->manifests[i];
		if (depth == 0 && !platform_wanted(d, w->o)) {
			(*skipped)++;
			continue;
		}
		rc = walk(w, d->digest, 0, NULL, depth + 1);
	}
	return rc;
}

static int walk(struct walk *w, const char *ref, int top, const char *tag, int depth)
{
	struct oci_manifest *m = NULL;
	int rc;

	if (depth > MAX_DEPTH)
		return error_set(RV_EINVALID, "image \"%s\": manifests nest deeper than %d levels",
		                 w->g->src_repo, MAX_DEPTH);
	if (strchr(ref, ':') && have_node(w->g, ref))
		return 0;
	if ((rc = oci_store_manifest_get(w->src, w->g->src_repo, ref, &m)) < 0)
		return rc;
	if (have_node(w->g, m->digest)) {   /* a tag naming a manifest we have */
		oci_manifest_free(m);
		return 0;
	}
	int skipped = 0;
	if (m->kind == OCI_KIND_INDEX) {
		rc = walk_children(w, m, depth, &skipped);
	} else {
		add_blob(w->g, &m->config);
		for (size_t i = 0; i < m->n_layers; i++)
			add_blob(w->g, &m->layers[i]);
	}
	if (rc < 0) {
		oci_manifest_free(m);
		return rc;
	}
	char digest[OCI_DIGEST_MAX];
	memcpy(digest, m->digest, sizeof(digest));
	add_node(w->g, m, top, tag);
	w->g->nodes[w->g->n_nodes - 1].incomplete = skipped > 0;
	/* Referrers of referrers (a signature of an SBOM) are walked too,
	 * within MAX_DEPTH. */
	if (!w->o->no_referrers)
		rc = walk_referrers(w, digest, depth);
	return rc;
}

int graph_walk(struct graph *g, struct oci_store *src, const struct xfer_image *img,
               const struct xfer_options *o, struct tag_cache *tc)
{
	struct walk w = { g, src, o, tc };
	const char *tag = img->dst_tag ? img->dst_tag : (strchr(img->ref, ':') ? NULL : img->ref);

	memset(g, 0, sizeof(*g));
	g->src_repo = img->src_repo;
	return walk(&w, img->ref, 1, tag, 0);
}

void graph_release(struct graph *g)
{
	for (size_t i = 0; i < g->n_nodes; i++) {
		oci_manifest_free(g->nodes[i].m);
		free(g->nodes[i].tag);
	}
	free(g->nodes);
	for (size_t i = 0; i < g->n_blobs; i++)
		oci_descriptor_release(&g->blobs[i].d);
	free(g->blobs);
	memset(g, 0, sizeof(*g));
}

void tag_cache_release(struct tag_cache *tc)
{
	for (size_t i = 0; i < tc->n; i++) {
		free(tc->repos[i]);
		strlist_release(&tc->tags[i]);
	}
	free(tc->repos);
	free(tc->tags);
	memset(tc, 0, sizeof(*tc));
}
