/* Unit tests for catalog/: manifests byte for byte, references, tampering,
 * and the closure of indexes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "tests/catalog/fixture.h"
#include "util/error.h"
#include "util/buf.h"
#include "util/strlist.h"
#include "util/xalloc.h"
#include "util/banned.h"

/* Blobs of two images sharing a layer. */
struct blobs {
	char cfg_a[OCI_DIGEST_MAX], cfg_b[OCI_DIGEST_MAX];
	char l1[OCI_DIGEST_MAX], l2[OCI_DIGEST_MAX], l3[OCI_DIGEST_MAX];
};

static void make_blobs(struct blobs *b)
{
	fx_blob(b->cfg_a, "config a");
	fx_blob(b->cfg_b, "config b");
	fx_blob(b->l1, "layer 1");
	fx_blob(b->l2, "layer 2");
	fx_blob(b->l3, "layer 3");
}

static struct oci_manifest *image_a(const struct blobs *b, const char *pad)
{
	struct fx_desc layers[] = { { b->l1, 1000 }, { b->l2, 2000 } };

	return fx_image((struct fx_desc){ b->cfg_a, 10 }, layers, 2, NULL, pad);
}

static struct oci_manifest *image_b(const struct blobs *b)
{
	struct fx_desc layers[] = { { b->l1, 1000 }, { b->l3, 3000 } };

	return fx_image((struct fx_desc){ b->cfg_b, 20 }, layers, 2, NULL, NULL);
}

static void test_round_trip_bytes(void **state)
{
	struct fx *f = *state;
	struct blobs b;
	struct oci_manifest *m, *got = NULL;
	int64_t created = -1;

	make_blobs(&b);
	m = image_a(&b, " \n\t  \r\n ");
	assert_non_null(memchr(m->raw, '\t', m->raw_len));
	assert_int_equal(catalog_manifest_put(f->c, "reg", "app", m, 1714564800), 0);
	assert_int_equal(catalog_manifest_get(f->c, m->digest, &got), 0);
	assert_int_equal(got->raw_len, m->raw_len);
	assert_memory_equal(got->raw, m->raw, m->raw_len);
	assert_string_equal(got->digest, m->digest);
	assert_string_equal(got->media_type, OCI_MT_IMAGE_MANIFEST);
	assert_int_equal(got->n_layers, 2);
	assert_int_equal(catalog_manifest_created(f->c, m->digest, &created), 0);
	assert_int_equal(created, 1714564800);
	oci_manifest_free(got);
	got = NULL;

	/* Unknown digests and junk. */
	assert_int_equal(catalog_manifest_get(f->c, b.l1, &got), RV_ENOTFOUND);
	assert_non_null(strstr(error_msg(), b.l1));
	assert_null(got);
	assert_int_equal(catalog_manifest_created(f->c, b.l1, &created), RV_ENOTFOUND);
	assert_int_equal(catalog_manifest_get(f->c, "sha256:nothex", &got), RV_EINVALID);
	oci_manifest_free(m);
}

static void test_idempotent_put(void **state)
{
	struct fx *f = *state;
	struct blobs b;
	struct oci_manifest *m;
	int64_t created = -1;
	sqlite3 *db;

	make_blobs(&b);
	m = image_a(&b, NULL);
	assert_int_equal(catalog_manifest_put(f->c, "reg", "app", m, 0), 0);
	assert_int_equal(catalog_manifest_put(f->c, "reg", "app", m, 0), 0);
	assert_int_equal(catalog_manifest_put(f->c, "reg", "mirror/app", m, 1234), 0);
	assert_int_equal(catalog_manifest_put(f->c, "reg", "app", m, 999), 0);
	assert_int_equal(catalog_manifest_created(f->c, m->digest, &created), 0);
	assert_int_equal(created, 1234);   /* learnt once, then kept */

	db = fx_raw_open(f->path);
	assert_int_equal(fx_raw_int(db, "SELECT count(*) FROM manifests"), 1);
	assert_int_equal(fx_raw_int(db, "SELECT count(*) FROM manifest_repositories"), 2);
	assert_int_equal(fx_raw_int(db, "SELECT count(*) FROM manifest_refs"), 3);
	assert_int_equal(fx_raw_int(db, "SELECT count(*) FROM blobs"), 3);
	sqlite3_close(db);
	oci_manifest_free(m);
}

/* "pos role digest" lines of a manifest's refs, in position order. */
static char *refs_of(sqlite3 *db, const char *digest)
{
	sqlite3_stmt *st = NULL;
	struct buf out = BUF_INIT;

	assert_int_equal(sqlite3_prepare_v2(db, "SELECT position, role, digest, size FROM "
	                                    "manifest_refs WHERE manifest = ?1 ORDER BY position",
	                                    -1, &st, NULL), SQLITE_OK);
	sqlite3_bind_text(st, 1, digest, -1, SQLITE_STATIC);
	while (sqlite3_step(st) == SQLITE_ROW)
		buf_addf(&out, "%d %s %.15s %lld\n", sqlite3_column_int(st, 0),
		         (const char *)sqlite3_column_text(st, 1),
		         (const char *)sqlite3_column_text(st, 2),
		         (long long)sqlite3_column_int64(st, 3));
	sqlite3_finalize(st);
	return buf_detach(&out, NULL);
}

static void test_refs_order_and_roles(void **state)
{
	struct fx *f = *state;
	struct blobs b;
	struct oci_manifest *a, *bm, *idx, *sig;
	struct fx_desc sig_layer[1];
	char *refs, *want;
	sqlite3 *db;

	make_blobs(&b);
	a = image_a(&b, NULL);
	bm = image_b(&b);
	idx = fx_index((struct oci_manifest *[]){ a, bm }, 2);
	sig_layer[0] = (struct fx_desc){ b.l3, 3000 };
	sig = fx_image((struct fx_desc){ b.cfg_b, 20 }, sig_layer, 1, idx, NULL);
	assert_int_equal(catalog_manifest_put(f->c, "reg", "app", a, 0), 0);
	assert_int_equal(catalog_manifest_put(f->c, "reg", "app", idx, 0), 0);
	assert_int_equal(catalog_manifest_put(f->c, "reg", "app", sig, 0), 0);

	db = fx_raw_open(f->path);
	refs = refs_of(db, a->digest);
	want = xasprintf("0 config %.15s 10\n1 layer %.15s 1000\n2 layer %.15s 2000\n",
	                 b.cfg_a, b.l1, b.l2);
	assert_string_equal(refs, want);
	free(refs);
	free(want);
	refs = refs_of(db, idx->digest);
	want = xasprintf("0 child %.15s %zu\n1 child %.15s %zu\n", a->digest, a->raw_len,
	                 bm->digest, bm->raw_len);
	assert_string_equal(refs, want);
	free(refs);
	free(want);
	refs = refs_of(db, sig->digest);
	want = xasprintf("0 config %.15s 20\n1 layer %.15s 3000\n2 subject %.15s %zu\n", b.cfg_b,
	                 b.l3, idx->digest, idx->raw_len);
	assert_string_equal(refs, want);
	free(refs);
	free(want);
	/* Blobs are configs and layers; children and subjects are manifests. */
	/* cfg_a, l1, l2 from a; cfg_b, l3 from sig (b itself was not put). */
	assert_int_equal(fx_raw_int(db, "SELECT count(*) FROM blobs"), 5);
	assert_int_equal(fx_raw_int(db, "SELECT size FROM blobs WHERE media_type = "
	                                "'" OCI_MT_IMAGE_CONFIG "' AND size = 10"), 10);
	assert_int_equal(fx_raw_int(db, "SELECT count(*) FROM blobs b JOIN manifest_refs r "
	                                "ON r.digest = b.digest WHERE r.role IN ('child', "
	                                "'subject')"), 0);
	sqlite3_close(db);
	oci_manifest_free(a);
	oci_manifest_free(bm);
	oci_manifest_free(idx);
	oci_manifest_free(sig);
}

static void test_tampered_raw_refused(void **state)
{
	struct fx *f = *state;
	struct blobs b;
	struct oci_manifest *m, *got = NULL;
	sqlite3_stmt *st = NULL;
	char *bad, *hit;
	sqlite3 *db;

	make_blobs(&b);
	m = image_a(&b, NULL);
	assert_int_equal(catalog_manifest_put(f->c, "reg", "app", m, 0), 0);

	/* Same length, one byte changed (config size 10 → 11): still a valid
	 * manifest, but not the one with this digest. */
	bad = xmemdup(m->raw, m->raw_len);
	hit = memmem(bad, m->raw_len, "\"size\":10}", 10);
	assert_non_null(hit);
	hit[8] = '1';
	db = fx_raw_open(f->path);
	assert_int_equal(sqlite3_prepare_v2(db, "UPDATE manifests SET raw = ?1 WHERE digest = ?2",
	                                    -1, &st, NULL), SQLITE_OK);
	sqlite3_bind_blob(st, 1, bad, (int)m->raw_len, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, m->digest, -1, SQLITE_STATIC);
	assert_int_equal(sqlite3_step(st), SQLITE_DONE);
	sqlite3_finalize(st);
	sqlite3_close(db);

	assert_int_equal(catalog_manifest_get(f->c, m->digest, &got), RV_EDIGEST);
	assert_null(got);
	assert_non_null(strstr(error_msg(), m->digest));
	assert_non_null(strstr(error_msg(), f->path));
	free(bad);
	oci_manifest_free(m);
}

static void test_put_refuses_wrong_digest(void **state)
{
	struct fx *f = *state;
	struct blobs b;
	struct oci_manifest *m, *got = NULL;

	make_blobs(&b);
	m = image_a(&b, NULL);
	memcpy(m->digest, b.l1, sizeof(m->digest));
	assert_int_equal(catalog_manifest_put(f->c, "reg", "app", m, 0), RV_EDIGEST);
	assert_int_equal(catalog_manifest_get(f->c, b.l1, &got), RV_ENOTFOUND);
	oci_manifest_free(m);
}

struct seen {
	struct strlist digests;
	int64_t size_sum;
	int manifests;
	int stop_after;
};

static int collect(const char *digest, int64_t size, int is_manifest, void *ctx)
{
	struct seen *s = ctx;

	if (strlist_contains(&s->digests, digest))
		fail_msg("closure yielded \"%s\" twice", digest);
	strlist_add(&s->digests, digest);
	s->size_sum += size;
	s->manifests += is_manifest;
	if (s->stop_after && (int)s->digests.n == s->stop_after)
		return 42;
	return 0;
}

static void test_closure_of_index(void **state)
{
	struct fx *f = *state;
	struct blobs b;
	struct oci_manifest *a, *bm, *idx, *sig;
	struct seen s = { STRLIST_INIT, 0, 0, 0 };
	struct fx_desc sig_layer[1];

	make_blobs(&b);
	a = image_a(&b, NULL);
	bm = image_b(&b);
	idx = fx_index((struct oci_manifest *[]){ a, bm }, 2);
	sig_layer[0] = (struct fx_desc){ b.l3, 3000 };
	sig = fx_image((struct fx_desc){ b.cfg_b, 20 }, sig_layer, 1, idx, NULL);
	assert_int_equal(catalog_manifest_put(f->c, "reg", "app", idx, 0), 0);
	assert_int_equal(catalog_manifest_put(f->c, "reg", "app", a, 0), 0);

	/* Child b is not in the catalog: refused, naming it, fn never called. */
	assert_int_equal(catalog_closure(f->c, idx->digest, collect, &s), RV_ENOTFOUND);
	assert_non_null(strstr(error_msg(), bm->digest));
	assert_int_equal(s.digests.n, 0);

	assert_int_equal(catalog_manifest_put(f->c, "reg", "app", bm, 0), 0);
	assert_int_equal(catalog_manifest_put(f->c, "reg", "app", sig, 0), 0);
	assert_int_equal(catalog_closure(f->c, idx->digest, collect, &s), 0);
	/* 2 children, 2 configs, 3 layers (l1 shared, once). */
	assert_int_equal(s.digests.n, 7);
	assert_int_equal(s.manifests, 2);
	assert_true(strlist_contains(&s.digests, a->digest));
	assert_true(strlist_contains(&s.digests, bm->digest));
	assert_true(strlist_contains(&s.digests, b.l1));
	assert_false(strlist_contains(&s.digests, idx->digest));
	assert_int_equal(s.size_sum, (int64_t)(a->raw_len + bm->raw_len) + 10 + 20 + 1000 + 2000 +
	                 3000);
	strlist_release(&s.digests);

	/* A referrer's closure excludes its subject. */
	s = (struct seen){ STRLIST_INIT, 0, 0, 0 };
	assert_int_equal(catalog_closure(f->c, sig->digest, collect, &s), 0);
	assert_int_equal(s.digests.n, 2);
	assert_int_equal(s.manifests, 0);
	strlist_release(&s.digests);

	/* fn's return stops the walk and is returned. */
	s = (struct seen){ STRLIST_INIT, 0, 0, 3 };
	assert_int_equal(catalog_closure(f->c, idx->digest, collect, &s), 42);
	assert_int_equal(s.digests.n, 3);
	strlist_release(&s.digests);

	/* Unknown root. */
	assert_int_equal(catalog_closure(f->c, b.l1, collect, &s), RV_ENOTFOUND);
	oci_manifest_free(a);
	oci_manifest_free(bm);
	oci_manifest_free(idx);
	oci_manifest_free(sig);
}

static void test_closure_nested_index(void **state)
{
	struct fx *f = *state;
	struct blobs b;
	struct oci_manifest *a, *inner, *outer;
	struct seen s = { STRLIST_INIT, 0, 0, 0 };

	make_blobs(&b);
	a = image_a(&b, NULL);
	inner = fx_index((struct oci_manifest *[]){ a }, 1);
	outer = fx_index((struct oci_manifest *[]){ inner }, 1);
	assert_int_equal(catalog_manifest_put(f->c, "reg", "app", outer, 0), 0);
	assert_int_equal(catalog_manifest_put(f->c, "reg", "app", inner, 0), 0);
	assert_int_equal(catalog_closure(f->c, outer->digest, collect, &s), RV_ENOTFOUND);
	assert_non_null(strstr(error_msg(), a->digest));
	assert_int_equal(catalog_manifest_put(f->c, "reg", "app", a, 0), 0);
	assert_int_equal(catalog_closure(f->c, outer->digest, collect, &s), 0);
	assert_int_equal(s.digests.n, 5);   /* inner, a, config, two layers */
	assert_int_equal(s.manifests, 2);
	strlist_release(&s.digests);
	oci_manifest_free(a);
	oci_manifest_free(inner);
	oci_manifest_free(outer);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_round_trip_bytes, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_idempotent_put, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_refs_order_and_roles, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_tampered_raw_refused, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_put_refuses_wrong_digest, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_closure_of_index, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_closure_nested_index, fx_setup, fx_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
