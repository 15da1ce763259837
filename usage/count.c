/*
 * count.c — from the manifests read to bytes: each blob counted once for
 * the registry, once for every repository that names it (usage.h).
 */
#include <stdlib.h>
#include <string.h>

#include "usage/internal.h"
#include "util/str.h"
#include "util/banned.h"

/* One blob named by one manifest. */
struct ref {
	const char *digest;
	int64_t size;
	size_t repo;
	int kept;                     /* the manifest stays (no plan: every one) */
};

struct refs {
	struct ref *v;
	size_t n, alloc;
};

static void ref_add(struct refs *rs, const char *digest, int64_t size, size_t repo, int kept)
{
	rs->v = xgrow(rs->v, sizeof(*rs->v), rs->n + 1, &rs->alloc);
	rs->v[rs->n++] = (struct ref){ digest, size > 0 ? size : 0, repo, kept };
}

/* The manifest's own bytes are a blob too: distribution keeps them in
 * the same blob store, once per registry, as configs and layers. */
static void node_refs(struct refs *rs, const struct node *nd)
{
	const struct oci_manifest *m = nd->m;

	ref_add(rs, m->digest, (int64_t)m->raw_len, nd->repo, !nd->deleted);
	if (m->kind != OCI_KIND_IMAGE)
		return;
	ref_add(rs, m->config.digest, m->config.size, nd->repo, !nd->deleted);
	for (size_t i = 0; i < m->n_layers; i++)
		if (!oci_descriptor_is_foreign(&m->layers[i]))
			ref_add(rs, m->layers[i].digest, m->layers[i].size, nd->repo, !nd->deleted);
}

static int by_digest_then_repo(const void *a, const void *b)
{
	const struct ref *x = a, *y = b;
	int c = strcmp(x->digest, y->digest);

	if (c)
		return c;
	return x->repo < y->repo ? -1 : x->repo > y->repo;
}

/* One blob: the refs [i, j) all name it. */
static void count_blob(const struct ref *v, size_t i, size_t j, int planned,
                       struct usage_repo *repos, struct usage_report *out)
{
	size_t holders = 0;
	int kept = 0;

	for (size_t k = i; k < j; k++) {
		holders += k == i || v[k].repo != v[k - 1].repo;
		kept |= v[k].kept;
	}
	int shared = holders > 1, freed = planned && !kept;
	out->blobs++;
	out->bytes += v[i].size;
	out->shared += shared ? v[i].size : 0;
	out->reclaimable += freed ? v[i].size : 0;
	for (size_t k = i; k < j; k++) {
		if (k > i && v[k].repo == v[k - 1].repo)
			continue;
		struct usage_repo *r = &repos[v[k].repo];
		r->bytes += v[i].size;
		*(shared ? &r->shared : &r->unique) += v[i].size;
		r->reclaimable += freed ? v[i].size : 0;
	}
}

static void count(const struct walk *w, struct usage_repo *repos, struct usage_report *out)
{
	struct refs rs = { NULL, 0, 0 };

	for (size_t k = 0; k < w->n; k++) {
		const struct node *nd = &w->nodes[k];
		if (!nd->m)
			continue;
		struct usage_repo *r = &repos[nd->repo];
		r->manifests++;
		r->manifests_deleted += nd->deleted;
		out->manifests++;
		out->untagged += !nd->tagged && !nd->child;
		node_refs(&rs, nd);
	}
	if (rs.n > 1)
		qsort(rs.v, rs.n, sizeof(*rs.v), by_digest_then_repo);
	for (size_t i = 0, j; i < rs.n; i = j) {
		for (j = i + 1; j < rs.n && strcmp(rs.v[j].digest, rs.v[i].digest) == 0; j++)
			;
		count_blob(rs.v, i, j, out->planned, repos, out);
	}
	free(rs.v);
}

static int by_name(const void *a, const void *b)
{
	return strcmp(((const struct usage_repo *)a)->name, ((const struct usage_repo *)b)->name);
}

/* The rows repo_glob selects, sorted; the others' counts are dropped. */
static void select_rows(const struct walk *w, struct usage_repo *all, struct usage_report *out)
{
	const char *glob = w->o->repo_glob;

	out->repos = xcalloc(w->repos.n + 1, sizeof(*out->repos));
	for (size_t i = 0; i < w->repos.n; i++) {
		all[i].name = xstrdup(w->repos.v[i]);
		all[i].tags = w->tags[i];
		if (!glob || str_glob_match(glob, all[i].name))
			out->repos[out->n_repos++] = all[i];
		else
			free(all[i].name);
	}
	if (out->n_repos > 1)
		qsort(out->repos, out->n_repos, sizeof(*out->repos), by_name);
}

int usage_compute(const struct usage_options *o, struct usage_report *out)
{
	struct walk w = { 0 };
	struct usage_repo *all = NULL;
	int rc;

	memset(out, 0, sizeof(*out));
	out->registry = xstrdup(o->registry);
	out->planned = o->plan != NULL;
	w.o = o;
	if ((rc = usage_walk(&w)) < 0)
		goto done;
	all = xcalloc(w.repos.n + 1, sizeof(*all));
	count(&w, all, out);
	out->repositories = w.repos.n;
	out->vanished = w.vanished;
	select_rows(&w, all, out);
done:
	free(all);
	usage_walk_release(&w);
	return rc;
}

void usage_report_release(struct usage_report *r)
{
	for (size_t i = 0; i < r->n_repos; i++)
		free(r->repos[i].name);
	free(r->repos);
	free(r->registry);
	memset(r, 0, sizeof(*r));
}
