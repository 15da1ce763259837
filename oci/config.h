/*
 * config.h — the few fields of an image configuration blob we read.
 */
#ifndef RV_OCI_CONFIG_H
#define RV_OCI_CONFIG_H

#include <stddef.h>
#include <stdint.h>

struct oci_config {
	int64_t created;     /* epoch seconds; 0 when absent, unparsable or before 1970 */
	char *os;            /* NULL when absent */
	char *architecture;
	char *variant;
	size_t n_diff_ids;   /* rootfs.diff_ids count */
};

#define OCI_CONFIG_INIT { 0, NULL, NULL, NULL, 0 }

/* Config blobs we parse are capped: they are JSON metadata, not data. */
#define OCI_CONFIG_MAX ((size_t)8 << 20)

/* Parses an image config (OCI or Docker). Unknown fields are ignored, and
 * so are known ones of the wrong type; invalid JSON or a non-object is
 * RV_EINVALID, over OCI_CONFIG_MAX RV_ETOOBIG. */
int oci_config_parse(struct oci_config *out, const void *raw, size_t len);
void oci_config_release(struct oci_config *c);

#endif
