/* Shared fixture of the catalog tests (see fixture.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <cmocka.h>

#include "tests/catalog/fixture.h"
#include "oci/digest.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/xalloc.h"
#include "util/banned.h"

int fx_setup_closed(void **state)
{
	struct fx *f = xcalloc(1, sizeof(*f));

	snprintf(f->dir, sizeof(f->dir), "/tmp/rv-test-catalog-XXXXXX");
	if (!mkdtemp(f->dir)) {
		free(f);
		return -1;
	}
	f->path = xasprintf("%s/data/catalog.db", f->dir);
	*state = f;
	return 0;
}

int fx_setup(void **state)
{
	struct fx *f;

	if (fx_setup_closed(state))
		return -1;
	f = *state;
	if (catalog_open(&f->c, f->path, CATALOG_WRITE)) {
		fprintf(stderr, "catalog_open: %s\n", error_msg());
		return -1;
	}
	return 0;
}

int fx_teardown(void **state)
{
	struct fx *f = *state;
	char *cmd = xasprintf("rm -rf '%s'", f->dir);
	int rc;

	catalog_close(f->c);
	rc = system(cmd);
	free(cmd);
	free(f->path);
	free(f);
	return rc == 0 ? 0 : -1;
}

void fx_blob(char out[OCI_DIGEST_MAX], const char *content)
{
	oci_digest_compute(out, OCI_SHA256, content, strlen(content));
}

static struct oci_manifest *parse(struct buf *b)
{
	struct oci_manifest *m = NULL;

	if (oci_manifest_parse(&m, b->ptr, b->len, NULL))
		fail_msg("oci_manifest_parse: %s\n%s", error_msg(), buf_cstr(b));
	buf_release(b);
	return m;
}

struct oci_manifest *fx_image(struct fx_desc cfg, const struct fx_desc *layers, size_t n,
                              const struct oci_manifest *subject, const char *pad)
{
	struct buf b = BUF_INIT;

	pad = pad ? pad : "";
	buf_addf(&b, "{%s\"schemaVersion\"%s:%s2,%s\"mediaType\":\"" OCI_MT_IMAGE_MANIFEST "\","
	         "\"config\":{\"mediaType\":\"" OCI_MT_IMAGE_CONFIG "\",\"digest\":\"%s\","
	         "\"size\":%lld},%s\"layers\":[", pad, pad, pad, pad, cfg.digest,
	         (long long)cfg.size, pad);
	for (size_t i = 0; i < n; i++)
		buf_addf(&b, "%s{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar+gzip\","
		         "\"digest\":\"%s\",\"size\":%lld}", i ? "," : "", layers[i].digest,
		         (long long)layers[i].size);
	buf_addstr(&b, "]");
	if (subject)
		buf_addf(&b, ",\"subject\":{\"mediaType\":\"%s\",\"digest\":\"%s\",\"size\":%zu}",
		         subject->media_type, subject->digest, subject->raw_len);
	buf_addf(&b, "%s}%s", pad, pad);
	return parse(&b);
}

struct oci_manifest *fx_index(struct oci_manifest *const *children, size_t n)
{
	struct buf b = BUF_INIT;

	buf_addstr(&b, "{\"schemaVersion\":2,\"mediaType\":\"" OCI_MT_IMAGE_INDEX "\","
	           "\"manifests\":[");
	for (size_t i = 0; i < n; i++)
		buf_addf(&b, "%s{\"mediaType\":\"%s\",\"digest\":\"%s\",\"size\":%zu,"
		         "\"platform\":{\"os\":\"linux\",\"architecture\":\"arch%zu\"}}",
		         i ? "," : "", children[i]->media_type, children[i]->digest,
		         children[i]->raw_len, i);
	buf_addstr(&b, "]}");
	return parse(&b);
}

sqlite3 *fx_raw_open(const char *path)
{
	sqlite3 *db = NULL;

	assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
	sqlite3_busy_timeout(db, 5000);
	return db;
}

int64_t fx_raw_int(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st = NULL;
	int64_t v = -1;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		fail_msg("%s: %s", sql, sqlite3_errmsg(db));
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

void fx_raw_exec(sqlite3 *db, const char *sql)
{
	if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK)
		fail_msg("%s: %s", sql, sqlite3_errmsg(db));
}

unsigned fx_mode(const char *path)
{
	struct stat st;

	if (stat(path, &st) != 0)
		fail_msg("stat \"%s\" failed", path);
	return (unsigned)(st.st_mode & 07777);
}
