/*
 * run.c — restore_run: one reference back from the catalog's stores.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "oci/reference.h"
#include "restore/internal.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/str.h"
#include "util/strlist.h"
#include "util/timeutil.h"
#include "util/banned.h"

/* --- "Did you mean" ---------------------------------------------------------- */

static size_t distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	size_t *row = xcalloc(lb + 1, sizeof(*row));

	for (size_t j = 0; j <= lb; j++)
		row[j] = j;
	for (size_t i = 1; i <= la; i++) {
		size_t diag = row[0];
		row[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t up = row[j];
			size_t best = diag + (a[i - 1] != b[j - 1]);
			if (row[j] + 1 < best)
				best = row[j] + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			row[j] = best;
			diag = up;
		}
	}
	size_t d = row[lb];
	free(row);
	return d;
}

/* Up to five names close to want: small edit distance, or a shared prefix
 * of three characters or more ("v1.2" finds "v1.2.0"). */
static void close_names(const struct strlist *names, const char *want, const char *prefix,
                        struct buf *out)
{
	size_t limit = strlen(want) / 3 > 2 ? strlen(want) / 3 : 2, shown = 0;

	for (size_t d = 0; d <= limit + 1 && shown < 5; d++)
		for (size_t i = 0; i < names->n && shown < 5; i++) {
			const char *n = names->v[i];
			size_t dist = distance(n, want);
			int prefixed = strlen(want) >= 3 && str_has_prefix(n, want) && dist > limit;
			if ((dist == d && d <= limit) || (prefixed && d == limit + 1)) {
				buf_addf(out, "%s%s%s", shown ? ", " : "", prefix, n);
				shown++;
			}
		}
}

static int unknown_ref(catalog *cat, const struct oci_ref *r)
{
	struct strlist names = STRLIST_INIT;
	struct buf hint = BUF_INIT;
	char *name = oci_ref_string(r);
	char *prefix;
	int rc;

	if ((rc = catalog_known_tags(cat, r->registry, r->repository, &names)) == 0 && names.n) {
		prefix = xasprintf("%s/%s:", r->registry, r->repository);
		close_names(&names, r->tag ? r->tag : "", prefix, &hint);
		if (!hint.len)   /* nothing close: the repository's tags, a few of them */
			for (size_t i = 0; i < names.n && i < 5; i++)
				buf_addf(&hint, "%s%s%s", i ? ", " : "", prefix, names.v[i]);
	} else if (rc == 0 && catalog_known_repositories(cat, r->registry, &names) == 0) {
		prefix = xasprintf("%s/", r->registry);
		close_names(&names, r->repository, prefix, &hint);
	} else {
		prefix = NULL;
	}
	error_set(RV_EINVALID, "\"%s\" is not in the catalog%s%s", name,
	          hint.len ? "; close matches: " : "", buf_cstr(&hint));
	strlist_release(&names);
	buf_release(&hint);
	free(prefix);
	free(name);
	return RV_EINVALID;
}

/* --- The run ------------------------------------------------------------------- */

static int resolve(const struct restore_options *o, struct oci_ref *r, char digest[OCI_DIGEST_MAX])
{
	int rc = oci_ref_parse(r, o->ref, OCI_REF_DEFAULT_TAG);

	if (rc < 0)
		return rc;
	if (r->digest) {
		snprintf(digest, OCI_DIGEST_MAX, "%s", r->digest);
		return 0;
	}
	rc = catalog_tag_resolve(o->cat, r->registry, r->repository, r->tag, o->at, digest);
	if (rc == RV_ENOTFOUND && o->at &&
	    catalog_tag_resolve(o->cat, r->registry, r->repository, r->tag, 0, digest) == 0) {
		/* The tag is known, just not that far back: say so, not "unknown". */
		char *name = oci_ref_string(r), when[40];
		rc = error_set(RV_ENOTFOUND, "\"%s\" named nothing regvault saw at %s: its history "
		               "starts later (regvault catalog history %s)", name,
		               time_format_rfc3339(o->at, when, sizeof(when)), name);
		free(name);
		digest[0] = '\0';
		return rc;
	}
	if (rc == RV_ENOTFOUND)
		return unknown_ref(o->cat, r);
	return rc;
}

static int open_target(const struct restore_options *o, const struct oci_ref *r, struct target *t)
{
	char *registry = NULL, *repo = NULL;
	int rc;

	if (!o->to)
		return restore_target_open(t, o->session, r->registry, r->repository);
	if ((rc = oci_ref_parse_location(o->to, &registry, &repo)) == 0)
		rc = restore_target_open(t, o->session, registry, repo ? repo : r->repository);
	free(registry);
	free(repo);
	return rc;
}

/* Keeps only the candidate that is store_id: a drill of one copy must not
 * pass because another store stood in for it. */
static int only_store(struct candidates *cs, int64_t store_id, const char *digest)
{
	size_t k = 0;

	for (size_t i = 0; i < cs->n; i++) {
		if (cs->v[i].store_id == store_id) {
			cs->v[k++] = cs->v[i];
			continue;
		}
		free(cs->v[i].location);
		free(cs->v[i].registry);
		free(cs->v[i].repository);
	}
	cs->n = k;
	return k ? 0 : error_set(RV_ENOTFOUND, "store %lld holds no verified copy of %s",
	                         (long long)store_id, digest);
}

int restore_run(const struct restore_options *o, struct restore_report *out)
{
	struct oci_ref r = OCI_REF_INIT;
	struct candidates cs = { 0 };
	struct target t = { 0 };
	struct xfer_options xo = o->xfer;
	int64_t run_id = 0;
	int rc;

	memset(out, 0, sizeof(*out));
	out->dry_run = xo.plan_only = o->dry_run;
	if ((rc = resolve(o, &r, out->digest)) < 0)
		goto done;
	out->ref = oci_ref_string(&r);
	if ((rc = restore_candidates(o->cat, out->digest, o->prefer, &cs)) < 0 ||
	    (o->store_id && (rc = only_store(&cs, o->store_id, out->digest)) < 0) ||
	    (rc = open_target(o, &r, &t)) < 0)
		goto done;
	out->target = r.digest ? xasprintf("%s/%s@%s", t.registry, t.repo, out->digest)
	                       : xasprintf("%s/%s:%s", t.registry, t.repo, r.tag);
	if (o->args_json && !o->dry_run && catalog_run_start(o->cat, "restore", o->args_json,
	                                                     &run_id) < 0)
		error_clear();   /* a read-only catalog: restore anyway, unrecorded */
	rc = restore_from_candidates(&cs, o->session, out->digest, &t, r.digest ? NULL : r.tag, &xo,
	                             out);
	if (run_id)
		catalog_run_finish(o->cat, run_id, rc == 0 ? "ok" : "failed", NULL);
done:
	restore_target_close(&t);
	restore_candidates_release(&cs);
	oci_ref_release(&r);
	return rc;
}

void restore_report_release(struct restore_report *r)
{
	free(r->ref);
	free(r->target);
	free(r->source);
	for (size_t i = 0; i < r->n_notes; i++)
		free(r->notes[i]);
	free(r->notes);
	memset(r, 0, sizeof(*r));
}
