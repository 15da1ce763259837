/*
 * config.c — the few image-config fields the policy and `inspect` use
 * (image-spec config.md; Docker's image config has the same names).
 */
#include <stdlib.h>

#include <jansson.h>

#include "oci/config.h"
#include "util/error.h"
#include "util/str.h"
#include "util/timeutil.h"
#include "util/xalloc.h"
#include "util/banned.h"

static char *opt_string(json_t *obj, const char *key)
{
	json_t *v = json_object_get(obj, key);

	return json_is_string(v) ? xstrdup(json_string_value(v)) : NULL;
}

/* "created" feeds "newest N" and "younger_than" decisions. A missing,
 * unparsable or pre-1970 value (Go's zero time 0001-01-01 appears in
 * reproducible builds) is 0, which the policy reads as "unknown" and
 * replaces with the time regvault first saw the digest (ARCHITECTURE.md). */
static int64_t created_of(json_t *root)
{
	json_t *v = json_object_get(root, "created");
	int64_t t;

	if (!json_is_string(v) || time_parse_rfc3339(json_string_value(v), &t) < 0 || t < 0)
		return 0;
	return t;
}

int oci_config_parse(struct oci_config *out, const void *raw, size_t len)
{
	struct oci_config c = OCI_CONFIG_INIT;
	json_error_t jerr;
	json_t *root, *rootfs;
	char q[160];

	if (len > OCI_CONFIG_MAX)
		return error_set(RV_ETOOBIG, "config: %zu bytes is over the %zu-byte limit", len,
		                 OCI_CONFIG_MAX);
	root = json_loadb(raw, len, 0, &jerr);
	if (!root)
		return error_set(RV_EINVALID, "config: invalid JSON at line %d column %d: %s",
		                 jerr.line, jerr.column, str_printable(q, sizeof(q), jerr.text));
	if (!json_is_object(root)) {
		json_decref(root);
		return error_set(RV_EINVALID, "config: not a JSON object");
	}
	c.created = created_of(root);
	c.os = opt_string(root, "os");
	c.architecture = opt_string(root, "architecture");
	c.variant = opt_string(root, "variant");
	rootfs = json_object_get(root, "rootfs");
	c.n_diff_ids = json_array_size(json_object_get(rootfs, "diff_ids"));
	json_decref(root);
	*out = c;
	return 0;
}

void oci_config_release(struct oci_config *c)
{
	free(c->os);
	free(c->architecture);
	free(c->variant);
	*c = (struct oci_config)OCI_CONFIG_INIT;
}
