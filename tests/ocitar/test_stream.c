/* Bounded memory: a 256 MiB blob generated on the fly goes into a volume,
 * through the commit and out again, and the process's peak RSS
 * grows by far less than the blob. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>
#include <cmocka.h>

#include "helpers.h"
#include "ocitar/ocitar.h"
#include "tests/harness/harness.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/xalloc.h"
#include "util/banned.h"

#define BLOB_SIZE ((int64_t)256 << 20)
#define MAX_GROWTH_KIB (64 * 1024)

struct gen {
	uint64_t x;
	int64_t pos;
};

static ssize_t gen_read(void *ctx, void *buf, size_t cap)
{
	struct gen *g = ctx;
	unsigned char *p = buf;
	size_t n = BLOB_SIZE - g->pos < (int64_t)cap ? (size_t)(BLOB_SIZE - g->pos) : cap;

	for (size_t i = 0; i < n; i++) {
		if ((g->pos + (int64_t)i) % 8 == 0) {
			g->x ^= g->x << 13;
			g->x ^= g->x >> 7;
			g->x ^= g->x << 17;
		}
		p[i] = (unsigned char)(g->x >> (8 * ((g->pos + (int64_t)i) % 8)));
	}
	g->pos += (int64_t)n;
	return (ssize_t)n;
}

static int gen_rewind(void *ctx)
{
	struct gen *g = ctx;

	g->x = 88172645463325252ULL;
	g->pos = 0;
	return 0;
}

struct hsink {
	oci_hasher *h;
	int64_t n;
};

static int hash_write(void *ctx, const void *data, size_t len)
{
	struct hsink *s = ctx;

	oci_hasher_update(s->h, data, len);
	s->n += (int64_t)len;
	return 0;
}

static long peak_kib(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_maxrss;
}

static void test_large_blob(void **state)
{
	char *tmp = harness_mkdtemp("rv-ocitar-stream"), *dir = fs_path_join(tmp, "store");
	struct gen g;
	struct oci_source src = { gen_read, gen_rewind, &g };
	struct oci_descriptor d;
	struct hsink hs;
	struct oci_sink sink = { hash_write, &hs };
	struct ocitar_commit_info info;
	struct oci_store *s = NULL;
	unsigned char *buf = xmalloc(1 << 20);
	char got[OCI_DIGEST_MAX];
	long before;
	ssize_t n;

	(void)state;
	/* The digest, computed the same streaming way. */
	memset(&d, 0, sizeof(d));
	hs.h = oci_hasher_new(OCI_SHA256);
	gen_rewind(&g);
	while ((n = gen_read(&g, buf, 1 << 20)) > 0)
		oci_hasher_update(hs.h, buf, (size_t)n);
	oci_hasher_final(hs.h, d.digest);
	oci_hasher_free(hs.h);
	d.size = BLOB_SIZE;
	free(buf);

	before = peak_kib();
	gen_rewind(&g);
	assert_int_equal(ocitar_open(&s, dir, OCITAR_WRITE), 0);
	if (oci_store_blob_put(s, "r", &d, &src))
		fail_msg("%s", error_msg());
	if (ocitar_commit(s, &info))
		fail_msg("%s", error_msg());
	assert_int_equal(info.n_entries, 1);
	assert_int_equal(info.entries[0].length, BLOB_SIZE);
	oci_store_close(s);

	assert_int_equal(ocitar_open(&s, dir, OCITAR_READ), 0);
	hs.h = oci_hasher_new(OCI_SHA256);
	hs.n = 0;
	assert_int_equal(oci_store_blob_get(s, "r", &d, &sink), 0);
	oci_hasher_final(hs.h, got);
	oci_hasher_free(hs.h);
	assert_int_equal(hs.n, BLOB_SIZE);
	assert_string_equal(got, d.digest);
	assert_int_equal(ocitar_verify_range(s, info.volume, info.entries[0].offset, BLOB_SIZE,
	                                     d.digest), 0);
	oci_store_close(s);
	if (peak_kib() - before > MAX_GROWTH_KIB)
		fail_msg("peak RSS grew by %ld KiB", peak_kib() - before);
	ocitar_commit_info_release(&info);
	harness_rm_rf(tmp);
	free(dir);
	free(tmp);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_large_blob),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
