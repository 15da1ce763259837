/*
 * verify.c — `catalog verify`: do the copies the catalog promises exist?
 *
 * Quick: every recorded location is inside a volume that is still there.
 * Deep: the bytes at that location are read again and hash to the digest
 * (restic's check --read-data). Manifests are checked twice: their bytes in
 * the catalog and their copy in the store. A copy shown missing or wrong is
 * dropped from the catalog, so nothing downstream (prune, restore) counts
 * on it; one that could not be checked is reported and kept.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "backup/backup.h"
#include "backup/internal.h"
#include "ocitar/ocitar.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/strlist.h"
#include "util/banned.h"

struct opened {
	char *location;
	struct oci_store *s;
	int rc;                  /* why it could not be opened */
	char *msg;
};

struct vctx {
	catalog *cat;
	int deep;
	struct verify_report *out;
	struct opened *stores;
	size_t n_stores, alloc_stores;
	struct catalog_copy_ref *dead;   /* to drop once the walk is over */
	size_t n_dead, alloc_dead;
};

static void add_dead(struct vctx *v, int64_t store_id, const char *digest)
{
	v->dead = xgrow(v->dead, sizeof(*v->dead), v->n_dead + 1, &v->alloc_dead);
	v->dead[v->n_dead].store_id = store_id;
	snprintf(v->dead[v->n_dead++].digest, OCI_DIGEST_MAX, "%s", digest);
}

static struct opened *archive(struct vctx *v, const char *location)
{
	for (size_t i = 0; i < v->n_stores; i++)
		if (strcmp(v->stores[i].location, location) == 0)
			return &v->stores[i];
	v->stores = xgrow(v->stores, sizeof(*v->stores), v->n_stores + 1, &v->alloc_stores);
	struct opened *o = &v->stores[v->n_stores++];
	memset(o, 0, sizeof(*o));
	o->location = xstrdup(location);
	if ((o->rc = ocitar_open(&o->s, location, OCITAR_READ)) < 0)
		o->msg = xstrdup(error_msg());
	return o;
}

static void fail(struct vctx *v, const struct catalog_copy *cp, int rc, const char *msg)
{
	struct verify_report *r = v->out;

	r->failures = xrealloc(r->failures, (r->n_failures + 1) * sizeof(*r->failures));
	struct verify_failure *f = &r->failures[r->n_failures++];
	f->store = xstrdup(cp->store);
	f->digest = xstrdup(cp->digest);
	f->rc = rc;
	f->msg = xstrdup(msg && *msg ? msg : "failed");
	/* Only what is shown gone or wrong loses its copy row; a store that
	 * cannot be opened right now (permissions, a lock) is not "lost". */
	if (rc == RV_ENOTFOUND || rc == RV_EDIGEST)
		add_dead(v, cp->store_id, cp->digest);
}

static int discard(void *ctx, const void *data, size_t len)
{
	(void)ctx;
	(void)data;
	(void)len;
	return 0;
}

/* Quick: the volume is there and long enough. */
static int check_location(struct opened *o, const struct catalog_location *loc)
{
	char *path = fs_path_join(o->location, loc->volume);
	struct stat st;
	int rc = 0;

	if (stat(path, &st) < 0)
		rc = error_set(RV_ENOTFOUND, "volume \"%s\" is missing", path);
	else if (st.st_size < loc->offset + loc->length)
		rc = error_set(RV_EDIGEST, "volume \"%s\" ends at %lld, before byte %lld", path,
		               (long long)st.st_size, (long long)(loc->offset + loc->length));
	free(path);
	return rc;
}

/* A copy with no recorded location (confirmed from an older store):
 * find it through the store's own index. */
static int check_unlocated(struct vctx *v, struct opened *o, const struct catalog_copy *cp)
{
	struct oci_descriptor d = { 0 };
	struct oci_sink sink = { discard, NULL };

	snprintf(d.digest, sizeof(d.digest), "%s", cp->digest);
	d.size = cp->size;
	if (!v->deep)
		return oci_store_blob_exists(o->s, "", &d);
	int rc = oci_store_blob_get(o->s, "", &d, &sink);
	if (rc == 0)
		v->out->bytes_hashed += cp->size;
	return rc;
}

static int check_copy(const struct catalog_copy *cp, void *ctx)
{
	struct vctx *v = ctx;
	struct oci_manifest *m = NULL;
	int rc;

	if (strcmp(cp->store_kind, "archive") != 0)
		return 0;   /* registries: mirror verifies those */
	v->out->checked++;
	if (cp->is_manifest) {   /* the catalog's own copy of the bytes */
		if ((rc = catalog_manifest_get(v->cat, cp->digest, &m)) < 0) {
			fail(v, cp, rc, error_msg());
			return 0;
		}
		oci_manifest_free(m);
	}
	struct opened *o = archive(v, cp->store);
	if (o->rc < 0) {
		fail(v, cp, o->rc, o->msg);
		return 0;
	}
	if (!cp->location)
		rc = check_unlocated(v, o, cp);
	else if (!v->deep)
		rc = check_location(o, cp->location);
	else if ((rc = ocitar_verify_range(o->s, cp->location->volume, cp->location->offset,
	                                   cp->location->length, cp->digest)) == 0)
		v->out->bytes_hashed += cp->location->length;
	if (rc < 0)
		fail(v, cp, rc, error_msg());
	return 0;
}

int backup_verify(catalog *cat, int deep, struct verify_report *out)
{
	struct vctx v = { 0 };
	int rc;

	memset(out, 0, sizeof(*out));
	v.cat = cat;
	v.deep = deep;
	v.out = out;
	rc = catalog_copies(cat, 0, check_copy, &v);
	if (rc == 0 && v.n_dead)
		rc = catalog_copies_drop(cat, v.dead, v.n_dead);
	for (size_t i = 0; i < v.n_stores; i++) {
		oci_store_close(v.stores[i].s);
		free(v.stores[i].location);
		free(v.stores[i].msg);
	}
	free(v.stores);
	free(v.dead);
	if (rc == 0 && out->n_failures)
		rc = error_set(RV_EDIGEST, "%zu of %zu copies failed verification", out->n_failures,
		               out->checked);
	return rc;
}

void verify_report_release(struct verify_report *r)
{
	for (size_t i = 0; i < r->n_failures; i++) {
		free(r->failures[i].store);
		free(r->failures[i].digest);
		free(r->failures[i].msg);
	}
	free(r->failures);
	memset(r, 0, sizeof(*r));
}
