/*
 * ocigen.h — deterministic OCI building blocks shared by rv-mkfixtures and
 * rv-mkscenario (tests/harness/README.md): blobs in an OCI image layout,
 * gzip tar layers from a seeded PRNG, indented JSON documents, the layout's
 * index.json. Self-contained (libarchive, zlib, jansson, OpenSSL); links
 * nothing of regvault.
 *
 * Same seed and inputs → same bytes on every run and machine: layers are
 * POSIX tar with fixed owner/mode/mtime, gzipped by zlib (mtime 0, no
 * name), and JSON is written by jansson in insertion order. Errors print
 * "<og_prog>: message" and exit 1 (these are test generators).
 */
#ifndef RV_TESTS_HARNESS_OCIGEN_H
#define RV_TESTS_HARNESS_OCIGEN_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#define MT_OCI_MANIFEST "application/vnd.oci.image.manifest.v1+json"
#define MT_OCI_INDEX "application/vnd.oci.image.index.v1+json"
#define MT_OCI_CONFIG "application/vnd.oci.image.config.v1+json"
#define MT_OCI_LAYER_GZ "application/vnd.oci.image.layer.v1.tar+gzip"
#define MT_OCI_EMPTY "application/vnd.oci.empty.v1+json"
#define MT_DOCKER_MANIFEST "application/vnd.docker.distribution.manifest.v2+json"
#define MT_DOCKER_LIST "application/vnd.docker.distribution.manifest.list.v2+json"
#define MT_DOCKER_CONFIG "application/vnd.docker.container.image.v1+json"
#define MT_DOCKER_LAYER_GZ "application/vnd.docker.image.rootfs.diff.tar.gzip"
#define MT_COSIGN_SIMPLESIGNING "application/vnd.dev.cosign.simplesigning.v1+json"
#define MT_SBOM "application/vnd.example.sbom.v1+json"

#define DIGEST_MAX 80 /* "sha256:" + 64 hex + NUL, with room */
#define FIXED_MTIME 1704067200 /* 2024-01-01T00:00:00Z, the layers' file times */

struct desc {
	const char *media_type;
	char digest[DIGEST_MAX];
	long long size;
};

struct buf {
	unsigned char *p;
	size_t len, cap;
};

/* One OCI image layout being written. */
struct layout {
	char blobdir[4096]; /* DIR/blobs/sha256 */
	char dir[4096];     /* DIR */
	uint64_t seed;      /* keys every layer's PRNG stream */
	json_t *index;      /* index.json "manifests" array */
};

extern const char *og_prog; /* the program name in messages */

void die(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));
void *xrealloc(void *p, size_t n);
void buf_add(struct buf *b, const void *data, size_t n);

/* splitmix64: tiny, well distributed, and identical everywhere. */
uint64_t prng_next(uint64_t *state);
void prng_fill(uint64_t *state, unsigned char *p, size_t n);

void sha256_digest(const void *data, size_t n, char out[DIGEST_MAX]);
/* Writes via "PATH.tmp" and rename. */
void write_file(const char *path, const void *data, size_t n);
void mkdir_p(const char *path);

/* Creates DIR/blobs/sha256; index starts empty. */
void layout_init(struct layout *l, const char *dir, uint64_t seed);
/* Writes DIR/oci-layout and DIR/index.json; releases the index. */
void layout_finish(struct layout *l);
/* An index.json entry named by org.opencontainers.image.ref.name. */
void layout_add(struct layout *l, const char *ref_name, const struct desc *d);

/* Store bytes as a blob and fill the descriptor. */
void blob_put(struct layout *l, const char *media_type, const void *data, size_t n,
	      struct desc *out);
json_t *desc_json(const struct desc *d);
/* Serialise a JSON document (indented, insertion order) into a blob; takes doc. */
void json_blob(struct layout *l, const char *media_type, json_t *doc, struct desc *out);

/*
 * One gzip tar layer: a directory LABEL/, LABEL/README and random files
 * adding up to `size` bytes (random data does not compress, so the blob's
 * size tracks `size`). The PRNG stream is keyed by the seed and label only.
 */
void make_layer(struct layout *l, const char *media_type, const char *label, long long size,
		struct desc *out, char diff_id[DIGEST_MAX]);

#endif
