/*
 * fixture.h — what the catalog tests share: a temp directory per test with
 * a writable catalog in it, real manifests built from JSON, and a raw
 * SQLite handle for looking behind the catalog's back.
 */
#ifndef RV_TESTS_CATALOG_FIXTURE_H
#define RV_TESTS_CATALOG_FIXTURE_H

#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>
#include "catalog/catalog.h"
#include "oci/manifest.h"

struct fx {
	char dir[64];
	char *path;     /* dir/data/catalog.db */
	catalog *c;     /* open CATALOG_WRITE */
};

/* cmocka setup/teardown: *state is a struct fx. */
int fx_setup(void **state);
int fx_setup_closed(void **state);   /* the same, catalog not opened */
int fx_teardown(void **state);

/* A blob digest and the bytes it stands for (never stored, only named). */
void fx_blob(char out[OCI_DIGEST_MAX], const char *content);

/* One descriptor for fx_image/fx_index. */
struct fx_desc {
	const char *digest;
	int64_t size;
};

/* An OCI image manifest with config cfg and n layers (subject may be NULL);
 * `pad` is put between tokens to make the bytes unusual. */
struct oci_manifest *fx_image(struct fx_desc cfg, const struct fx_desc *layers, size_t n,
                              const struct oci_manifest *subject, const char *pad);
/* An OCI index of n child manifests. */
struct oci_manifest *fx_index(struct oci_manifest *const *children, size_t n);

/* Raw SQLite access to the catalog file. */
sqlite3 *fx_raw_open(const char *path);
/* The first column of the first row as an int64 (-1 when no row). */
int64_t fx_raw_int(sqlite3 *db, const char *sql);
/* Runs sql, asserting success. */
void fx_raw_exec(sqlite3 *db, const char *sql);
/* Octal permission bits of a path. */
unsigned fx_mode(const char *path);

#endif
