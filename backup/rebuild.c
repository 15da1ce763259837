/*
 * rebuild.c — `catalog rebuild --from DIR`: the catalog from the volumes
 * alone, for when it was lost or cannot be trusted.
 *
 * Every blob is re-hashed before it is recorded as a verified copy, and an
 * image whose closure is not complete afterwards (a blob failed, a child
 * is missing) keeps no copy row for its top manifest: a rebuilt catalog
 * promises no more than the old one could have.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "backup/backup.h"
#include "backup/internal.h"
#include "oci/reference.h"
#include "ocitar/ocitar.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/log.h"
#include "util/timeutil.h"
#include "util/banned.h"

struct rb {
	catalog *cat;
	struct oci_store *s;
	const char *dir;
	int64_t store_id, run_id, volume_id, when;
	const char *volume;
	struct rebuild_report *out;
};

static int file_sha256(const char *path, char out[OCI_DIGEST_MAX], int64_t *size)
{
	FILE *f = fopen(path, "rb");
	unsigned char buf[1 << 16];
	size_t n;

	if (!f)
		return error_set(RV_ENOTFOUND, "cannot open volume \"%s\"", path);
	oci_hasher *h = oci_hasher_new(OCI_SHA256);
	*size = 0;
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0) {
		oci_hasher_update(h, buf, n);
		*size += (int64_t)n;
	}
	int bad = ferror(f);
	fclose(f);
	oci_hasher_final(h, out);
	oci_hasher_free(h);
	return bad ? error_set(RV_ERROR, "cannot read volume \"%s\"", path) : 0;
}

static int entry(const struct ocitar_entry *e, void *ctx)
{
	struct rb *b = ctx;
	int rc = ocitar_verify_range(b->s, b->volume, e->offset, e->length, e->digest);

	if (rc == RV_EDIGEST) {
		b->out->bad++;   /* not recorded: it is not a copy of anything */
		error_clear();
		return 0;
	}
	if (rc == 0)
		rc = catalog_location_put(b->cat, b->volume_id, e->digest, e->offset, e->length);
	if (rc == 0)
		rc = catalog_copy_put(b->cat, b->store_id, e->digest, b->when, "rebuild", b->run_id);
	b->out->blobs += rc == 0;
	b->out->bytes += rc == 0 ? e->length : 0;
	return rc;
}

static int one_volume(struct rb *b, const char *volume)
{
	char *path = fs_path_join(b->dir, volume);
	char sha[OCI_DIGEST_MAX];
	struct stat st;
	int64_t size = 0;
	int rc = file_sha256(path, sha, &size);

	b->when = stat(path, &st) == 0 ? (int64_t)st.st_mtime : time_now();
	free(path);
	if (rc == 0)
		rc = catalog_volume_add(b->cat, b->store_id, volume, size, sha, b->run_id, &b->volume_id);
	b->volume = volume;
	if (rc == 0)
		rc = ocitar_scan_volume(b->s, volume, entry, b);
	b->out->volumes += rc == 0;
	return rc;
}

/* Records m and, for an index, every child the store holds. */
static int record_manifest(struct rb *b, const char *registry, const char *repo,
                           const char *full, const char *digest, int depth)
{
	struct oci_manifest *m = NULL;
	int rc;

	if (depth > 8)
		return error_set(RV_EINVALID, "manifest \"%s\": nested too deep", digest);
	if ((rc = oci_store_manifest_get(b->s, full, digest, &m)) < 0)
		return rc;
	for (size_t i = 0; rc == 0 && i < m->n_manifests; i++) {
		rc = record_manifest(b, registry, repo, full, m->manifests[i].digest, depth + 1);
		if (rc == RV_ENOTFOUND) {   /* an index kept without some child */
			error_clear();
			rc = 0;
		}
	}
	if (rc == 0)
		rc = catalog_manifest_put(b->cat, registry, repo, m, backup_created(b->s, full, m, b->cat));
	oci_manifest_free(m);
	return rc;
}

static int need_copy(const char *digest, int64_t size, int is_manifest, void *ctx)
{
	struct rb *b = ctx;
	(void)size;
	(void)is_manifest;
	return catalog_copy_has(b->cat, b->store_id, digest) == 0 ? 0 : RV_ENOTFOUND;
}

static int one_ref(const struct ocitar_ref *ref, void *ctx)
{
	struct rb *b = ctx;
	char *registry = NULL, *repo = NULL, *tag = NULL;
	int rc = backup_split_name(ref->name, &registry, &repo, &tag);

	if (rc == 0)
		rc = record_manifest(b, registry, repo, ref->repository, ref->digest, 0);
	/* An image whose manifest (or a child's) is missing or does not hash
	 * to its name is no copy of anything: leave it out, say so, and go on
	 * with the rest (a rebuild is for when things went wrong). */
	if (rc == RV_ENOTFOUND || rc == RV_EDIGEST || rc == RV_EINVALID || rc == RV_ETOOBIG) {
		log_warn("image \"%s\" not recorded: %s", ref->name, error_msg());
		error_clear();
		b->out->skipped++;
		rc = 0;
		goto done;
	}
	if (rc == 0)
		rc = catalog_store_ref_put(b->cat, b->store_id, registry, repo, tag, ref->digest,
		                           b->run_id);
	if (rc == 0 && tag)
		rc = catalog_tag_seen(b->cat, registry, repo, tag, ref->digest, b->when, b->run_id);
	/* The image's own copy row stands for its whole closure. */
	if (rc == 0 && catalog_closure(b->cat, ref->digest, need_copy, b) != 0) {
		error_clear();
		rc = catalog_copy_drop(b->cat, b->store_id, ref->digest);
	} else if (rc == 0) {
		b->out->images++;
	}
done:
	free(registry);
	free(repo);
	free(tag);
	return rc;
}

int backup_rebuild(catalog *cat, const char *dir, struct rebuild_report *out)
{
	struct rb b = { 0 };
	struct strlist volumes = STRLIST_INIT;
	char *abs = realpath(dir, NULL);
	int rc;

	memset(out, 0, sizeof(*out));
	b.cat = cat;
	b.dir = dir;
	b.out = out;
	if ((rc = ocitar_open(&b.s, dir, OCITAR_READ)) < 0)
		goto done;
	if ((rc = catalog_run_start(cat, "rebuild", "[]", &b.run_id)) < 0 ||
	    (rc = catalog_store_id(cat, CATALOG_STORE_ARCHIVE, abs ? abs : dir, &b.store_id)) < 0 ||
	    (rc = ocitar_volumes(b.s, &volumes)) < 0 || (rc = catalog_begin(cat)) < 0)
		goto done;
	for (size_t i = 0; rc == 0 && i < volumes.n; i++)
		rc = one_volume(&b, volumes.v[i]);
	if (rc == 0)
		rc = ocitar_refs(b.s, one_ref, &b);
	if (rc == 0)
		rc = catalog_commit(cat);
	else
		catalog_rollback(cat);
done:
	if (b.run_id)
		catalog_run_finish(cat, b.run_id, rc == 0 ? "ok" : "failed", NULL);
	strlist_release(&volumes);
	oci_store_close(b.s);
	free(abs);
	return rc;
}
