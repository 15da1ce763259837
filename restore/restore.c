/*
 * restore.c — the catalog says what a name meant and who holds a verified
 * copy; the copy engine brings it back; the target is read back before we
 * say it is there.
 *
 * Written for the on-call engineer at 23:30: one reference in, one line
 * out, and when the name is wrong, the names that are right.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "oci/reference.h"
#include "ocitar/ocitar.h"
#include "restore/internal.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/log.h"
#include "util/str.h"
#include "util/timeutil.h"
#include "util/banned.h"

void restore_note(struct restore_report *r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	r->notes = xrealloc(r->notes, (r->n_notes + 1) * sizeof(*r->notes));
	r->notes[r->n_notes++] = xvasprintf(fmt, ap);
	va_end(ap);
}

/* --- Which stores, in which order ----------------------------------------- */

static int add_candidate(const struct catalog_holder *h, void *ctx)
{
	struct candidates *cs = ctx;

	for (size_t i = 0; i < cs->n; i++)
		if (cs->v[i].store_id == h->store_id)
			return 0;   /* one source per store is enough */
	cs->v = xrealloc(cs->v, (cs->n + 1) * sizeof(*cs->v));
	struct candidate *c = &cs->v[cs->n++];
	c->store_id = h->store_id;
	c->archive = strcmp(h->store_kind, "archive") == 0;
	c->location = xstrdup(h->store);
	c->registry = xstrdup(h->registry);
	c->repository = xstrdup(h->repository);
	return 0;
}

/* Archives first when their directory is here (local disk beats any
 * network), else standbys; --from-store puts its kind first. The other
 * kind stays as the fallback. */
static int rank(const struct candidate *c, enum restore_prefer prefer)
{
	int local = c->archive && access(c->location, R_OK | X_OK) == 0;

	if (prefer == RESTORE_ARCHIVE)
		return c->archive ? 0 : 2;
	if (prefer == RESTORE_REGISTRY)
		return c->archive ? 2 : 0;
	return local ? 0 : c->archive ? 2 : 1;
}

static enum restore_prefer sort_prefer;

static int by_rank(const void *a, const void *b)
{
	return rank(a, sort_prefer) - rank(b, sort_prefer);
}

int restore_candidates(catalog *cat, const char *digest, enum restore_prefer prefer,
                       struct candidates *out)
{
	memset(out, 0, sizeof(*out));
	int rc = catalog_holders(cat, digest, add_candidate, out);
	/* A platform child that a pod pins by digest has no copy listed under
	 * its own name: it is held inside its index. */
	if (rc == 0 && out->n == 0)
		rc = catalog_child_holders(cat, digest, add_candidate, out);
	if (rc == 0 && out->n == 0)
		rc = error_set(RV_ENOTFOUND, "no store holds a verified copy of %s", digest);
	sort_prefer = prefer;
	if (out->n > 1)
		qsort(out->v, out->n, sizeof(*out->v), by_rank);
	return rc;
}

void restore_candidates_release(struct candidates *cs)
{
	for (size_t i = 0; i < cs->n; i++) {
		free(cs->v[i].location);
		free(cs->v[i].registry);
		free(cs->v[i].repository);
	}
	free(cs->v);
	memset(cs, 0, sizeof(*cs));
}

/* Opens a candidate as a source store; *src_repo is the image's
 * repository inside it. */
static int open_source(const struct candidate *c, registry_session *s, struct source *out)
{
	memset(out, 0, sizeof(*out));
	if (c->archive) {
		out->repo = xasprintf("%s/%s", c->registry, c->repository);
		out->name = xasprintf("archive %s", c->location);
		return ocitar_open(&out->store, c->location, OCITAR_READ);
	}
	const char *slash = strchr(c->location, '/');
	char *host = slash ? xstrndup(c->location, (size_t)(slash - c->location))
	                   : xstrdup(c->location);
	int rc = registry_store_open(&out->store, s, host);
	free(host);
	out->repo = slash ? xasprintf("%s/%s", slash + 1, c->repository) : xstrdup(c->repository);
	out->name = xasprintf("registry %s", c->location);
	return rc;
}

void restore_source_close(struct source *src)
{
	oci_store_close(src->store);
	free(src->repo);
	free(src->name);
	memset(src, 0, sizeof(*src));
}

/* --- Pushing one image ------------------------------------------------------ */

/* Copies digest from src to the target, tag last, and reads it back. */
int restore_push(const struct source *src, const char *digest, struct target *t,
                 const char *tag, const struct xfer_options *xo, struct restore_report *out)
{
	struct xfer_image img = { src->repo, digest, t->repo, tag };
	struct xfer_result res;
	int64_t t0 = time_mono_ms();
	int rc = xfer_copy(src->store, t->store, &img, 1, xo, &res);

	if (rc == 0 && res.rc == 0 && !xo->plan_only)
		rc = xfer_verify(t->store, t->repo, tag, &res);
	else if (rc != 0)
		rc = res.rc ? error_set(res.rc, "%s", res.msg ? res.msg : "copy failed") : rc;
	if (rc == 0) {
		out->blobs_total += res.blobs_copied + res.blobs_skipped;
		out->blobs_uploaded += res.blobs_copied;
		out->bytes_uploaded += res.bytes_copied;
		out->bytes_total += res.bytes_copied + res.bytes_skipped;
		out->manifests_put += res.manifests_put;
	}
	out->duration_ms += time_mono_ms() - t0;
	xfer_result_release(&res);
	return rc;
}

int restore_target_open(struct target *t, registry_session *s, const char *registry,
                        const char *repo)
{
	memset(t, 0, sizeof(*t));
	t->registry = xstrdup(registry);
	t->repo = xstrdup(repo);
	int rc = registry_store_open(&t->store, s, registry);
	return rc;
}

void restore_target_close(struct target *t)
{
	oci_store_close(t->store);
	free(t->registry);
	free(t->repo);
	memset(t, 0, sizeof(*t));
}

/* Tries each candidate in order until one brings the image back. */
int restore_from_candidates(const struct candidates *cs, registry_session *s,
                            const char *digest, struct target *t, const char *tag,
                            const struct xfer_options *xo, struct restore_report *out)
{
	int rc = RV_ENOTFOUND;

	for (size_t i = 0; i < cs->n; i++) {
		struct source src;
		rc = open_source(&cs->v[i], s, &src);
		if (rc == 0)
			rc = restore_push(&src, digest, t, tag, xo, out);
		if (rc == 0) {
			free(out->source);
			out->source = xstrdup(src.name);
			restore_source_close(&src);
			return 0;
		}
		/* Say what went wrong with this store before trying the next:
		 * a corrupted archive must not be papered over silently. */
		restore_note(out, "%s: %s", src.name ? src.name : cs->v[i].location, error_msg());
		log_warn("%s: %s", src.name ? src.name : cs->v[i].location, error_msg());
		restore_source_close(&src);
	}
	/* The error is what a script or the JSON document keeps: with more
	 * than one store it names each and why, not only the last one. */
	if (cs->n > 1 && out->n_notes >= cs->n) {
		struct buf all = BUF_INIT;
		for (size_t i = out->n_notes - cs->n; i < out->n_notes; i++)
			buf_addf(&all, "%s%s", all.len ? "; " : "", out->notes[i]);
		rc = error_set(rc, "every store holding a verified copy of %s failed: %s", digest,
		               buf_cstr(&all));
		buf_release(&all);
	}
	return rc;
}
