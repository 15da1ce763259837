/*
 * archive.c — images into an archive store (or one portable tarball).
 *
 * The order is the safety argument: copy into a volume that only
 * ocitar_commit() turns into a kept file, after reading every new blob
 * back; only then record copies, each image's own manifest after
 * everything it needs. A crash anywhere leaves at worst a temp volume and
 * no catalog row claiming a copy.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ocitar/ocitar.h"
#include "safekeep/internal.h"
#include "util/error.h"
#include "util/strlist.h"
#include "util/banned.h"

struct ar {
	struct sk_run r;
	struct strlist held;          /* "name digest" the store lists already */
	struct oci_manifest **listed; /* per item: bytes from the catalog (LISTED) */
	int export_tar;
};

static char *name_of(const struct safekeep_item *it)
{
	return it->tag ? xasprintf("%s/%s:%s", it->registry, it->repo, it->tag)
	               : xasprintf("%s/%s@%s", it->registry, it->repo, it->digest);
}

static int collect_held(const struct ocitar_ref *ref, void *ctx)
{
	strlist_add_owned(ctx, xasprintf("%s %s", ref->name, ref->digest));
	return 0;
}

/* UNCHANGED when the store lists this name at this digest and the catalog
 * records the copy; LISTED when it holds the digest (verified, per the
 * catalog) under another name; otherwise it goes through the copy engine. */
static void classify(struct ar *a, size_t i)
{
	struct safekeep_item *it = &a->r.v[i];
	char *key = xasprintf("%s %s", it->where, it->digest);
	struct oci_descriptor d = { 0 };

	/* Listed in the store is not enough: a run killed between its
	 * volume's rename and the catalog's commit leaves the name listed and
	 * no copy recorded. Without the copy row it goes through the copy
	 * engine, which finds every blob stored (nothing is written twice),
	 * and record_copied() reads them back and records them. */
	if (strlist_contains(&a->held, key) &&
	    (a->export_tar || catalog_copy_has(a->r.o->cat, a->r.store_id, it->digest) == 0)) {
		it->status = SAFEKEEP_UNCHANGED;
	} else if (!a->export_tar && catalog_copy_has(a->r.o->cat, a->r.store_id, it->digest) == 0 &&
	           catalog_manifest_get(a->r.o->cat, it->digest, &a->listed[i]) == 0) {
		snprintf(d.digest, sizeof(d.digest), "%s", it->digest);
		d.size = (int64_t)a->listed[i]->raw_len;
		if (oci_store_blob_exists(a->r.dst, a->r.dst_repo[i], &d) == 0) {
			int rc = oci_store_manifest_put(a->r.dst, a->r.dst_repo[i],
			                                it->tag ? it->tag : it->digest, a->listed[i], 0);
			if (rc == 0)
				it->status = SAFEKEEP_LISTED;
			else
				safekeep_fail(it, rc, error_msg());
		} else {   /* the catalog remembers more than the store holds: copy again */
			oci_manifest_free(a->listed[i]);
			a->listed[i] = NULL;
		}
	}
	a->r.copy[i] = it->status == SAFEKEEP_PENDING;
	error_clear();
	free(key);
}

static int open_store(struct ar *a, const char *path)
{
	int rc;

	if (a->export_tar)
		return ocitar_export_open(&a->r.dst, path);
	if ((rc = ocitar_open(&a->r.dst, path, OCITAR_WRITE)) < 0)
		return rc;
	char *abs = realpath(path, NULL);
	rc = catalog_store_id(a->r.o->cat, CATALOG_STORE_ARCHIVE, abs ? abs : path, &a->r.store_id);
	free(abs);
	if (rc == 0)
		rc = ocitar_refs(a->r.dst, collect_held, &a->held);
	return rc;
}

/* --- Recording, after the volume was read back ------------------------------- */

static int discard(void *ctx, const void *data, size_t len)
{
	(void)ctx;
	(void)data;
	(void)len;
	return 0;
}

/* A blob the store had before this run but the catalog does not know as
 * verified (a lost or older catalog): read it back now before saying so.
 * 1 when it needs a copy row (*rc set on failure). */
static int confirm_old(struct ar *a, size_t i, const struct xfer_object *ob, int *rc)
{
	struct oci_descriptor d = { 0 };
	struct oci_sink sink = { discard, NULL };

	if (catalog_copy_has(a->r.o->cat, a->r.store_id, ob->digest) == 0)
		return 0;
	error_clear();
	snprintf(d.digest, sizeof(d.digest), "%s", ob->digest);
	d.size = ob->size;
	*rc = oci_store_blob_get(a->r.dst, a->r.dst_repo[i], &d, &sink);
	return *rc == 0;
}

static int record_copied(struct ar *a, size_t i)
{
	struct safekeep_item *it = &a->r.v[i];
	const struct xfer_result *res = &a->r.res[i];
	struct catalog_image_manifest *ms = sk_manifests(res, a->r.dst, a->r.dst_repo[i]);
	struct catalog_image_object *obs = xcalloc(res->n_objects + 1, sizeof(*obs));
	struct catalog_image img = { a->r.store_id, it->registry, it->repo, it->tag, it->digest,
	                             ms, res->n_manifests, obs, 0, a->r.now, a->r.o->run_id, 1 };
	int rc = 0, complete = 0;

	for (size_t k = 0; rc == 0 && k < res->n_objects; k++) {
		const struct xfer_object *ob = &res->objects[k];
		if (ob->copied || confirm_old(a, i, ob, &rc))
			obs[img.n_objects++] = (struct catalog_image_object){ ob->digest, "read-back" };
	}
	if (rc == 0)
		rc = catalog_record_image(a->r.o->cat, &img, &complete);
	if (rc == 0 && !complete) {
		/* Some child was left out (--platform): the index's bytes name
		 * more than the store holds, so the image as a whole is not here. */
		it->status = SAFEKEEP_PARTIAL;
		free(it->msg);
		it->msg = xstrdup("not every platform was stored: no complete copy recorded");
	}
	free(ms);
	free(obs);
	return rc;
}

static int record_volume(struct ar *a, const struct ocitar_commit_info *info)
{
	int64_t vol = 0;
	int rc;

	if (!info->volume)
		return 0;
	rc = catalog_volume_add(a->r.o->cat, a->r.store_id, info->volume, info->size, info->sha256,
	                        a->r.o->run_id, &vol);
	for (size_t i = 0; rc == 0 && i < info->n_entries; i++)
		rc = catalog_location_put(a->r.o->cat, vol, info->entries[i].digest,
		                          info->entries[i].offset, info->entries[i].length);
	return rc;
}

/* One transaction: a crash before its commit records nothing, and the
 * next run finds the volume's blobs in the store and confirms them. */
static int record(struct ar *a, const struct ocitar_commit_info *info)
{
	catalog *cat = a->r.o->cat;
	int rc = catalog_begin(cat);

	if (rc == 0)
		rc = record_volume(a, info);
	for (size_t i = 0; rc == 0 && i < a->r.n; i++) {
		struct safekeep_item *it = &a->r.v[i];
		if (a->r.copy[i] && it->status == SAFEKEEP_PENDING)
			rc = record_copied(a, i);
		else if (it->status == SAFEKEEP_LISTED)
			rc = catalog_store_ref_put(cat, a->r.store_id, it->registry, it->repo, it->tag,
			                           it->digest, a->r.o->run_id);
	}
	if (rc < 0) {
		catalog_rollback(cat);
		return rc;
	}
	return catalog_commit(cat);
}

/* --- The run -------------------------------------------------------------------- */

static void finish_items(struct ar *a)
{
	for (size_t i = 0; i < a->r.n; i++) {
		struct safekeep_item *it = &a->r.v[i];
		if (a->r.copy[i] && it->status == SAFEKEEP_PENDING)
			it->status = SAFEKEEP_COPIED;
		if (a->r.copy[i] && it->status != SAFEKEEP_FAILED)
			sk_counts(it, &a->r.res[i]);
	}
}

static void fail_pending(struct ar *a, int rc)
{
	for (size_t i = 0; i < a->r.n; i++)
		if (a->r.v[i].status == SAFEKEEP_PENDING || a->r.v[i].status == SAFEKEEP_LISTED)
			safekeep_fail(&a->r.v[i], rc, error_msg());
}

static int run(const struct safekeep_options *o, const char *path, int export_tar,
               struct safekeep_item *v, size_t n, struct safekeep_volume *out)
{
	struct ar a = { 0 };
	struct ocitar_commit_info info = { 0 };
	int rc;

	memset(out, 0, sizeof(*out));
	sk_run_init(&a.r, o, v, n);
	a.export_tar = export_tar;
	a.listed = xcalloc(n + 1, sizeof(*a.listed));
	for (size_t i = 0; i < n; i++) {
		free(v[i].where);
		v[i].where = name_of(&v[i]);
		a.r.dst_repo[i] = xasprintf("%s/%s", v[i].registry, v[i].repo);
	}
	if ((rc = open_store(&a, path)) == 0) {
		for (size_t i = 0; i < n; i++)
			if (v[i].status == SAFEKEEP_PENDING)
				classify(&a, i);
		sk_copy(&a.r);
		rc = ocitar_commit(a.r.dst, &info);
	}
	if (rc == 0 && !export_tar)
		rc = record(&a, &info);
	if (rc < 0) {
		fail_pending(&a, rc);
	} else {
		finish_items(&a);
		out->volume = xstrdup_or_null(info.volume);
		out->size = info.size;
		/* What the volume really holds new, manifests included, each blob once. */
		for (size_t i = 0; i < info.n_entries; i++)
			out->bytes_written += info.entries[i].length;
		if (sk_failed(v, n))
			rc = error_set(RV_ERROR, "%zu of %zu images failed", sk_failed(v, n), n);
	}
	ocitar_commit_info_release(&info);
	for (size_t i = 0; i < n; i++)
		oci_manifest_free(a.listed[i]);
	free(a.listed);
	strlist_release(&a.held);
	sk_run_release(&a.r);
	return rc;
}

int safekeep_archive(const struct safekeep_options *o, const char *dir,
                     struct safekeep_item *v, size_t n, struct safekeep_volume *out)
{
	return run(o, dir, 0, v, n, out);
}

int safekeep_export(const struct safekeep_options *o, const char *file,
                    struct safekeep_item *v, size_t n, struct safekeep_volume *out)
{
	return run(o, file, 1, v, n, out);
}
