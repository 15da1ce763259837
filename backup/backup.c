/*
 * backup.c — registries → an archive store (or a portable tarball).
 *
 * The order is the safety argument: resolve tags and record what the
 * primary had; copy into a volume that only ocitar_commit() turns into a
 * kept file, after reading every new blob back; only then record copies,
 * each image's own manifest after everything it needs. A crash anywhere
 * leaves at worst a temp volume and no catalog row claiming a copy.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backup/backup.h"
#include "backup/internal.h"
#include "oci/config.h"
#include "oci/reference.h"
#include "ocitar/ocitar.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/log.h"
#include "util/str.h"
#include "util/timeutil.h"
#include "util/banned.h"

/* One image of the run. */
struct item {
	char *registry, *repo, *tag;   /* tag NULL: named by digest */
	char digest[OCI_DIGEST_MAX];
	char *name;                    /* "registry/repo:tag" or "registry/repo@digest" */
	char *dst_repo;                /* "registry/repo": names inside an archive */
	enum backup_status status;
	int rc;
	char *msg;
	struct xfer_result res;        /* BACKUP_COPIED */
	struct oci_manifest *listed;   /* BACKUP_LISTED: bytes from the catalog */
};

struct run {
	const struct backup_options *o;
	struct item *items;
	size_t n, alloc;
	struct oci_store *archive;
	int export_tar;
	int64_t store_id, run_id, now;
	struct strlist held;           /* "name digest" the store lists already */
};

static void item_fail(struct item *it, int rc, const char *msg)
{
	it->status = BACKUP_FAILED;
	it->rc = rc;
	free(it->msg);
	it->msg = xstrdup(msg && *msg ? msg : "failed");
}

static void add_item(struct run *r, const char *registry, const char *repo, const char *ref)
{
	r->items = xgrow(r->items, sizeof(*r->items), r->n + 1, &r->alloc);
	struct item *it = &r->items[r->n++];
	memset(it, 0, sizeof(*it));
	it->registry = xstrdup(registry);
	it->repo = xstrdup(repo);
	it->dst_repo = xasprintf("%s/%s", registry, repo);
	if (strchr(ref, ':')) {
		snprintf(it->digest, sizeof(it->digest), "%s", ref);
		it->name = xasprintf("%s@%s", it->dst_repo, ref);
	} else {
		it->tag = xstrdup(ref);
		it->name = xasprintf("%s:%s", it->dst_repo, ref);
	}
}

/* --- Sources ----------------------------------------------------------------- */

/* Every SOURCE's images, resolved, as items. */
static int gather(struct run *r, struct xfer_selection *sel)
{
	int rc = xfer_select(sel, r->o->sources, r->o->n_sources, NULL, r->o->xfer.jobs,
	                     registry_store_opener, r->o->session);

	for (size_t i = 0; rc == 0 && i < sel->n_picks; i++) {
		const struct xfer_pick *p = &sel->picks[i];
		add_item(r, sel->origins[p->origin].registry, p->repo, p->ref);
		struct item *it = &r->items[r->n - 1];
		if (p->rc < 0)
			item_fail(it, p->rc, p->msg);
		else
			memcpy(it->digest, p->digest, sizeof(it->digest));
	}
	return rc;
}

static int record_tags(struct run *r)
{
	int rc = 0;

	for (size_t i = 0; i < r->n && rc == 0; i++) {
		struct item *it = &r->items[i];
		if (it->status != BACKUP_FAILED && it->tag)
			rc = catalog_tag_seen(r->o->cat, it->registry, it->repo, it->tag, it->digest,
			                      r->now, r->run_id);
	}
	return rc;
}

/* --- Deciding what to copy ----------------------------------------------------- */

static int collect_held(const struct ocitar_ref *ref, void *ctx)
{
	struct strlist *held = ctx;
	strlist_add_owned(held, xasprintf("%s %s", ref->name, ref->digest));
	return 0;
}

/* UNCHANGED when the store lists this name at this digest; LISTED when
 * the store holds the digest (verified, per the catalog) under another
 * name; otherwise it must be copied. */
static void classify(struct run *r, struct item *it)
{
	char *key = xasprintf("%s %s", it->name, it->digest);
	struct oci_descriptor d = { 0 };

	if (strlist_contains(&r->held, key)) {
		it->status = BACKUP_UNCHANGED;
	} else if (!r->export_tar && catalog_copy_has(r->o->cat, r->store_id, it->digest) == 0 &&
	           catalog_manifest_get(r->o->cat, it->digest, &it->listed) == 0) {
		snprintf(d.digest, sizeof(d.digest), "%s", it->digest);
		d.size = (int64_t)it->listed->raw_len;
		if (oci_store_blob_exists(r->archive, it->dst_repo, &d) == 0) {
			it->status = BACKUP_LISTED;
		} else {   /* the catalog remembers more than the store holds: copy again */
			oci_manifest_free(it->listed);
			it->listed = NULL;
		}
	}
	error_clear();
	free(key);
}

static int list_known(struct run *r, struct item *it)
{
	int rc = oci_store_manifest_put(r->archive, it->dst_repo, it->tag ? it->tag : it->digest,
	                                it->listed, 0);
	if (rc < 0)
		item_fail(it, rc, error_msg());
	return rc;
}

/* Copies the items of one registry that are neither unchanged nor listed. */
static void copy_from(struct run *r, struct oci_store *rs, const char *registry)
{
	struct xfer_image *imgs = xcalloc(r->n + 1, sizeof(*imgs));
	struct item **its = xcalloc(r->n + 1, sizeof(*its));
	struct xfer_result *res;
	size_t n = 0;

	for (size_t i = 0; i < r->n; i++) {
		struct item *it = &r->items[i];
		if (it->status != BACKUP_COPIED || it->listed || strcmp(it->registry, registry) != 0)
			continue;
		imgs[n] = (struct xfer_image){ it->repo, it->tag ? it->tag : it->digest, it->dst_repo,
		                               NULL };
		its[n++] = it;
	}
	res = xcalloc(n + 1, sizeof(*res));
	xfer_copy(rs, r->archive, imgs, n, &r->o->xfer, res);
	for (size_t i = 0; i < n; i++) {
		its[i]->res = res[i];
		if (res[i].rc != 0)
			item_fail(its[i], res[i].rc, res[i].msg);
		else if (strcmp(res[i].digest, its[i]->digest) != 0)
			/* The tag moved between HEAD and GET: keep what was copied. */
			memcpy(its[i]->digest, res[i].digest, sizeof(its[i]->digest));
	}
	free(res);
	free(its);
	free(imgs);
}

static int any_viable(const struct run *r)
{
	for (size_t i = 0; i < r->n; i++)
		if (r->items[i].status != BACKUP_FAILED)
			return 1;
	return 0;
}

static int open_archive(struct run *r)
{
	const char *to = r->o->to;
	int rc;

	r->export_tar = str_has_suffix(to, ".tar");
	if (r->export_tar)
		return ocitar_export_open(&r->archive, to);
	if ((rc = ocitar_open(&r->archive, to, OCITAR_WRITE)) < 0)
		return rc;
	char *abs = realpath(to, NULL);
	rc = catalog_store_id(r->o->cat, CATALOG_STORE_ARCHIVE, abs ? abs : to, &r->store_id);
	free(abs);
	if (rc == 0)
		rc = ocitar_refs(r->archive, collect_held, &r->held);
	return rc;
}

static void copy_all(struct run *r, const struct xfer_selection *sel)
{
	for (size_t i = 0; i < r->n; i++) {
		struct item *it = &r->items[i];
		if (it->status == BACKUP_FAILED)
			continue;
		it->status = BACKUP_COPIED;
		classify(r, it);
		if (it->status == BACKUP_LISTED)
			list_known(r, it);
	}
	for (size_t k = 0; k < sel->n_origins; k++)
		copy_from(r, sel->origins[k].store, sel->origins[k].registry);
}

/* Fills the report's items and counters. */
static void report_items(struct run *r, struct backup_report *out)
{
	out->items = xcalloc(r->n + 1, sizeof(*out->items));
	out->n_items = r->n;
	for (size_t i = 0; i < r->n; i++) {
		struct item *it = &r->items[i];
		struct backup_item *bi = &out->items[i];
		bi->ref = xstrdup(it->name);
		memcpy(bi->digest, it->digest, sizeof(bi->digest));
		bi->status = it->status;
		bi->bytes_written = it->status == BACKUP_COPIED || it->status == BACKUP_PARTIAL
		                            ? it->res.bytes_copied
		                            : 0;
		bi->rc = it->rc;
		bi->msg = xstrdup_or_null(it->msg);
		out->copied += it->status == BACKUP_COPIED;
		out->partial += it->status == BACKUP_PARTIAL;
		out->listed += it->status == BACKUP_LISTED;
		out->unchanged += it->status == BACKUP_UNCHANGED;
		out->failed += it->status == BACKUP_FAILED;
	}
}

static void release_run(struct run *r)
{
	for (size_t i = 0; i < r->n; i++) {
		struct item *it = &r->items[i];
		free(it->registry);
		free(it->repo);
		free(it->tag);
		free(it->name);
		free(it->dst_repo);
		free(it->msg);
		xfer_result_release(&it->res);
		oci_manifest_free(it->listed);
	}
	free(r->items);
	strlist_release(&r->held);
	oci_store_close(r->archive);
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
static int confirm_old(struct run *r, struct item *it, const struct xfer_object *ob, int *rc)
{
	struct oci_descriptor d = { 0 };
	struct oci_sink sink = { discard, NULL };

	if (catalog_copy_has(r->o->cat, r->store_id, ob->digest) == 0)
		return 0;
	error_clear();
	snprintf(d.digest, sizeof(d.digest), "%s", ob->digest);
	d.size = ob->size;
	*rc = oci_store_blob_get(r->archive, it->dst_repo, &d, &sink);
	return *rc == 0;
}

static int record_copied(struct run *r, struct item *it)
{
	const struct xfer_result *res = &it->res;
	struct catalog_image_manifest *ms = xcalloc(res->n_manifests + 1, sizeof(*ms));
	struct catalog_image_object *obs = xcalloc(res->n_objects + 1, sizeof(*obs));
	struct catalog_image img = { r->store_id, it->registry, it->repo, it->tag, it->digest,
	                             ms, res->n_manifests, obs, 0, r->now, r->run_id, 1 };
	int rc = 0, complete = 0;

	/* An index's own time comes from its children: the catalog fills it. */
	for (size_t k = 0; k < res->n_manifests; k++) {
		const struct xfer_manifest *xm = &res->manifests[k];
		ms[k] = (struct catalog_image_manifest){
			xm->m, xm->top, xm->tag, xfer_created(r->archive, it->dst_repo, xm->m, NULL, NULL)
		};
	}
	for (size_t k = 0; rc == 0 && k < res->n_objects; k++) {
		const struct xfer_object *ob = &res->objects[k];
		if (ob->copied || confirm_old(r, it, ob, &rc))
			obs[img.n_objects++] = (struct catalog_image_object){ ob->digest, "read-back" };
	}
	if (rc == 0)
		rc = catalog_record_image(r->o->cat, &img, &complete);
	if (rc == 0 && !complete) {
		/* Some child was left out (--platform): the index's bytes name
		 * more than the store holds, so the image as a whole is not here. */
		it->status = BACKUP_PARTIAL;
		free(it->msg);
		it->msg = xstrdup("not every platform was stored: no complete copy recorded");
	}
	free(ms);
	free(obs);
	return rc;
}

static int record_volume(struct run *r, const struct ocitar_commit_info *info)
{
	int64_t vol = 0;
	int rc;

	if (!info->volume)
		return 0;
	rc = catalog_volume_add(r->o->cat, r->store_id, info->volume, info->size, info->sha256,
	                        r->run_id, &vol);
	for (size_t i = 0; rc == 0 && i < info->n_entries; i++)
		rc = catalog_location_put(r->o->cat, vol, info->entries[i].digest,
		                          info->entries[i].offset, info->entries[i].length);
	return rc;
}

/* One transaction: a crash before its commit records nothing, and the
 * next run finds the volume's blobs in the store and confirms them. */
static int backup_record(struct run *r, const struct ocitar_commit_info *info)
{
	int rc = catalog_begin(r->o->cat);

	if (rc == 0)
		rc = record_volume(r, info);
	for (size_t i = 0; rc == 0 && i < r->n; i++) {
		struct item *it = &r->items[i];
		if (it->status == BACKUP_COPIED)
			rc = record_copied(r, it);
		else if (it->status == BACKUP_LISTED)
			rc = catalog_store_ref_put(r->o->cat, r->store_id, it->registry, it->repo, it->tag,
			                           it->digest, r->run_id);
	}
	if (rc < 0) {
		catalog_rollback(r->o->cat);
		return rc;
	}
	return catalog_commit(r->o->cat);
}

int backup_run(const struct backup_options *o, struct backup_report *out)
{
	struct run r = { 0 };
	struct xfer_selection sel = { 0 };
	struct ocitar_commit_info info = { 0 };
	int rc;

	memset(out, 0, sizeof(*out));
	r.o = o;
	r.now = time_now();
	out->path = xstrdup(o->to);
	if ((rc = catalog_run_start(o->cat, "backup", o->args_json, &r.run_id)) < 0)
		goto done;
	out->run_id = r.run_id;
	if ((rc = gather(&r, &sel)) < 0 || (rc = record_tags(&r)) < 0)
		goto done;
	if (!any_viable(&r)) {   /* every tag failed to resolve: create no store */
		report_items(&r, out);
		rc = error_set(RV_ERROR, "%zu of %zu images failed", out->failed, r.n);
		goto done;
	}
	if ((rc = open_archive(&r)) < 0)
		goto done;
	copy_all(&r, &sel);
	if ((rc = ocitar_commit(r.archive, &info)) < 0)
		goto done;
	if (!r.export_tar && (rc = backup_record(&r, &info)) < 0)
		goto done;
	out->volume = xstrdup_or_null(info.volume);
	out->volume_size = info.size;
	report_items(&r, out);
	/* What the volume really holds new, manifests included, each blob once. */
	for (size_t i = 0; i < info.n_entries; i++)
		out->bytes_written += info.entries[i].length;
	if (out->failed)
		rc = error_set(RV_ERROR, "%zu of %zu images failed", out->failed, r.n);
done:
	if (r.run_id)
		catalog_run_finish(o->cat, r.run_id,
		                   rc == 0 ? "ok" : out->failed && out->failed < r.n ? "partial" : "failed",
		                   NULL);
	ocitar_commit_info_release(&info);
	release_run(&r);
	xfer_selection_release(&sel);
	return rc;
}

void backup_report_release(struct backup_report *r)
{
	for (size_t i = 0; i < r->n_items; i++) {
		free(r->items[i].ref);
		free(r->items[i].msg);
	}
	free(r->items);
	free(r->volume);
	free(r->path);
	memset(r, 0, sizeof(*r));
}
