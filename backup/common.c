/*
 * common.c — small pieces backup, verify and rebuild share.
 */
#include <stdlib.h>
#include <string.h>

#include "backup/internal.h"
#include "oci/config.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/timeutil.h"
#include "util/banned.h"

int64_t backup_created(struct oci_store *store, const char *repo, const struct oci_manifest *m,
                       catalog *cat)
{
	const char *a = oci_annotation_get(m->annotations, m->n_annotations,
	                                   "org.opencontainers.image.created");
	int64_t t = 0;

	if (a && time_parse_rfc3339(a, &t) == 0 && t > 0)
		return t;
	if (m->kind == OCI_KIND_INDEX) {
		/* Children are recorded before their index. */
		for (size_t i = 0; i < m->n_manifests; i++) {
			int64_t c = 0;
			if (catalog_manifest_created(cat, m->manifests[i].digest, &c) == 0 && c > t)
				t = c;
		}
		error_clear();
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

int backup_split_name(const char *name, char **registry, char **repo, char **tag)
{
	const char *slash = strchr(name, '/');
	const char *at = strchr(name, '@');
	const char *end = at;

	if (!end) {
		const char *colon = strrchr(name, ':');
		/* "host:5000/repo" has a colon before the first slash: not a tag. */
		end = colon && slash && colon > slash ? colon : NULL;
	}
	if (!slash || !end || end < slash)
		return error_set(RV_EINVALID, "index entry name \"%s\" is not <registry>/<repo>:<tag>",
		                 name);
	*registry = xstrndup(name, (size_t)(slash - name));
	*repo = xstrndup(slash + 1, (size_t)(end - slash - 1));
	*tag = at ? NULL : xstrdup(end + 1);
	return 0;
}
