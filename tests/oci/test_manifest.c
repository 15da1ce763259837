/* Unit tests for oci/manifest.c: every kind, raw bytes kept, field-path
 * errors, duplicate keys, the 4 MiB cap, schema1. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "oci/manifest.h"
#include "util/error.h"
#include "util/xalloc.h"
#include "util/banned.h"

#define DA "sha256:6d9f0b3a8e7b2f1c4d5e6a7b8c9d0e1f2a3b4c5d6e7f8091a2b3c4d5e6f70819"
#define DB "sha256:0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0"
#define DC "sha256:a3ed95caeb02ffe68cdd9fd84406680ae93d633cb16422d00e8c7c22955b46d4"
#define DE "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"
#define D512 "sha512:cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce" \
	"47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e"

static const char oci_manifest[] =
	"{\n"
	"  \"schemaVersion\": 2,\n"
	"  \"mediaType\": \"application/vnd.oci.image.manifest.v1+json\",\n"
	"  \"config\": {\n"
	"    \"mediaType\": \"application/vnd.oci.image.config.v1+json\",\n"
	"    \"digest\": \"" DA "\",\n"
	"    \"size\": 1469\n"
	"  },\n"
	"  \"layers\": [\n"
	"    {\n"
	"      \"mediaType\": \"application/vnd.oci.image.layer.v1.tar+gzip\",\n"
	"      \"digest\": \"" DB "\",\n"
	"      \"size\": 3408729,\n"
	"      \"annotations\": {\"org.opencontainers.image.title\": \"base.tar.gz\"}\n"
	"    },\n"
	"    {\n"
	"      \"mediaType\": \"application/vnd.oci.image.layer.v1.tar+zstd\",\n"
	"      \"digest\": \"" D512 "\",\n"
	"      \"size\": 0\n"
	"    }\n"
	"  ],\n"
	"  \"annotations\": {\n"
	"    \"org.opencontainers.image.created\": \"2024-05-01T12:00:00Z\",\n"
	"    \"org.opencontainers.image.base.name\": \"docker.io/library/alpine:3.19\"\n"
	"  }\n"
	"}\n";

static const char oci_index[] =
	"{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.index.v1+json\","
	"\"manifests\":["
	"{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"digest\":\"" DA "\","
	"\"size\":1024,\"platform\":{\"architecture\":\"amd64\",\"os\":\"linux\"}},"
	"{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"digest\":\"" DB "\","
	"\"size\":1025,\"platform\":{\"architecture\":\"arm\",\"os\":\"linux\",\"variant\":\"v7\","
	"\"os.version\":\"6.1\",\"os.features\":[\"x\"]}},"
	"{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"digest\":\"" DC "\","
	"\"size\":566,\"annotations\":{\"vnd.docker.reference.type\":\"attestation-manifest\","
	"\"vnd.docker.reference.digest\":\"" DA "\"},"
	"\"platform\":{\"architecture\":\"unknown\",\"os\":\"unknown\"}}],"
	"\"annotations\":{\"org.opencontainers.image.ref.name\":\"3.19\"}}";

static const char docker_manifest[] =
	"{\r\n   \"schemaVersion\": 2,\r\n"
	"   \"mediaType\": \"application/vnd.docker.distribution.manifest.v2+json\",\r\n"
	"   \"config\": {\r\n"
	"      \"mediaType\": \"application/vnd.docker.container.image.v1+json\",\r\n"
	"      \"size\": 7023,\r\n"
	"      \"digest\": \"" DA "\"\r\n"
	"   },\r\n"
	"   \"layers\": [\r\n"
	"      {\r\n"
	"         \"mediaType\": \"application/vnd.docker.image.rootfs.diff.tar.gzip\",\r\n"
	"         \"size\": 32654,\r\n"
	"         \"digest\": \"" DB "\"\r\n"
	"      },\r\n"
	"      {\r\n"
	"         \"mediaType\": \"application/vnd.docker.image.rootfs.foreign.diff.tar.gzip\",\r\n"
	"         \"size\": 1612068,\r\n"
	"         \"digest\": \"" DC "\",\r\n"
	"         \"urls\": [\"https://mcr.microsoft.com/v2/windows/blobs/" DC "\"]\r\n"
	"      }\r\n"
	"   ]\r\n"
	"}";

static const char docker_list[] =
	"{\"schemaVersion\":2,"
	"\"mediaType\":\"application/vnd.docker.distribution.manifest.list.v2+json\","
	"\"manifests\":[{\"mediaType\":\"application/vnd.docker.distribution.manifest.v2+json\","
	"\"size\":7143,\"digest\":\"" DA "\",\"platform\":{\"architecture\":\"ppc64le\","
	"\"os\":\"linux\"}},{\"mediaType\":\"application/vnd.docker.distribution.manifest.v2+json\","
	"\"size\":7682,\"digest\":\"" DB "\",\"platform\":{\"architecture\":\"amd64\","
	"\"os\":\"windows\",\"os.version\":\"10.0.17763.1\",\"features\":[\"sse4\"]}}]}";

/* An OCI 1.1 artifact (cosign bundle style): empty config, subject. */
static const char artifact[] =
	"{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","
	"\"artifactType\":\"application/vnd.dev.sigstore.bundle.v0.3+json\","
	"\"config\":{\"mediaType\":\"application/vnd.oci.empty.v1+json\",\"digest\":\"" DE "\","
	"\"size\":2,\"data\":\"e30=\"},"
	"\"layers\":[{\"mediaType\":\"application/vnd.dev.sigstore.bundle.v0.3+json\","
	"\"digest\":\"" DB "\",\"size\":4321}],"
	"\"subject\":{\"mediaType\":\"application/vnd.oci.image.index.v1+json\","
	"\"digest\":\"" DA "\",\"size\":9999},"
	"\"annotations\":{\"dev.sigstore.bundle.predicateType\":\"https://sigstore.dev/cosign/sign/v1\"}}";

static const char schema1[] =
	"{\"schemaVersion\":1,\"name\":\"library/hello\",\"tag\":\"latest\","
	"\"architecture\":\"amd64\",\"fsLayers\":[{\"blobSum\":\"" DC "\"}],"
	"\"history\":[{\"v1Compatibility\":\"{}\"}],\"signatures\":[]}";

static struct oci_manifest *parse_ok(const char *json, const char *ct)
{
	struct oci_manifest *m = NULL;

	if (oci_manifest_parse(&m, json, strlen(json), ct) != 0)
		fail_msg("rejected: %s", error_msg());
	return m;
}

static void expect_error(const char *json, const char *ct, int code, const char *msg)
{
	struct oci_manifest *m = (struct oci_manifest *)0x1;
	int rc = oci_manifest_parse(&m, json, strlen(json), ct);

	if (rc != code)
		fail_msg("got %d (%s), want %d for %s", rc, error_msg(), code, json);
	if (msg && strcmp(error_msg(), msg) != 0)
		fail_msg("message \"%s\", want \"%s\"", error_msg(), msg);
	assert_ptr_equal(m, (struct oci_manifest *)0x1);   /* out untouched */
}

static void assert_raw_kept(const struct oci_manifest *m, const char *json)
{
	char d[OCI_DIGEST_MAX];

	assert_int_equal(m->raw_len, strlen(json));
	assert_memory_equal(m->raw, json, m->raw_len);
	assert_int_equal(m->raw[m->raw_len], '\0');
	oci_digest_compute(d, OCI_SHA256, json, strlen(json));
	assert_string_equal(m->digest, d);
}

static void test_oci_manifest(void **state)
{
	struct oci_manifest *m = parse_ok(oci_manifest, OCI_MT_IMAGE_MANIFEST);

	(void)state;
	assert_int_equal(m->kind, OCI_KIND_IMAGE);
	assert_string_equal(m->media_type, OCI_MT_IMAGE_MANIFEST);
	assert_string_equal(m->config.media_type, OCI_MT_IMAGE_CONFIG);
	assert_string_equal(m->config.digest, DA);
	assert_true(m->config.size == 1469);
	assert_int_equal(m->n_layers, 2);
	assert_string_equal(m->layers[0].digest, DB);
	assert_true(m->layers[0].size == 3408729);
	assert_string_equal(oci_annotation_get(m->layers[0].annotations, m->layers[0].n_annotations,
	                                       "org.opencontainers.image.title"), "base.tar.gz");
	assert_string_equal(m->layers[1].digest, D512);
	assert_true(m->layers[1].size == 0);
	assert_int_equal(m->n_manifests, 0);
	assert_null(m->subject);
	assert_null(m->artifact_type);
	assert_int_equal(m->n_annotations, 2);
	assert_string_equal(oci_annotation_get(m->annotations, m->n_annotations,
	                                       "org.opencontainers.image.base.name"),
	                    "docker.io/library/alpine:3.19");
	assert_null(oci_annotation_get(m->annotations, m->n_annotations, "nope"));
	assert_raw_kept(m, oci_manifest);
	oci_manifest_free(m);
}

static void test_oci_index(void **state)
{
	struct oci_manifest *m = parse_ok(oci_index, NULL);
	char *p;

	(void)state;
	assert_int_equal(m->kind, OCI_KIND_INDEX);
	assert_string_equal(m->media_type, OCI_MT_IMAGE_INDEX);
	assert_int_equal(m->n_manifests, 3);
	assert_int_equal(m->n_layers, 0);
	assert_string_equal(m->manifests[1].digest, DB);
	assert_string_equal(m->manifests[1].platform->architecture, "arm");
	assert_string_equal(m->manifests[1].platform->variant, "v7");
	assert_string_equal(m->manifests[1].platform->os_version, "6.1");
	assert_null(m->manifests[0].platform->variant);
	p = oci_platform_string(m->manifests[0].platform);
	assert_string_equal(p, "linux/amd64");
	free(p);
	p = oci_platform_string(m->manifests[1].platform);
	assert_string_equal(p, "linux/arm/v7");
	free(p);
	p = oci_platform_string(NULL);
	assert_string_equal(p, "");
	free(p);
	assert_string_equal(oci_annotation_get(m->manifests[2].annotations,
	                                       m->manifests[2].n_annotations,
	                                       "vnd.docker.reference.digest"), DA);
	assert_raw_kept(m, oci_index);
	oci_manifest_free(m);
}

static void test_docker_manifest(void **state)
{
	struct oci_manifest *m = parse_ok(docker_manifest, OCI_MT_DOCKER_MANIFEST);

	(void)state;
	assert_int_equal(m->kind, OCI_KIND_IMAGE);
	assert_string_equal(m->media_type, OCI_MT_DOCKER_MANIFEST);
	assert_string_equal(m->config.media_type, OCI_MT_DOCKER_CONFIG);
	assert_int_equal(m->n_layers, 2);
	assert_false(oci_descriptor_is_foreign(&m->layers[0]));
	assert_true(oci_descriptor_is_foreign(&m->layers[1]));
	assert_int_equal(m->layers[1].n_urls, 1);
	assert_string_equal(m->layers[1].urls[0], "https://mcr.microsoft.com/v2/windows/blobs/" DC);
	/* CRLF line ends survive untouched. */
	assert_raw_kept(m, docker_manifest);
	oci_manifest_free(m);
}

static void test_docker_list(void **state)
{
	struct oci_manifest *m = parse_ok(docker_list, OCI_MT_DOCKER_LIST "; charset=utf-8");
	char *p;

	(void)state;
	assert_int_equal(m->kind, OCI_KIND_INDEX);
	assert_string_equal(m->media_type, OCI_MT_DOCKER_LIST);
	assert_int_equal(m->n_manifests, 2);
	assert_string_equal(m->manifests[1].platform->os_version, "10.0.17763.1");
	p = oci_platform_string(m->manifests[1].platform);
	assert_string_equal(p, "windows/amd64");
	free(p);
	oci_manifest_free(m);
}

static void test_artifact_with_subject(void **state)
{
	struct oci_manifest *m = parse_ok(artifact, NULL);

	(void)state;
	assert_int_equal(m->kind, OCI_KIND_IMAGE);
	assert_string_equal(m->artifact_type, "application/vnd.dev.sigstore.bundle.v0.3+json");
	assert_string_equal(m->config.media_type, OCI_MT_EMPTY);
	assert_string_equal(m->config.digest, DE);
	assert_true(m->config.size == 2);
	/* Unknown layer media types are fine (image-spec manifest.md). */
	assert_string_equal(m->layers[0].media_type, "application/vnd.dev.sigstore.bundle.v0.3+json");
	assert_non_null(m->subject);
	assert_string_equal(m->subject->media_type, OCI_MT_IMAGE_INDEX);
	assert_string_equal(m->subject->digest, DA);
	assert_true(m->subject->size == 9999);
	oci_manifest_free(m);
}

static void test_index_with_subject_and_artifact_type(void **state)
{
	const char *json =
		"{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.index.v1+json\","
		"\"artifactType\":\"application/x.example\",\"manifests\":[],"
		"\"subject\":{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","
		"\"digest\":\"" DC "\",\"size\":1}}";
	struct oci_manifest *m = parse_ok(json, NULL);

	(void)state;
	assert_int_equal(m->kind, OCI_KIND_INDEX);
	assert_int_equal(m->n_manifests, 0);
	assert_string_equal(m->artifact_type, "application/x.example");
	assert_string_equal(m->subject->digest, DC);
	oci_manifest_free(m);
}

static void test_empty_layers_and_nulls(void **state)
{
	const char *json =
		"{\"schemaVersion\":2,\"config\":{\"mediaType\":\"application/x.unknown-config\","
		"\"digest\":\"" DE "\",\"size\":2,\"annotations\":null,\"urls\":null},"
		"\"layers\":[],\"annotations\":null,\"subject\":null,\"artifactType\":null}";
	const char *null_layers =
		"{\"schemaVersion\":2,\"mediaType\":\"application/vnd.docker.distribution.manifest.v2+json\","
		"\"config\":{\"mediaType\":\"application/vnd.docker.container.image.v1+json\","
		"\"digest\":\"" DE "\",\"size\":2},\"layers\":null}";
	struct oci_manifest *m = parse_ok(json, NULL);

	(void)state;
	/* No mediaType, no Content-Type: config → OCI image manifest. */
	assert_int_equal(m->kind, OCI_KIND_IMAGE);
	assert_string_equal(m->media_type, OCI_MT_IMAGE_MANIFEST);
	assert_int_equal(m->n_layers, 0);
	assert_null(m->subject);
	assert_int_equal(m->config.n_urls, 0);
	oci_manifest_free(m);
	m = parse_ok(null_layers, NULL);
	assert_int_equal(m->n_layers, 0);
	oci_manifest_free(m);
}

static void test_kind_from_content_type_and_shape(void **state)
{
	const char *no_mt =
		"{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":\"x/y\",\"digest\":\"" DA "\","
		"\"size\":1}]}";
	struct oci_manifest *m;

	(void)state;
	/* Content-Type names the kind (parameters and spacing ignored). */
	m = parse_ok(no_mt, " application/vnd.docker.distribution.manifest.list.v2+json ; q=1");
	assert_int_equal(m->kind, OCI_KIND_INDEX);
	assert_string_equal(m->media_type, OCI_MT_DOCKER_LIST);
	oci_manifest_free(m);
	/* A generic Content-Type is ignored; the shape decides. */
	m = parse_ok(no_mt, "application/json");
	assert_int_equal(m->kind, OCI_KIND_INDEX);
	assert_string_equal(m->media_type, OCI_MT_IMAGE_INDEX);
	oci_manifest_free(m);
	/* Body and Content-Type of the same kind but different families is
	 * no contradiction. */
	m = parse_ok(oci_manifest, OCI_MT_DOCKER_MANIFEST);
	assert_string_equal(m->media_type, OCI_MT_IMAGE_MANIFEST);
	oci_manifest_free(m);
	m = parse_ok(oci_manifest, "APPLICATION/VND.OCI.IMAGE.MANIFEST.V1+JSON");
	oci_manifest_free(m);
	expect_error("{\"schemaVersion\":2}", NULL, RV_EINVALID,
	             "manifest: no mediaType, and neither manifests nor config to tell an index "
	             "from a manifest");
}

static void test_contradiction(void **state)
{
	(void)state;
	expect_error(oci_index, OCI_MT_IMAGE_MANIFEST, RV_EINVALID,
	             "manifest: mediaType: \"" OCI_MT_IMAGE_INDEX "\" contradicts Content-Type \""
	             OCI_MT_IMAGE_MANIFEST "\"");
	expect_error(docker_manifest, OCI_MT_DOCKER_LIST, RV_EINVALID, NULL);
	expect_error(oci_manifest, OCI_MT_DOCKER_SCHEMA1_SIGNED, RV_EINVALID, NULL);
}

static void test_schema1(void **state)
{
	const char *msg = "manifest: docker schema1 manifests are not supported";
	const char *by_mt = "{\"mediaType\":\"application/vnd.docker.distribution.manifest.v1+prettyjws\"}";
	const char *no_version = "{\"name\":\"a\",\"fsLayers\":[]}";

	(void)state;
	expect_error(schema1, NULL, RV_EUNSUPPORTED, msg);
	expect_error(schema1, OCI_MT_DOCKER_SCHEMA1_SIGNED, RV_EUNSUPPORTED, msg);
	expect_error(schema1, OCI_MT_IMAGE_MANIFEST, RV_EUNSUPPORTED, msg);
	expect_error(by_mt, NULL, RV_EUNSUPPORTED, msg);
	expect_error(no_version, OCI_MT_DOCKER_SCHEMA1, RV_EUNSUPPORTED, msg);
}

static void test_schema_version(void **state)
{
	(void)state;
	expect_error("{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\"}", NULL,
	             RV_EINVALID, "manifest: schemaVersion: missing");
	expect_error("{\"schemaVersion\":\"2\",\"manifests\":[]}", NULL, RV_EINVALID,
	             "manifest: schemaVersion: not an integer");
	expect_error("{\"schemaVersion\":2.0,\"manifests\":[]}", NULL, RV_EINVALID,
	             "manifest: schemaVersion: not an integer");
	expect_error("{\"schemaVersion\":3,\"manifests\":[]}", NULL, RV_EINVALID,
	             "manifest: schemaVersion: 3 is not supported (want 2)");
}

static void test_unknown_manifest_media_type(void **state)
{
	(void)state;
	expect_error("{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.artifact.manifest.v1+json\","
	             "\"blobs\":[]}", NULL, RV_EUNSUPPORTED,
	             "manifest: mediaType: unsupported manifest type "
	             "\"application/vnd.oci.artifact.manifest.v1+json\"");
	expect_error("{\"schemaVersion\":2,\"mediaType\":7,\"manifests\":[]}", NULL, RV_EINVALID,
	             "manifest: mediaType: not a string");
}

/* A manifest with one broken field, for the field-path messages. */
static char *with_layer(const char *layer)
{
	return xasprintf("{\"schemaVersion\":2,\"config\":{\"mediaType\":\"a/b\",\"digest\":\""
	                 DA "\",\"size\":1},\"layers\":[{\"mediaType\":\"a/b\",\"digest\":\"" DB
	                 "\",\"size\":1},{\"mediaType\":\"a/b\",\"digest\":\"" DB "\",\"size\":1},%s]}",
	                 layer);
}

static void test_field_path_errors(void **state)
{
	static const struct { const char *layer; int code; const char *msg; } t[] = {
		{ "{\"mediaType\":\"a/b\",\"digest\":\"sha256:zz\",\"size\":1}", RV_EINVALID,
		  "manifest: layers[2].digest: invalid digest \"sha256:zz\"" },
		{ "{\"mediaType\":\"a/b\",\"size\":1}", RV_EINVALID, "manifest: layers[2].digest: missing" },
		{ "{\"mediaType\":\"a/b\",\"digest\":5,\"size\":1}", RV_EINVALID,
		  "manifest: layers[2].digest: not a string" },
		{ "{\"mediaType\":\"a/b\",\"digest\":\"blake3:abcd\",\"size\":1}", RV_EUNSUPPORTED,
		  "manifest: layers[2].digest: unsupported digest algorithm \"blake3\" in \"blake3:abcd\"" },
		{ "{\"digest\":\"" DA "\",\"size\":1}", RV_EINVALID, "manifest: layers[2].mediaType: missing" },
		{ "{\"mediaType\":\"\",\"digest\":\"" DA "\",\"size\":1}", RV_EINVALID,
		  "manifest: layers[2].mediaType: empty" },
		{ "{\"mediaType\":[],\"digest\":\"" DA "\",\"size\":1}", RV_EINVALID,
		  "manifest: layers[2].mediaType: not a string" },
		{ "{\"mediaType\":\"a/b\",\"digest\":\"" DA "\"}", RV_EINVALID, "manifest: layers[2].size: missing" },
		{ "{\"mediaType\":\"a/b\",\"digest\":\"" DA "\",\"size\":-1}", RV_EINVALID,
		  "manifest: layers[2].size: negative" },
		{ "{\"mediaType\":\"a/b\",\"digest\":\"" DA "\",\"size\":1.5}", RV_EINVALID,
		  "manifest: layers[2].size: not an integer" },
		{ "{\"mediaType\":\"a/b\",\"digest\":\"" DA "\",\"size\":\"1\"}", RV_EINVALID,
		  "manifest: layers[2].size: not an integer" },
		{ "{\"mediaType\":\"a/b\",\"digest\":\"" DA "\",\"size\":1,\"urls\":[\"u\",3]}", RV_EINVALID,
		  "manifest: layers[2].urls[1]: not a string" },
		{ "{\"mediaType\":\"a/b\",\"digest\":\"" DA "\",\"size\":1,\"urls\":\"u\"}", RV_EINVALID,
		  "manifest: layers[2].urls: not an array" },
		{ "{\"mediaType\":\"a/b\",\"digest\":\"" DA "\",\"size\":1,\"annotations\":{\"k\":1}}",
		  RV_EINVALID, "manifest: layers[2].annotations[\"k\"]: not a string" },
		{ "{\"mediaType\":\"a/b\",\"digest\":\"" DA "\",\"size\":1,\"annotations\":[]}",
		  RV_EINVALID, "manifest: layers[2].annotations: not an object" },
		{ "{\"mediaType\":\"a/b\",\"digest\":\"" DA "\",\"size\":1,\"artifactType\":1}",
		  RV_EINVALID, "manifest: layers[2].artifactType: not a string" },
		{ "\"layer\"", RV_EINVALID, "manifest: layers[2]: not an object" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		char *json = with_layer(t[i].layer);

		expect_error(json, NULL, t[i].code, t[i].msg);
		free(json);
	}
}

static void test_other_field_paths(void **state)
{
	(void)state;
	expect_error("{\"schemaVersion\":2,\"config\":{\"mediaType\":\"a/b\",\"digest\":\"" DA
	             "\",\"size\":-5},\"layers\":[]}", NULL, RV_EINVALID,
	             "manifest: config.size: negative");
	expect_error("{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","
	             "\"layers\":[]}", NULL, RV_EINVALID, "manifest: config: missing");
	expect_error("{\"schemaVersion\":2,\"config\":{\"mediaType\":\"a/b\",\"digest\":\"" DA
	             "\",\"size\":5}}", NULL, RV_EINVALID, "manifest: layers: missing");
	expect_error("{\"schemaVersion\":2,\"config\":{\"mediaType\":\"a/b\",\"digest\":\"" DA
	             "\",\"size\":5},\"layers\":{}}", NULL, RV_EINVALID, "manifest: layers: not an array");
	expect_error("{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.index.v1+json\"}",
	             NULL, RV_EINVALID, "manifest: manifests: missing");
	expect_error("{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":\"a/b\",\"digest\":\"" DA
	             "\",\"size\":1},{\"mediaType\":\"a/b\",\"digest\":\"" DA "\",\"size\":1,"
	             "\"platform\":{\"architecture\":\"amd64\"}}]}", NULL, RV_EINVALID,
	             "manifest: manifests[1].platform.os: missing");
	expect_error("{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":\"a/b\",\"digest\":\"" DA
	             "\",\"size\":1,\"platform\":\"linux\"}]}", NULL, RV_EINVALID,
	             "manifest: manifests[0].platform: not an object");
	expect_error("{\"schemaVersion\":2,\"manifests\":[],\"subject\":{\"mediaType\":\"a/b\","
	             "\"digest\":\"sha256:" "0123\",\"size\":1}}", NULL, RV_EINVALID,
	             "manifest: subject.digest: invalid digest \"sha256:0123\"");
	expect_error("{\"schemaVersion\":2,\"manifests\":[],\"annotations\":{\"a\":\"b\",\"c\":{}}}",
	             NULL, RV_EINVALID, "manifest: annotations[\"c\"]: not a string");
	expect_error("{\"schemaVersion\":2,\"manifests\":[],\"artifactType\":false}", NULL,
	             RV_EINVALID, "manifest: artifactType: not a string");
}

static void test_duplicate_keys(void **state)
{
	static const char *const dups[] = {
		"{\"schemaVersion\":2,\"schemaVersion\":2,\"manifests\":[]}",
		"{\"schemaVersion\":2,\"manifests\":[],\"manifests\":[]}",
		"{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":\"a/b\",\"digest\":\"" DA "\","
		"\"digest\":\"" DB "\",\"size\":1}]}",
		"{\"schemaVersion\":2,\"manifests\":[],\"annotations\":{\"k\":\"1\",\"k\":\"2\"}}",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(dups) / sizeof(dups[0]); i++) {
		expect_error(dups[i], NULL, RV_EINVALID, NULL);
		assert_non_null(strstr(error_msg(), "duplicate object key"));
		assert_non_null(strstr(error_msg(), "manifest: invalid JSON at line 1"));
	}
}

static void test_bad_json_and_shapes(void **state)
{
	struct oci_manifest *m = NULL;

	(void)state;
	assert_int_equal(oci_manifest_parse(&m, "", 0, NULL), RV_EINVALID);
	assert_string_equal(error_msg(), "manifest: empty");
	expect_error("[]", NULL, RV_EINVALID, "manifest: not a JSON object");
	/* jansson refuses non-container top levels itself. */
	expect_error("null", NULL, RV_EINVALID, NULL);
	assert_non_null(strstr(error_msg(), "manifest: invalid JSON"));
	expect_error("\"string\"", NULL, RV_EINVALID, NULL);
	expect_error("{\"schemaVersion\":2,\"manifests\":[]} x", NULL, RV_EINVALID, NULL);
	expect_error("{\"schemaVersion\":2,", NULL, RV_EINVALID, NULL);
	expect_error("{\"a\":\"\\u0000\"}", NULL, RV_EINVALID, NULL);
	expect_error("\xef\xbb\xbf{}", NULL, RV_EINVALID, NULL);
	/* Embedded NUL in the input bytes. */
	static const char with_nul[] = "{\"schemaVersion\":2,\0\"manifests\":[]}";

	assert_int_equal(oci_manifest_parse(&m, with_nul, sizeof(with_nul) - 1, NULL), RV_EINVALID);
	assert_null(m);
}

static void test_raw_preserved_with_odd_whitespace(void **state)
{
	/* Tabs, CRLF, escaped slashes and unicode escapes, key order and a
	 * trailing newline: re-serialising would change every one of them. */
	const char *json =
		"\t{ \"manifests\" :[ ] ,\r\n\"schemaVersion\"\t:\t2 ,"
		"\"annotations\":{\"url\":\"https:\\/\\/example.com\",\"n\\u00e9\":\"caf\\u00e9\"}}\n\n";
	/* sha256 of exactly these bytes, computed independently (Python hashlib). */
	const char *want = "sha256:20c593c4d4a4177473af949750f36ab57c5eb8ce95a3fd78161323201e2cf4c0";
	struct oci_manifest *m = parse_ok(json, NULL);

	(void)state;
	assert_raw_kept(m, json);
	assert_string_equal(oci_annotation_get(m->annotations, m->n_annotations, "url"),
	                    "https://example.com");
	assert_string_equal(oci_annotation_get(m->annotations, m->n_annotations, "n\xc3\xa9"),
	                    "caf\xc3\xa9");
	assert_string_equal(m->digest, want);
	oci_manifest_free(m);
}

static void test_size_cap(void **state)
{
	const char *head = "{\"schemaVersion\":2,\"manifests\":[]}";
	size_t n = OCI_MANIFEST_MAX;
	char *big = malloc(n + 1);
	struct oci_manifest *m = NULL;

	(void)state;
	memset(big, ' ', n + 1);
	memcpy(big, head, strlen(head));
	/* Exactly 4 MiB (trailing whitespace is valid JSON) is accepted... */
	assert_int_equal(oci_manifest_parse(&m, big, n, NULL), 0);
	assert_int_equal(m->raw_len, n);
	oci_manifest_free(m);
	m = NULL;
	/* ...one byte more is not, before any parsing. */
	assert_int_equal(oci_manifest_parse(&m, big, n + 1, NULL), RV_ETOOBIG);
	assert_string_equal(error_msg(), "manifest: 4194305 bytes is over the 4194304-byte limit");
	assert_null(m);
	free(big);
}

static void test_media_type_kind(void **state)
{
	(void)state;
	assert_int_equal(oci_media_type_kind(OCI_MT_IMAGE_MANIFEST), OCI_KIND_IMAGE);
	assert_int_equal(oci_media_type_kind(OCI_MT_DOCKER_MANIFEST), OCI_KIND_IMAGE);
	assert_int_equal(oci_media_type_kind(OCI_MT_IMAGE_INDEX), OCI_KIND_INDEX);
	assert_int_equal(oci_media_type_kind(OCI_MT_DOCKER_LIST "; charset=utf-8"), OCI_KIND_INDEX);
	assert_int_equal(oci_media_type_kind(OCI_MT_DOCKER_SCHEMA1), OCI_KIND_SCHEMA1);
	assert_int_equal(oci_media_type_kind(OCI_MT_DOCKER_SCHEMA1_SIGNED), OCI_KIND_SCHEMA1);
	assert_int_equal(oci_media_type_kind("application/json"), OCI_KIND_UNKNOWN);
	assert_int_equal(oci_media_type_kind(OCI_MT_IMAGE_MANIFEST "x"), OCI_KIND_UNKNOWN);
	assert_int_equal(oci_media_type_kind("application/vnd.oci.image"), OCI_KIND_UNKNOWN);
	assert_int_equal(oci_media_type_kind(""), OCI_KIND_UNKNOWN);
	assert_int_equal(oci_media_type_kind(NULL), OCI_KIND_UNKNOWN);
}

static void test_is_foreign(void **state)
{
	static const struct { const char *mt; int urls; int want; } t[] = {
		{ "application/vnd.oci.image.layer.v1.tar+gzip", 0, 0 },
		{ "application/vnd.docker.image.rootfs.diff.tar.gzip", 0, 0 },
		{ "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip", 0, 1 },
		{ "application/vnd.oci.image.layer.nondistributable.v1.tar", 0, 1 },
		{ "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip", 0, 1 },
		{ "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd", 0, 1 },
		{ "application/vnd.oci.image.layer.v1.tar+gzip", 1, 1 },
	};
	char *url = (char *)"https://example.com/blob";

	(void)state;
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct oci_descriptor d;

		memset(&d, 0, sizeof(d));
		d.media_type = (char *)t[i].mt;
		d.urls = t[i].urls ? &url : NULL;
		d.n_urls = (size_t)t[i].urls;
		if (oci_descriptor_is_foreign(&d) != t[i].want)
			fail_msg("%s urls=%d: want %d", t[i].mt, t[i].urls, t[i].want);
	}
}

static void test_descriptor_copy(void **state)
{
	struct oci_manifest *m = parse_ok(oci_index, NULL);
	struct oci_manifest *dm = parse_ok(docker_manifest, NULL);
	struct oci_descriptor a, b;

	(void)state;
	oci_descriptor_copy(&a, &m->manifests[1]);
	oci_descriptor_copy(&b, &dm->layers[1]);
	oci_manifest_free(m);
	oci_manifest_free(dm);
	/* The copies outlive the originals. */
	assert_string_equal(a.digest, DB);
	assert_true(a.size == 1025);
	assert_string_equal(a.platform->variant, "v7");
	assert_string_equal(a.platform->os_version, "6.1");
	assert_null(a.urls);
	assert_string_equal(b.media_type, "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip");
	assert_int_equal(b.n_urls, 1);
	assert_true(oci_descriptor_is_foreign(&b));
	assert_null(b.platform);
	oci_descriptor_release(&a);
	oci_descriptor_release(&b);
	assert_null(a.media_type);
	assert_int_equal(b.n_urls, 0);
	m = parse_ok(oci_index, NULL);
	oci_descriptor_copy(&a, &m->manifests[2]);
	assert_int_equal(a.n_annotations, 2);
	assert_string_equal(oci_annotation_get(a.annotations, a.n_annotations,
	                                       "vnd.docker.reference.type"), "attestation-manifest");
	oci_descriptor_release(&a);
	oci_manifest_free(m);
	oci_manifest_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_oci_manifest),
		cmocka_unit_test(test_oci_index),
		cmocka_unit_test(test_docker_manifest),
		cmocka_unit_test(test_docker_list),
		cmocka_unit_test(test_artifact_with_subject),
		cmocka_unit_test(test_index_with_subject_and_artifact_type),
		cmocka_unit_test(test_empty_layers_and_nulls),
		cmocka_unit_test(test_kind_from_content_type_and_shape),
		cmocka_unit_test(test_contradiction),
		cmocka_unit_test(test_schema1),
		cmocka_unit_test(test_schema_version),
		cmocka_unit_test(test_unknown_manifest_media_type),
		cmocka_unit_test(test_field_path_errors),
		cmocka_unit_test(test_other_field_paths),
		cmocka_unit_test(test_duplicate_keys),
		cmocka_unit_test(test_bad_json_and_shapes),
		cmocka_unit_test(test_raw_preserved_with_odd_whitespace),
		cmocka_unit_test(test_size_cap),
		cmocka_unit_test(test_media_type_kind),
		cmocka_unit_test(test_is_foreign),
		cmocka_unit_test(test_descriptor_copy),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
