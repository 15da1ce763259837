/*
 * file.c — restore from an OCI layout tarball, ours or another tool's
 * (skopeo oci-archive:, docker save), without the catalog.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "oci/reference.h"
#include "ocitar/ocitar.h"
#include "restore/internal.h"
#include "util/error.h"
#include "util/str.h"
#include "util/banned.h"

struct pick {
	const char *want;       /* NULL: the only image */
	size_t seen;
	char *name, *repo, *digest;
};

static int choose(const struct ocitar_ref *r, void *ctx)
{
	struct pick *p = ctx;

	p->seen++;
	/* A name matches exactly, or by its tag alone ("v1" for "reg/app:v1"). */
	if (p->want && strcmp(r->name, p->want) != 0 && !(r->tag && strcmp(r->tag, p->want) == 0))
		return 0;
	if (p->name && p->want)
		return error_set(RV_EINVALID, "\"%s\" names more than one image in the tarball", p->want);
	free(p->name);
	free(p->repo);
	free(p->digest);
	p->name = xstrdup(r->name);
	p->repo = xstrdup(r->repository);
	p->digest = xstrdup(r->digest);
	return 0;
}

static int find_image(struct oci_store *tar, const char *file, const char *want, struct pick *p)
{
	int rc;

	p->want = want;
	if ((rc = ocitar_refs(tar, choose, p)) < 0)
		return rc;
	if (!want && p->seen != 1)
		return error_set(RV_EINVALID, "\"%s\" holds %zu images: name the one to restore", file,
		                 p->seen);
	if (!p->name)
		return error_set(RV_EINVALID, "\"%s\" holds no image named \"%s\"", file, want);
	return 0;
}

/* --to HOST/REPO[:TAG]: the tag of the tarball's name unless one is given. */
static int parse_to(const char *to, const struct pick *p, char **registry, char **repo,
                    char **tag)
{
	const char *colon = strrchr(to, ':'), *slash = strrchr(to, '/');
	char *loc = colon && slash && colon > slash ? xstrndup(to, (size_t)(colon - to)) : xstrdup(to);
	int rc = oci_ref_parse_location(loc, registry, repo);

	*tag = NULL;
	if (rc == 0 && !*repo)
		rc = error_set(RV_EINVALID, "--to \"%s\": name the repository (HOST/REPO[:TAG])", to);
	if (rc == 0 && colon && colon > slash)
		*tag = xstrdup(colon + 1);
	else if (rc == 0 && strchr(p->name, '@') == NULL && strrchr(p->name, ':'))
		*tag = xstrdup(strrchr(p->name, ':') + 1);
	if (rc == 0 && *tag && !oci_ref_tag_valid(*tag))
		rc = error_set(RV_EINVALID, "--to \"%s\": invalid tag \"%s\"", to, *tag);
	free(loc);
	return rc;
}

int restore_file(const char *file, const char *ref, const char *to, registry_session *session,
                 const struct xfer_options *xo, int dry_run, struct restore_report *out)
{
	struct oci_store *tar = NULL;
	struct pick p = { 0 };
	struct source src = { 0 };
	struct target t = { 0 };
	struct xfer_options o = *xo;
	char *registry = NULL, *repo = NULL, *tag = NULL;
	int rc;

	memset(out, 0, sizeof(*out));
	out->dry_run = o.plan_only = dry_run;
	if ((rc = ocitar_open_file(&tar, file)) < 0 || (rc = find_image(tar, file, ref, &p)) < 0 ||
	    (rc = parse_to(to, &p, &registry, &repo, &tag)) < 0 ||
	    (rc = restore_target_open(&t, session, registry, repo)) < 0)
		goto done;
	snprintf(out->digest, sizeof(out->digest), "%s", p.digest);
	out->ref = xstrdup(p.name);
	out->target = tag ? xasprintf("%s/%s:%s", registry, repo, tag)
	                  : xasprintf("%s/%s@%s", registry, repo, p.digest);
	out->source = xasprintf("tarball %s", file);
	src.store = tar;
	src.repo = p.repo;
	rc = restore_push(&src, p.digest, &t, tag, &o, out);
done:
	restore_target_close(&t);
	oci_store_close(tar);
	free(p.name);
	free(p.repo);
	free(p.digest);
	free(registry);
	free(repo);
	free(tag);
	return rc;
}
