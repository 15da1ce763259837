/*
 * source.c — from a SOURCE to the list of images it names.
 *
 * "HOST" is every repository, "HOST/REPO" every tag, "HOST/team-*" every
 * tag of every matching repository, "HOST/REPO:TAG" and "HOST/REPO@DIGEST"
 * one image. Attachment tags are not images of their own: cosign's
 * sha256-<hex>.sig/.att/.sbom and the referrers fallback index come along
 * with their subject (xfer walks them), so listing them here would copy
 * them twice and count them as versions.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "oci/reference.h"
#include "util/error.h"
#include "util/str.h"
#include "xfer/xfer.h"
#include "util/banned.h"

static void add_found(struct xfer_found **v, size_t *n, size_t *alloc, const char *repo,
                      const char *ref)
{
	*v = xgrow(*v, sizeof(**v), *n + 1, alloc);
	memset(&(*v)[*n], 0, sizeof(**v));
	(*v)[*n].repo = xstrdup(repo);
	(*v)[*n].ref = xstrdup(ref);
	(*n)++;
}

/* The repositories a glob (or a plain name) stands for. */
static int matching_repos(struct oci_store *src, const char *glob, struct strlist *out)
{
	struct strlist all = STRLIST_INIT;
	int rc;

	if (glob && *glob && !str_has_glob(glob)) {
		strlist_add(out, glob);
		return 0;
	}
	if ((rc = oci_store_repositories(src, &all)) < 0)
		return rc;
	for (size_t i = 0; i < all.n; i++)
		if (!glob || !*glob || str_glob_match(glob, all.v[i]))
			strlist_add(out, all.v[i]);
	strlist_release(&all);
	if (out->n == 0)
		return error_set(RV_ENOTFOUND, "no repository of %s matches \"%s\"", src->name,
		                 glob && *glob ? glob : "*");
	return 0;
}

int xfer_expand(struct oci_store *src, const char *repo_glob, const char *ref,
                struct xfer_found **out, size_t *n)
{
	struct strlist repos = STRLIST_INIT;
	size_t alloc = 0;
	int rc;

	*out = NULL;
	*n = 0;
	if ((rc = matching_repos(src, repo_glob, &repos)) < 0)
		goto done;
	for (size_t i = 0; i < repos.n && rc == 0; i++) {
		struct strlist tags = STRLIST_INIT;
		if (ref) {
			add_found(out, n, &alloc, repos.v[i], ref);
			continue;
		}
		rc = oci_store_tags(src, repos.v[i], &tags);
		for (size_t t = 0; rc == 0 && t < tags.n; t++)
			if (!oci_ref_is_attachment_tag(tags.v[t]))
				add_found(out, n, &alloc, repos.v[i], tags.v[t]);
		strlist_release(&tags);
	}
done:
	strlist_release(&repos);
	if (rc < 0) {
		xfer_found_free(*out, *n);
		*out = NULL;
		*n = 0;
	}
	return rc;
}

void xfer_found_free(struct xfer_found *f, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(f[i].repo);
		free(f[i].ref);
		free(f[i].msg);
	}
	free(f);
}

/* --- Resolving tags, many HEADs at once ------------------------------------ */

struct head {
	struct xfer_found *f;
	struct oci_manifest_info info;
	int running;
};

static void found_failed(struct xfer_found *f, int rc, const char *msg)
{
	f->rc = rc;
	free(f->msg);
	f->msg = xstrdup(msg && *msg ? msg : "failed");
}

static void head_done(void *ctx, int rc, const char *msg)
{
	struct head *h = ctx;

	h->running = 0;
	if (rc < 0)
		found_failed(h->f, rc, msg);
	else
		memcpy(h->f->digest, h->info.digest, sizeof(h->f->digest));
}

/* A store without concurrent HEADs: one at a time. */
static void resolve_one(struct oci_store *src, struct xfer_found *f)
{
	struct oci_manifest_info info;
	int rc = oci_store_manifest_head(src, f->repo, f->ref, &info);

	if (rc < 0)
		found_failed(f, rc, error_msg());
	else
		memcpy(f->digest, info.digest, sizeof(f->digest));
}

static int resolve(struct oci_store *src, struct xfer_found *found, size_t n, int jobs,
                   int ask_digests)
{
	int conc = src->ops->manifest_head_start && src->ops->run;
	struct head *slots = xcalloc(jobs > 0 ? (size_t)jobs : 1, sizeof(*slots));
	size_t next = 0, nslots = jobs > 0 ? (size_t)jobs : 1;
	int busy;

	do {
		busy = 0;
		for (size_t k = 0; k < nslots; k++) {
			struct head *h = &slots[k];
			while (!h->running && next < n) {
				struct xfer_found *f = &found[next++];
				if (!ask_digests && strchr(f->ref, ':')) {   /* a digest names itself */
					snprintf(f->digest, sizeof(f->digest), "%s", f->ref);
				} else if (!conc) {
					resolve_one(src, f);
				} else {
					h->f = f;
					h->running = 1;
					if (src->ops->manifest_head_start(src, f->repo, f->ref, &h->info, head_done,
					                                  h) < 0) {
						h->running = 0;
						found_failed(f, error_code(), error_msg());
					}
				}
			}
			busy |= h->running;
		}
		if (busy)
			src->ops->run(src, 1000);
	} while (busy || next < n);
	free(slots);
	return 0;
}

int xfer_resolve(struct oci_store *src, struct xfer_found *found, size_t n, int jobs)
{
	return resolve(src, found, n, jobs, 0);
}

int xfer_present(struct oci_store *src, struct xfer_found *found, size_t n, int jobs)
{
	return resolve(src, found, n, jobs, 1);
}

/* --- Whole SOURCE lists ---------------------------------------------------------- */

static int tag_wanted(const struct xfer_filter *f, const char *tag)
{
	int in = !f || f->n_include == 0;

	for (size_t i = 0; f && !in && i < f->n_include; i++)
		in = str_glob_match(f->include[i], tag);
	for (size_t i = 0; f && in && i < f->n_exclude; i++)
		in = !str_glob_match(f->exclude[i], tag);
	return in;
}

static int origin_of(struct xfer_selection *s, const char *registry, xfer_open_fn open,
                     size_t *out)
{
	size_t k;
	int rc;

	for (k = 0; k < s->n_origins && strcmp(s->origins[k].registry, registry) != 0; k++)
		;
	*out = k;
	if (k < s->n_origins)
		return 0;
	s->origins = xrealloc(s->origins, (k + 1) * sizeof(*s->origins));
	memset(&s->origins[k], 0, sizeof(s->origins[k]));
	if ((rc = open(s->ctx, registry, &s->origins[k].store)) < 0)
		return rc;
	s->origins[k].registry = xstrdup(registry);
	s->n_origins++;
	return 0;
}

static void add_picks(struct xfer_selection *s, size_t origin, struct xfer_found *found,
                      size_t n, const struct xfer_filter *filter, int jobs)
{
	size_t kept = 0;

	for (size_t i = 0; i < n; i++) {   /* filter before resolving: fewer HEADs */
		if (!strchr(found[i].ref, ':') && !tag_wanted(filter, found[i].ref)) {
			free(found[i].repo);
			free(found[i].ref);
			continue;
		}
		found[kept++] = found[i];
	}
	xfer_resolve(s->origins[origin].store, found, kept, jobs);
	s->picks = xrealloc(s->picks, (s->n_picks + kept + 1) * sizeof(*s->picks));
	for (size_t i = 0; i < kept; i++) {
		struct xfer_pick *p = &s->picks[s->n_picks++];
		memset(p, 0, sizeof(*p));
		p->origin = origin;
		p->repo = found[i].repo;
		p->ref = found[i].ref;
		p->tag = strchr(p->ref, ':') ? NULL : xstrdup(p->ref);
		memcpy(p->digest, found[i].digest, sizeof(p->digest));
		p->rc = found[i].rc;
		p->msg = found[i].msg;
	}
	free(found);
}

static int select_one(struct xfer_selection *s, const char *source,
                      const struct xfer_filter *filter, int jobs, xfer_open_fn open)
{
	struct oci_ref ref = OCI_REF_INIT;
	struct xfer_found *found = NULL;
	size_t origin, n = 0;
	int rc = oci_ref_parse(&ref, source, OCI_REF_HOST_OK | OCI_REF_GLOB_OK);

	if (rc == 0)
		rc = origin_of(s, ref.registry, open, &origin);
	if (rc == 0)
		rc = xfer_expand(s->origins[origin].store, ref.repository,
		                 ref.digest ? ref.digest : ref.tag, &found, &n);
	if (rc == 0)
		add_picks(s, origin, found, n, filter, jobs);
	else if (ref.registry)
		error_wrap(rc, "source \"%s\"", source);
	oci_ref_release(&ref);
	return rc;
}

int xfer_select(struct xfer_selection *out, const char *const *sources, size_t n,
                const struct xfer_filter *filter, int jobs, xfer_open_fn open, void *ctx)
{
	int rc = 0;

	memset(out, 0, sizeof(*out));
	out->ctx = ctx;
	for (size_t i = 0; i < n && rc == 0; i++)
		rc = select_one(out, sources[i], filter, jobs, open);
	return rc;
}

void xfer_selection_release(struct xfer_selection *s)
{
	for (size_t i = 0; i < s->n_picks; i++) {
		free(s->picks[i].repo);
		free(s->picks[i].ref);
		free(s->picks[i].tag);
		free(s->picks[i].msg);
	}
	free(s->picks);
	for (size_t k = 0; k < s->n_origins; k++) {
		oci_store_close(s->origins[k].store);
		free(s->origins[k].registry);
	}
	free(s->origins);
	memset(s, 0, sizeof(*s));
}
