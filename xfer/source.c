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
	}
	free(f);
}
