/*
 * verify.c — read a copy back before anyone counts on it.
 *
 * "Deleted only with a verified copy" (ARCHITECTURE.md, invariant 3) needs
 * more than a 201 from the destination: the manifests must come back with
 * the same bytes and every blob must be there. Archives verify their own
 * volumes on commit; this is for stores that answer requests.
 */
#include <stdio.h>
#include <string.h>

#include "util/error.h"
#include "xfer/xfer.h"
#include "util/banned.h"

static int manifests_back(struct oci_store *dst, const char *repo, const struct xfer_result *r)
{
	int rc = 0;

	for (size_t k = 0; rc == 0 && k < r->n_manifests; k++) {
		struct oci_manifest *m = NULL;
		if (!r->manifests[k].held)
			continue;
		rc = oci_store_manifest_get(dst, repo, r->manifests[k].m->digest, &m);
		oci_manifest_free(m);
	}
	return rc;
}

static int tag_back(struct oci_store *dst, const char *repo, const char *tag,
                    const struct xfer_result *r)
{
	struct oci_manifest_info info;
	int rc = oci_store_manifest_head(dst, repo, tag, &info);

	if (rc == 0 && strcmp(info.digest, r->digest) != 0)
		rc = error_set(RV_EDIGEST, "\"%s:%s\" names %s on %s, not %s", repo, tag, info.digest,
		               dst->name, r->digest);
	return rc;
}

static int blobs_back(struct oci_store *dst, const char *repo, const struct xfer_result *r)
{
	int rc = 0;

	for (size_t k = 0; rc == 0 && k < r->n_objects; k++) {
		const struct xfer_object *ob = &r->objects[k];
		struct oci_descriptor d = { 0 };
		if (ob->is_manifest)
			continue;
		snprintf(d.digest, sizeof(d.digest), "%s", ob->digest);
		d.size = ob->size;
		/* blob_exists answers "not found" for a blob of another size too. */
		rc = oci_store_blob_exists(dst, repo, &d);
	}
	return rc;
}

int xfer_verify(struct oci_store *dst, const char *dst_repo, const char *tag,
                const struct xfer_result *r)
{
	int rc = manifests_back(dst, dst_repo, r);

	if (rc == 0 && tag && !r->partial)
		rc = tag_back(dst, dst_repo, tag, r);
	if (rc == 0)
		rc = blobs_back(dst, dst_repo, r);
	return rc;
}
