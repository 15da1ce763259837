/*
 * fuzz_manifest.c — libFuzzer target for oci_manifest_parse (and, on the
 * same bytes, oci_config_parse).
 *
 * Seeds stay plain JSON: each input is parsed once without a Content-Type
 * and once with one picked by the input length. An accepted manifest must
 * keep its raw bytes exactly, carry their sha256, and hold only valid
 * descriptors of the kind it claims.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "oci/config.h"
#include "oci/manifest.h"
#include "util/error.h"
#include "util/banned.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const content_types[] = {
	NULL,
	OCI_MT_IMAGE_MANIFEST,
	OCI_MT_IMAGE_INDEX,
	OCI_MT_DOCKER_MANIFEST,
	OCI_MT_DOCKER_LIST "; charset=utf-8",
	OCI_MT_DOCKER_SCHEMA1_SIGNED,
	"application/json",
};

static void check_descriptor(const struct oci_descriptor *d)
{
	struct oci_descriptor copy;
	char *p;

	if (!d->media_type || d->size < 0 || oci_digest_validate(d->digest) != 0)
		abort();
	oci_descriptor_copy(&copy, d);
	if (strcmp(copy.digest, d->digest) != 0 || copy.n_urls != d->n_urls)
		abort();
	(void)oci_descriptor_is_foreign(&copy);
	p = oci_platform_string(copy.platform);
	free(p);
	oci_descriptor_release(&copy);
}

static void check_manifest(const struct oci_manifest *m, const uint8_t *data, size_t size)
{
	char d[OCI_DIGEST_MAX];

	if (m->raw_len != size || memcmp(m->raw, data, size) != 0 || m->raw[size] != '\0')
		abort();
	oci_digest_compute(d, OCI_SHA256, data, size);
	if (strcmp(d, m->digest) != 0 || !m->media_type)
		abort();
	if (m->kind == OCI_KIND_IMAGE) {
		if (m->n_manifests)
			abort();
		check_descriptor(&m->config);
	} else if (m->kind != OCI_KIND_INDEX || m->n_layers) {
		abort();
	}
	for (size_t i = 0; i < m->n_layers; i++)
		check_descriptor(&m->layers[i]);
	for (size_t i = 0; i < m->n_manifests; i++)
		check_descriptor(&m->manifests[i]);
	if (m->subject)
		check_descriptor(m->subject);
	(void)oci_annotation_get(m->annotations, m->n_annotations, "org.opencontainers.image.created");
}

static void parse_once(const uint8_t *data, size_t size, const char *ct)
{
	struct oci_manifest *m = NULL;
	int rc = oci_manifest_parse(&m, data, size, ct);

	if (rc == 0) {
		check_manifest(m, data, size);
		oci_manifest_free(m);
	} else if (m || rc >= 0 || strchr(error_msg(), '\n')) {
		abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct oci_config c = OCI_CONFIG_INIT;

	parse_once(data, size, NULL);
	parse_once(data, size, content_types[size % (sizeof(content_types) / sizeof(content_types[0]))]);
	if (oci_config_parse(&c, data, size) == 0)
		oci_config_release(&c);
	return 0;
}
