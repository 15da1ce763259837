/*
 * created.c — when an image was made, for retention rules ("newest N",
 * "younger than").
 */
#include <stdlib.h>

#include "oci/config.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/timeutil.h"
#include "xfer/xfer.h"
#include "util/banned.h"

int64_t xfer_created(struct oci_store *store, const char *repo, const struct oci_manifest *m,
                     xfer_created_fn child_created, void *ctx)
{
	const char *a = oci_annotation_get(m->annotations, m->n_annotations,
	                                   "org.opencontainers.image.created");
	int64_t t = 0;

	if (a && time_parse_rfc3339(a, &t) == 0 && t > 0)
		return t;
	t = 0;
	if (m->kind == OCI_KIND_INDEX) {
		for (size_t i = 0; child_created && i < m->n_manifests; i++) {
			int64_t c = child_created(m->manifests[i].digest, ctx);
			if (c > t)
				t = c;
		}
		return t;
	}
	struct buf raw = BUF_INIT;
	struct oci_config cfg = OCI_CONFIG_INIT;
	if (m->kind == OCI_KIND_IMAGE &&
	    oci_store_blob_read(store, repo, &m->config, &raw, OCI_CONFIG_MAX) == 0 &&
	    oci_config_parse(&cfg, raw.ptr, raw.len) == 0)
		t = cfg.created;
	error_clear();   /* an artifact's config is not an image config: no time */
	oci_config_release(&cfg);
	buf_release(&raw);
	return t;
}
