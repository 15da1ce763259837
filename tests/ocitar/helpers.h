/*
 * helpers.h — shared by the ocitar tests: blobs and images made in memory,
 * sources and sinks, and tar inspection through libarchive.
 */
#ifndef RV_TESTS_OCITAR_HELPERS_H
#define RV_TESTS_OCITAR_HELPERS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "oci/manifest.h"
#include "oci/store.h"
#include "util/buf.h"
#include "util/strlist.h"

/* A source over memory, handing out at most `chunk` bytes per read. */
struct th_mem {
	const unsigned char *p;
	size_t len, pos, chunk;
};
struct oci_source th_mem_source(struct th_mem *m, const void *p, size_t len, size_t chunk);

/* Descriptor (digest, size; media type a generic layer) of bytes. */
void th_desc(struct oci_descriptor *d, const void *data, size_t len);
/* Deterministic pseudo-random bytes. Caller frees. */
unsigned char *th_random(unsigned seed, size_t len);

/* blob_put of bytes; returns the store's code. */
int th_put(struct oci_store *s, const void *data, size_t len);
/* blob_get into out (reset first); returns the store's code. */
int th_get(struct oci_store *s, const char *digest, int64_t size, struct buf *out);

/* An image made of n_layers random layers and a small config. With
 * subject, an artifact manifest referring to it. */
struct th_image {
	struct oci_manifest *m;
	unsigned char *layer[4];
	size_t layer_len[4];
	size_t n_layers;
	char *config;
	char arch[16];
};
void th_image_make(struct th_image *img, unsigned seed, size_t n_layers, const char *arch,
                   const char *subject, const char *artifact_type);
/* Puts every blob, then the manifest under repo/ref with flags; asserts 0. */
void th_image_put(struct oci_store *s, const struct th_image *img, const char *repo,
                  const char *ref, unsigned flags);
void th_image_free(struct th_image *img);
/* An OCI index of the images (platform linux/<arch>). */
struct oci_manifest *th_index_make(struct th_image *imgs, size_t n);

/* Every entry name of a tar (libarchive), in order; -1 when unreadable. */
int th_tar_names(const char *path, struct strlist *out);
/* A file's sha256 as "sha256:<hex>". */
void th_file_sha256(const char *path, char out[80]);
/* Permission bits of path, or -1. */
int th_mode(const char *path);
/* Names in dir that start with prefix. */
size_t th_count_prefix(const char *dir, const char *prefix);
/* 1 when s contains sub. */
int th_contains(const char *s, const char *sub);

#endif
