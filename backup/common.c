/*
 * common.c — small pieces backup, verify and rebuild share.
 */
#include <stdlib.h>
#include <string.h>

#include "backup/internal.h"
#include "util/buf.h"
#include "util/error.h"
#include "xfer/xfer.h"
#include "util/banned.h"

static int64_t catalog_created(const char *digest, void *ctx)
{
	int64_t t = 0;
	if (catalog_manifest_created(ctx, digest, &t) < 0)
		error_clear();
	return t;
}

int64_t backup_created(struct oci_store *store, const char *repo, const struct oci_manifest *m,
                       catalog *cat)
{
	/* Children are recorded before their index, so the catalog knows them. */
	return xfer_created(store, repo, m, catalog_created, cat);
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
