/*
 * record.c — the one way a store's copy of a whole image is written down.
 *
 * Backup and mirror both end an image this way, so the invariant lives in
 * one place: the image's own copy row comes last, and only when the
 * catalog can see a copy of every part of it in the same store.
 */
#include <string.h>

#include "catalog/internal.h"
#include "util/error.h"
#include "util/banned.h"

struct closure_check {
	catalog *c;
	int64_t store_id;
};

static int has_copy(const char *digest, int64_t size, int is_manifest, void *ctx)
{
	struct closure_check *cc = ctx;
	(void)size;
	(void)is_manifest;
	return catalog_copy_has(cc->c, cc->store_id, digest);
}

/* ARCHITECTURE.md "Created": an index without its own time takes its
 * newest child's. Children come first in the list, so they are recorded. */
static int64_t created_of(catalog *c, const struct catalog_image_manifest *im)
{
	int64_t t = im->created;

	if (t != 0 || im->m->kind != OCI_KIND_INDEX)
		return t;
	for (size_t i = 0; i < im->m->n_manifests; i++) {
		int64_t child = 0;
		if (catalog_manifest_created(c, im->m->manifests[i].digest, &child) == 0 && child > t)
			t = child;
	}
	error_clear();   /* a child the store does not hold has no time here */
	return t;
}

static int record_parts(catalog *c, const struct catalog_image *img)
{
	int rc = 0;

	for (size_t k = 0; rc == 0 && k < img->n_manifests; k++)
		rc = catalog_manifest_put(c, img->registry, img->repo, img->manifests[k].m,
		                          created_of(c, &img->manifests[k]));
	for (size_t k = 0; rc == 0 && k < img->n_objects; k++) {
		const struct catalog_image_object *ob = &img->objects[k];
		if (strcmp(ob->digest, img->digest) != 0)
			rc = catalog_copy_put(c, img->store_id, ob->digest, img->verified_at, ob->how,
			                      img->run_id);
	}
	for (size_t k = 0; rc == 0 && k < img->n_manifests; k++) {
		const struct catalog_image_manifest *im = &img->manifests[k];
		if (im->top && strcmp(im->m->digest, img->digest) != 0)
			rc = catalog_store_ref_put(c, img->store_id, img->registry, img->repo, im->tag,
			                           im->m->digest, img->run_id);
	}
	if (rc == 0 && img->held)
		rc = catalog_store_ref_put(c, img->store_id, img->registry, img->repo, img->tag,
		                           img->digest, img->run_id);
	return rc;
}

int catalog_record_image(catalog *c, const struct catalog_image *img, int *complete)
{
	struct catalog_op op;
	struct closure_check cc = { c, img->store_id };
	int rc = catalog_op_begin(c, &op);

	*complete = 0;
	if (rc)
		return rc;
	rc = record_parts(c, img);
	if (rc == 0 && img->held && catalog_closure(c, img->digest, has_copy, &cc) == 0) {
		*complete = 1;
		rc = catalog_copy_put(c, img->store_id, img->digest, img->verified_at, "read-back",
		                      img->run_id);
	} else if (rc == 0) {
		error_clear();   /* incomplete is an answer, not an error */
	}
	return catalog_op_end(c, &op, rc);
}

int catalog_copies_drop(catalog *c, const struct catalog_copy_ref *v, size_t n)
{
	struct catalog_op op;
	int rc = catalog_op_begin(c, &op);

	if (rc)
		return rc;
	for (size_t i = 0; rc == 0 && i < n; i++)
		rc = catalog_copy_drop(c, v[i].store_id, v[i].digest);
	return catalog_op_end(c, &op, rc);
}
