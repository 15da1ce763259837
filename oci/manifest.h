/*
 * manifest.h — OCI and Docker manifests and indexes, read but never rewritten.
 *
 * The raw bytes are the manifest: they are kept exactly as received and are
 * what gets stored and pushed (image-spec: digests are over exact bytes;
 * distribution-spec: a registry MUST store the bytes it was given). The
 * parsed fields below are a read-only view for walking the graph.
 */
#ifndef RV_OCI_MANIFEST_H
#define RV_OCI_MANIFEST_H

#include <stddef.h>
#include <stdint.h>
#include "oci/digest.h"

#define OCI_MT_IMAGE_MANIFEST "application/vnd.oci.image.manifest.v1+json"
#define OCI_MT_IMAGE_INDEX "application/vnd.oci.image.index.v1+json"
#define OCI_MT_DOCKER_MANIFEST "application/vnd.docker.distribution.manifest.v2+json"
#define OCI_MT_DOCKER_LIST "application/vnd.docker.distribution.manifest.list.v2+json"
#define OCI_MT_DOCKER_SCHEMA1 "application/vnd.docker.distribution.manifest.v1+json"
#define OCI_MT_DOCKER_SCHEMA1_SIGNED "application/vnd.docker.distribution.manifest.v1+prettyjws"
#define OCI_MT_IMAGE_CONFIG "application/vnd.oci.image.config.v1+json"
#define OCI_MT_DOCKER_CONFIG "application/vnd.docker.container.image.v1+json"
#define OCI_MT_EMPTY "application/vnd.oci.empty.v1+json"

/* Every manifest type we read, for the Accept header (distribution v2.8
 * answers 404 without the OCI types, and rewrites schema2 to schema1 with a
 * different digest without the Docker ones: send all four). */
#define OCI_MANIFEST_ACCEPT \
	OCI_MT_IMAGE_INDEX ", " OCI_MT_IMAGE_MANIFEST ", " \
	OCI_MT_DOCKER_LIST ", " OCI_MT_DOCKER_MANIFEST

/* distribution-spec: registries SHOULD accept at least 4 MiB; v2.8 caps
 * pushes there. We refuse to read more. */
#define OCI_MANIFEST_MAX ((size_t)4 << 20)

enum oci_kind {
	OCI_KIND_UNKNOWN = 0,
	OCI_KIND_IMAGE,    /* OCI image manifest or Docker schema2 manifest */
	OCI_KIND_INDEX,    /* OCI image index or Docker manifest list */
	OCI_KIND_SCHEMA1,  /* Docker schema1: recognised, not supported */
};

/* The kind a media type names (parameters after ';' ignored). */
enum oci_kind oci_media_type_kind(const char *media_type);

struct oci_kv {
	char *key;
	char *value;
};

struct oci_platform {
	char *os;
	char *architecture;
	char *variant;     /* NULL when absent */
	char *os_version;  /* NULL when absent */
};

struct oci_descriptor {
	char *media_type;
	char digest[OCI_DIGEST_MAX];
	int64_t size;
	char *artifact_type;             /* NULL when absent */
	struct oci_platform *platform;   /* NULL when absent */
	struct oci_kv *annotations;
	size_t n_annotations;
	char **urls;                     /* foreign layers; never uploaded */
	size_t n_urls;
};

struct oci_manifest {
	enum oci_kind kind;
	/* The body's mediaType, else the Content-Type given, else inferred
	 * from the shape (manifests[] → OCI index, config+layers → OCI manifest). */
	char *media_type;
	unsigned char *raw;              /* exact bytes, owned; a NUL follows (not in raw_len) */
	size_t raw_len;
	char digest[OCI_DIGEST_MAX];     /* sha256 of raw */
	char *artifact_type;             /* NULL when absent */
	struct oci_descriptor config;    /* OCI_KIND_IMAGE only */
	struct oci_descriptor *layers;   /* OCI_KIND_IMAGE only */
	size_t n_layers;
	struct oci_descriptor *manifests;/* OCI_KIND_INDEX only */
	size_t n_manifests;
	struct oci_descriptor *subject;  /* NULL when absent */
	struct oci_kv *annotations;
	size_t n_annotations;
};

/* Parses raw (copied into the result) as a manifest or index.
 * content_type may be NULL; one that names no manifest kind
 * ("application/json") is ignored. Refuses, with RV_EINVALID and a one-line
 * message naming the field ("manifest: layers[2].digest: invalid digest
 * \"sha256:zz\""): invalid JSON, duplicate keys, a non-object, schemaVersion
 * other than 2, a descriptor without a valid digest/size/mediaType, a
 * platform without os/architecture, a body mediaType whose kind contradicts
 * content_type's. Over OCI_MANIFEST_MAX: RV_ETOOBIG. RV_EUNSUPPORTED for
 * schema1, a body mediaType naming no manifest kind, and descriptor digests
 * of algorithms other than sha256/sha512 (we could not verify them).
 * Unknown config/layer media types and artifactTypes are accepted
 * (image-spec manifest.md). JSON null in an optional field reads as absent,
 * in layers/manifests as an empty array. */
int oci_manifest_parse(struct oci_manifest **out, const void *raw, size_t len,
                       const char *content_type);
void oci_manifest_free(struct oci_manifest *m);

/* The value of key, NULL when absent. */
const char *oci_annotation_get(const struct oci_kv *kv, size_t n, const char *key);
/* "os/arch[/variant]"; "" for NULL. Caller frees. */
char *oci_platform_string(const struct oci_platform *p);
/* 1 for layers that must not be uploaded (foreign Docker layers, OCI
 * non-distributable types, any descriptor with urls). */
int oci_descriptor_is_foreign(const struct oci_descriptor *d);

void oci_descriptor_release(struct oci_descriptor *d);
/* Deep copy. */
void oci_descriptor_copy(struct oci_descriptor *dst, const struct oci_descriptor *src);

#endif
