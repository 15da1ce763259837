/*
 * standby.c — images into a standby registry, verified by reading back.
 *
 * Incremental through the catalog: an image the catalog says the standby
 * holds, verified, under the same name costs nothing at the standby. After
 * copying, every manifest is read back and hashed and every blob found
 * with its size (xfer_verify) — each image as soon as the copy engine is
 * done with it, while the next images' blobs are still moving (issue 7);
 * only then is the image recorded, in its own transaction, so one failure
 * never costs another image its record. A
 * crash leaves images on the standby the catalog does not claim yet — the
 * next run moves no bytes for them (the blobs are there) and records them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "oci/reference.h"
#include "safekeep/internal.h"
#include "util/error.h"
#include "util/banned.h"

/* No request to the standby at all: that is what makes a scheduled rerun
 * cost one HEAD per tag at the source. */
static int unchanged(struct sk_run *r, const struct safekeep_item *it)
{
	char held[OCI_DIGEST_MAX];
	int same = 1;

	if (it->tag)
		same = catalog_store_ref_get(r->o->cat, r->store_id, it->registry, it->repo, it->tag,
		                             held) == 0 &&
		       strcmp(held, it->digest) == 0;
	same = same && catalog_copy_has(r->o->cat, r->store_id, it->digest) == 0;
	error_clear();
	return same;
}

/* Objects first, the image's own manifest last (catalog_record_image). */
static int record_item(struct sk_run *r, size_t i)
{
	struct safekeep_item *it = &r->v[i];
	const struct xfer_result *res = &r->res[i];
	struct catalog_image_manifest *ms = sk_manifests(res, r->dst, r->dst_repo[i]);
	struct catalog_image_object *obs = xcalloc(res->n_objects + 1, sizeof(*obs));
	struct catalog_image img = { r->store_id, it->registry, it->repo, it->tag, it->digest,
	                             ms, res->n_manifests, obs, res->n_objects, r->now,
	                             r->o->run_id, !res->partial };
	int complete = 0;

	/* xfer_verify() fetched every manifest and hashed it; blobs were
	 * found with their sizes. */
	for (size_t k = 0; k < res->n_objects; k++)
		obs[k] = (struct catalog_image_object){ res->objects[k].digest,
		                                        res->objects[k].is_manifest ? "read-back"
		                                                                    : "head" };
	int rc = catalog_record_image(r->o->cat, &img, &complete);
	if (rc == 0 && !complete) {
		it->status = SAFEKEEP_PARTIAL;
		free(it->msg);
		it->msg = xstrdup("not every platform was copied: no complete copy recorded");
	}
	free(ms);
	free(obs);
	return rc;
}

/* sk_run.on_copied: the read-back, while the copy goes on. */
static void read_back(struct sk_run *r, size_t i, const struct xfer_result *res)
{
	struct safekeep_item *it = &r->v[i];
	int rc = xfer_verify(r->dst, r->dst_repo[i], it->tag, res);

	if (rc < 0)
		safekeep_fail(it, rc, error_msg());
	else
		r->checked[i] = 1;
}

static void verify_and_record(struct sk_run *r)
{
	for (size_t i = 0; i < r->n; i++) {
		struct safekeep_item *it = &r->v[i];
		int rc;
		if (!r->copy[i] || it->status != SAFEKEEP_PENDING)
			continue;
		if (!r->checked[i] &&
		    (rc = xfer_verify(r->dst, r->dst_repo[i], it->tag, &r->res[i])) < 0) {
			safekeep_fail(it, rc, error_msg());
			continue;
		}
		if ((rc = record_item(r, i)) < 0) {
			safekeep_fail(it, rc, error_msg());
			continue;
		}
		if (it->status == SAFEKEEP_PENDING)
			it->status = SAFEKEEP_COPIED;
		sk_counts(it, &r->res[i]);
	}
}

static int open_destination(struct sk_run *r, const char *location, char **registry,
                            char **prefix)
{
	int rc = oci_ref_parse_location(location, registry, prefix);

	if (rc < 0)
		return error_wrap(rc, "standby");
	char *loc = *prefix ? xasprintf("%s/%s", *registry, *prefix) : xstrdup(*registry);
	rc = catalog_store_id(r->o->cat, CATALOG_STORE_REGISTRY, loc, &r->store_id);
	free(loc);
	if (rc == 0)
		rc = registry_store_open(&r->dst, r->o->session, *registry);
	return rc;
}

int safekeep_standby(const struct safekeep_options *o, const char *location,
                     struct safekeep_item *v, size_t n)
{
	struct sk_run r;
	char *registry = NULL, *prefix = NULL;
	int rc;

	sk_run_init(&r, o, v, n);
	r.on_copied = read_back;
	if ((rc = open_destination(&r, location, &registry, &prefix)) == 0) {
		for (size_t i = 0; i < n; i++) {
			struct safekeep_item *it = &v[i];
			const char *sep = it->tag ? ":" : "@";
			r.dst_repo[i] = prefix ? xasprintf("%s/%s", prefix, it->repo) : xstrdup(it->repo);
			free(it->where);
			it->where = xasprintf("%s/%s%s%s", registry, r.dst_repo[i], sep,
			                      it->tag ? it->tag : it->digest);
			if (it->status == SAFEKEEP_PENDING && unchanged(&r, it))
				it->status = SAFEKEEP_UNCHANGED;
			r.copy[i] = it->status == SAFEKEEP_PENDING;
		}
		sk_copy(&r);
		verify_and_record(&r);
		if (sk_failed(v, n))
			rc = error_set(RV_ERROR, "%zu of %zu images failed", sk_failed(v, n), n);
	} else {
		for (size_t i = 0; i < n; i++)
			if (v[i].status == SAFEKEEP_PENDING)
				safekeep_fail(&v[i], rc, error_msg());
	}
	sk_run_release(&r);
	free(registry);
	free(prefix);
	return rc;
}
