/* Unit tests for catalog/: stores, copies, volumes and locations, store
 * refs, and the listings (entries with glob and total_size, copies). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "tests/catalog/fixture.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/strlist.h"
#include "util/xalloc.h"
#include "util/banned.h"

#define SHA_VOL "sha256:9999999999999999999999999999999999999999999999999999999999999999"

static void test_store_ids(void **state)
{
	struct fx *f = *state;
	int64_t a = 0, a2 = 0, r = 0;

	assert_int_equal(catalog_store_id(f->c, CATALOG_STORE_ARCHIVE, "/backups/a", &a), 0);
	assert_int_equal(catalog_store_id(f->c, CATALOG_STORE_ARCHIVE, "/backups/a", &a2), 0);
	assert_int_equal(a, a2);
	assert_int_equal(catalog_store_id(f->c, CATALOG_STORE_REGISTRY, "/backups/a", &r), 0);
	assert_int_not_equal(a, r);
	assert_int_equal(catalog_store_id(f->c, (enum catalog_store_kind)7, "x", &r), RV_EINVALID);
	assert_int_equal(catalog_store_id(f->c, CATALOG_STORE_ARCHIVE, "", &r), RV_EINVALID);
}

static void test_copy_put_has_drop(void **state)
{
	struct fx *f = *state;
	char d[OCI_DIGEST_MAX];
	int64_t s1 = 0, s2 = 0, run = 0;
	sqlite3 *db;

	fx_blob(d, "layer");
	assert_int_equal(catalog_run_start(f->c, "backup", "{}", &run), 0);
	assert_int_equal(catalog_store_id(f->c, CATALOG_STORE_ARCHIVE, "/b", &s1), 0);
	assert_int_equal(catalog_store_id(f->c, CATALOG_STORE_REGISTRY, "standby", &s2), 0);
	assert_int_equal(catalog_copy_has(f->c, s1, d), RV_ENOTFOUND);
	assert_non_null(strstr(error_msg(), d));
	assert_int_equal(catalog_copy_put(f->c, s1, d, 100, "read-back", run), 0);
	assert_int_equal(catalog_copy_has(f->c, s1, d), 0);
	assert_int_equal(catalog_copy_has(f->c, s2, d), RV_ENOTFOUND);
	/* Re-verification updates the row. */
	assert_int_equal(catalog_copy_put(f->c, s1, d, 200, "deep", 0), 0);
	db = fx_raw_open(f->path);
	assert_int_equal(fx_raw_int(db, "SELECT verified_at FROM copies WHERE how = 'deep'"), 200);
	assert_int_equal(fx_raw_int(db, "SELECT run_id FROM copies"), run);
	sqlite3_close(db);

	assert_int_equal(catalog_copy_put(f->c, s1, d, 1, "guess", 0), RV_EINVALID);
	assert_int_equal(catalog_copy_put(f->c, s1, "sha256:abc", 1, "head", 0), RV_EINVALID);
	assert_int_equal(catalog_copy_put(f->c, s2 + 50, d, 1, "head", 0), RV_ENOTFOUND);

	assert_int_equal(catalog_copy_drop(f->c, s1, d), 0);
	assert_int_equal(catalog_copy_has(f->c, s1, d), RV_ENOTFOUND);
	assert_int_equal(catalog_copy_drop(f->c, s1, d), 0);
}

static void test_volumes_and_locations(void **state)
{
	struct fx *f = *state;
	struct catalog_location loc;
	char d[OCI_DIGEST_MAX], e[OCI_DIGEST_MAX];
	int64_t s1 = 0, s2 = 0, v1 = 0, v2 = 0, v3 = 0, x = 0;

	fx_blob(d, "blob d");
	fx_blob(e, "blob e");
	assert_int_equal(catalog_store_id(f->c, CATALOG_STORE_ARCHIVE, "/b1", &s1), 0);
	assert_int_equal(catalog_store_id(f->c, CATALOG_STORE_ARCHIVE, "/b2", &s2), 0);
	assert_int_equal(catalog_volume_add(f->c, s1, "volumes/000001-a.tar", 10240, SHA_VOL, 0,
	                                    &v1), 0);
	assert_int_equal(catalog_volume_add(f->c, s1, "volumes/000002-b.tar", 20480, SHA_VOL, 0,
	                                    &v2), 0);
	assert_int_equal(catalog_volume_add(f->c, s2, "volumes/000001-a.tar", 10240, SHA_VOL, 0,
	                                    &v3), 0);
	assert_true(v1 != v2 && v2 != v3);
	assert_int_equal(catalog_volume_add(f->c, s1, "volumes/000001-a.tar", 1, SHA_VOL, 0, &x),
	                 RV_EEXISTS);
	assert_int_equal(catalog_volume_add(f->c, s1, "../escape.tar", 1, SHA_VOL, 0, &x),
	                 RV_EINVALID);
	assert_int_equal(catalog_volume_add(f->c, s1, "/abs.tar", 1, SHA_VOL, 0, &x), RV_EINVALID);
	assert_int_equal(catalog_volume_add(f->c, s1, "volumes/../../x", 1, SHA_VOL, 0, &x),
	                 RV_EINVALID);

	assert_int_equal(catalog_location_get(f->c, s1, d, &loc), RV_ENOTFOUND);
	/* d sits in both volumes of s1 (a rebuild saw it twice): the oldest wins. */
	assert_int_equal(catalog_location_put(f->c, v2, d, 4096, 77), 0);
	assert_int_equal(catalog_location_put(f->c, v1, d, 512, 77), 0);
	assert_int_equal(catalog_location_put(f->c, v1, e, 1536, 5), 0);
	assert_int_equal(catalog_location_put(f->c, v3, d, 1024, 77), 0);
	assert_int_equal(catalog_location_put(f->c, v3 + 9, d, 1024, 77), RV_ENOTFOUND);
	assert_int_equal(catalog_location_put(f->c, v1, d, -1, 77), RV_EINVALID);

	assert_int_equal(catalog_location_get(f->c, s1, d, &loc), 0);
	assert_string_equal(loc.volume, "volumes/000001-a.tar");
	assert_int_equal(loc.offset, 512);
	assert_int_equal(loc.length, 77);
	assert_int_equal(catalog_location_get(f->c, s2, d, &loc), 0);
	assert_int_equal(loc.offset, 1024);

	/* Dropping s1's copy of d forgets its locations in s1 only. */
	assert_int_equal(catalog_copy_put(f->c, s1, d, 1, "read-back", 0), 0);
	assert_int_equal(catalog_copy_drop(f->c, s1, d), 0);
	assert_int_equal(catalog_location_get(f->c, s1, d, &loc), RV_ENOTFOUND);
	assert_int_equal(catalog_location_get(f->c, s1, e, &loc), 0);
	assert_int_equal(catalog_location_get(f->c, s2, d, &loc), 0);
}

/* --- Listings ------------------------------------------------------------------ */

static int list_entry(const struct catalog_entry *e, void *ctx)
{
	struct buf *out = ctx;

	buf_addf(out, "%s %s %s/%s%s%s %.13s %lld/%lld v%lld c%lld %s\n", e->store_kind, e->store,
	         e->registry, e->repository, e->tag ? ":" : "@", e->tag ? e->tag : "",
	         e->digest, (long long)e->size, (long long)e->total_size,
	         (long long)e->verified_at, (long long)e->created,
	         e->stored_at > 0 ? "stored" : "never");
	return 0;
}

static int stop_at_first(const struct catalog_entry *e, void *ctx)
{
	(void)e;
	(*(int *)ctx)++;
	return 7;
}

struct listing {
	struct oci_manifest *a, *idx;
	int64_t archive, standby;
	int64_t total_a, total_idx;
};

static void put_images(catalog *c, struct listing *l)
{
	char cfg[OCI_DIGEST_MAX], l1[OCI_DIGEST_MAX], l2[OCI_DIGEST_MAX], cfg2[OCI_DIGEST_MAX];
	struct fx_desc la[] = { { l1, 1000 }, { l2, 2000 } }, lb[] = { { l1, 1000 } };
	struct oci_manifest *b;

	fx_blob(cfg, "cfg");
	fx_blob(cfg2, "cfg2");
	fx_blob(l1, "l1");
	fx_blob(l2, "l2");
	l->a = fx_image((struct fx_desc){ cfg, 10 }, la, 2, NULL, NULL);
	b = fx_image((struct fx_desc){ cfg2, 20 }, lb, 1, NULL, NULL);
	l->idx = fx_index((struct oci_manifest *[]){ l->a, b }, 2);
	l->total_a = (int64_t)l->a->raw_len + 10 + 1000 + 2000;
	l->total_idx = (int64_t)(l->idx->raw_len + l->a->raw_len + b->raw_len) + 10 + 20 + 1000 +
	               2000;
	assert_int_equal(catalog_manifest_put(c, "reg.io", "team/app", l->a, 1700000000), 0);
	assert_int_equal(catalog_manifest_put(c, "reg.io", "team/app", b, 0), 0);
	assert_int_equal(catalog_manifest_put(c, "reg.io", "team/multi", l->idx, 0), 0);
	assert_int_equal(catalog_store_id(c, CATALOG_STORE_ARCHIVE, "/bk", &l->archive), 0);
	assert_int_equal(catalog_store_id(c, CATALOG_STORE_REGISTRY, "standby:5000", &l->standby),
	                 0);
	oci_manifest_free(b);
}

static void test_store_refs_and_entries(void **state)
{
	struct fx *f = *state;
	struct listing l;
	struct buf out = BUF_INIT;
	char *want;
	int calls = 0;

	put_images(f->c, &l);
	assert_int_equal(catalog_copy_put(f->c, l.archive, l.a->digest, 500, "read-back", 0), 0);
	assert_int_equal(catalog_store_ref_put(f->c, l.archive, "reg.io", "team/app", "v2",
	                                       l.idx->digest, 0), 0);
	/* v2 moves to a: the index stays listed by digest. */
	assert_int_equal(catalog_store_ref_put(f->c, l.archive, "reg.io", "team/app", "v2",
	                                       l.a->digest, 0), 0);
	assert_int_equal(catalog_store_ref_put(f->c, l.archive, "reg.io", "team/app", "v1",
	                                       l.a->digest, 0), 0);
	/* Already named by a tag in this store: not listed again by digest. */
	assert_int_equal(catalog_store_ref_put(f->c, l.archive, "reg.io", "team/app", NULL,
	                                       l.a->digest, 0), 0);
	assert_int_equal(catalog_store_ref_put(f->c, l.standby, "reg.io", "team/multi", "latest",
	                                       l.idx->digest, 0), 0);
	assert_int_equal(catalog_store_ref_put(f->c, l.standby, "reg.io", "team/multi", "latest",
	                                       l.idx->digest, 0), 0);
	assert_int_equal(catalog_store_ref_put(f->c, l.standby, "reg.io", "team/multi", "",
	                                       l.idx->digest, 0), RV_EINVALID);

	/* Looking one name up: the moved tag answers its new digest. */
	char got[OCI_DIGEST_MAX];
	assert_int_equal(catalog_store_ref_get(f->c, l.archive, "reg.io", "team/app", "v2", got), 0);
	assert_string_equal(got, l.a->digest);
	assert_int_equal(catalog_store_ref_get(f->c, l.standby, "reg.io", "team/app", "v2", got),
	                 RV_ENOTFOUND);
	assert_int_equal(catalog_store_ref_get(f->c, l.archive, "reg.io", "team/nope", "v2", got),
	                 RV_ENOTFOUND);

	assert_int_equal(catalog_entries(f->c, NULL, list_entry, &out), 0);
	want = xasprintf(
		"archive /bk reg.io/team/app:v1 %.13s %zu/%lld v500 c1700000000 stored\n"
		"archive /bk reg.io/team/app:v2 %.13s %zu/%lld v500 c1700000000 stored\n"
		"archive /bk reg.io/team/app@ %.13s %zu/%lld v0 c0 stored\n"
		"registry standby:5000 reg.io/team/multi:latest %.13s %zu/%lld v0 c0 stored\n",
		l.a->digest, l.a->raw_len, (long long)l.total_a,
		l.a->digest, l.a->raw_len, (long long)l.total_a,
		l.idx->digest, l.idx->raw_len, (long long)l.total_idx,
		l.idx->digest, l.idx->raw_len, (long long)l.total_idx);
	assert_string_equal(buf_cstr(&out), want);
	free(want);

	buf_reset(&out);
	assert_int_equal(catalog_entries(f->c, "reg.io/team/app:*", list_entry, &out), 0);
	assert_int_equal(strlen(buf_cstr(&out)) > 0, 1);
	assert_null(strstr(buf_cstr(&out), "@"));
	assert_null(strstr(buf_cstr(&out), "multi"));
	buf_reset(&out);
	want = xasprintf("reg.io/team/app@%s", l.idx->digest);
	assert_int_equal(catalog_entries(f->c, want, list_entry, &out), 0);
	assert_non_null(strstr(buf_cstr(&out), "team/app@"));
	assert_null(strchr(strchr(buf_cstr(&out), '\n') + 1, '\n'));
	free(want);
	buf_reset(&out);
	assert_int_equal(catalog_entries(f->c, "*:nope", list_entry, &out), 0);
	assert_string_equal(buf_cstr(&out), "");

	/* A tag now names the index: its by-digest row goes. */
	assert_int_equal(catalog_store_ref_put(f->c, l.archive, "reg.io", "team/app", "v3",
	                                       l.idx->digest, 0), 0);
	buf_reset(&out);
	assert_int_equal(catalog_entries(f->c, "reg.io/team/app*", list_entry, &out), 0);
	assert_null(strstr(buf_cstr(&out), "@"));
	assert_non_null(strstr(buf_cstr(&out), "reg.io/team/app:v3"));

	assert_int_equal(catalog_entries(f->c, NULL, stop_at_first, &calls), 7);
	assert_int_equal(calls, 1);
	buf_release(&out);
	oci_manifest_free(l.a);
	oci_manifest_free(l.idx);
}

static int list_copy(const struct catalog_copy *cp, void *ctx)
{
	struct buf *out = ctx;

	buf_addf(out, "%s %.13s %lld m%d", cp->store_kind, cp->digest, (long long)cp->size,
	         cp->is_manifest);
	if (cp->location)
		buf_addf(out, " %s+%lld:%lld", cp->location->volume, (long long)cp->location->offset,
		         (long long)cp->location->length);
	buf_addch(out, '\n');
	return 0;
}

/* The image's own copy row only when every part is held; an index with a
 * child left out is recorded, but not as a complete copy. */
static void test_record_image(void **state)
{
	struct fx *f = *state;
	struct listing l;
	char cfg[OCI_DIGEST_MAX], l1[OCI_DIGEST_MAX], l2[OCI_DIGEST_MAX];
	int complete = -1;

	put_images(f->c, &l);
	fx_blob(cfg, "cfg");
	fx_blob(l1, "l1");
	fx_blob(l2, "l2");
	struct catalog_image_manifest am[] = { { l.a, 1, "v1", 0 } };
	struct catalog_image_object ao[] = { { cfg, "read-back" }, { l1, "read-back" },
	                                     { l2, "head" }, { l.a->digest, "read-back" } };
	struct catalog_image a = { l.standby, "reg.io", "team/app", "v1", l.a->digest,
	                           am, 1, ao, 4, 900, 0, 1 };
	assert_int_equal(catalog_record_image(f->c, &a, &complete), 0);
	assert_int_equal(complete, 1);
	assert_int_equal(catalog_copy_has(f->c, l.standby, l.a->digest), 0);

	/* The index: its second child and that child's config are not held. */
	struct catalog_image_manifest im[] = { { l.a, 0, NULL, 0 }, { l.idx, 1, "multi", 0 } };
	struct catalog_image_object io[] = { { l.idx->digest, "read-back" } };
	struct catalog_image ix = { l.standby, "reg.io", "team/multi", "multi", l.idx->digest,
	                            im, 2, io, 1, 900, 0, 1 };
	assert_int_equal(catalog_record_image(f->c, &ix, &complete), 0);
	assert_int_equal(complete, 0);
	assert_int_equal(catalog_copy_has(f->c, l.standby, l.idx->digest), RV_ENOTFOUND);
	char got[OCI_DIGEST_MAX];
	assert_int_equal(catalog_store_ref_get(f->c, l.standby, "reg.io", "team/multi", "multi", got),
	                 0);
	/* The index took its newest child's time (a: 1700000000). */
	int64_t t = 0;
	assert_int_equal(catalog_manifest_created(f->c, l.idx->digest, &t), 0);
	assert_int_equal(t, 1700000000);

	/* Several drops in one step, inside nested operations. */
	struct catalog_copy_ref dead[2] = { { l.standby, "" }, { l.standby, "" } };
	snprintf(dead[0].digest, sizeof(dead[0].digest), "%s", l1);
	snprintf(dead[1].digest, sizeof(dead[1].digest), "%s", l.a->digest);
	assert_int_equal(catalog_copies_drop(f->c, dead, 2), 0);
	assert_int_equal(catalog_copy_has(f->c, l.standby, l1), RV_ENOTFOUND);
	assert_int_equal(catalog_copy_has(f->c, l.standby, l.a->digest), RV_ENOTFOUND);
	assert_int_equal(catalog_copy_has(f->c, l.standby, cfg), 0);
	oci_manifest_free(l.a);
	oci_manifest_free(l.idx);
}

static int count_holder(const struct catalog_holder *h, void *ctx)
{
	struct buf *b = ctx;
	buf_addf(b, "%s %s %s/%s:%s\n", h->store_kind, h->store, h->registry, h->repository,
	         h->tag ? h->tag : "-");
	return 0;
}

static int list_deletion(const struct catalog_deletion *d, void *ctx)
{
	struct buf *b = ctx;
	buf_addf(b, "%s/%s@%.12s [", d->registry, d->repository, d->digest);
	for (size_t i = 0; i < d->n_tags; i++)
		buf_addf(b, "%s%s", i ? "," : "", d->tags[i]);
	buf_addf(b, "] %s deleted=%d undone=%d\n", d->reason, d->deleted_at > 0, d->undone_at > 0);
	return 0;
}

/* restore finds who holds a digest; prune's journal reads back per run. */
static void test_holders_names_and_journal(void **state)
{
	struct fx *f = *state;
	struct listing l;
	struct buf out = BUF_INIT;
	struct strlist names = STRLIST_INIT;
	int64_t run = 0, d1 = 0, d2 = 0;

	put_images(f->c, &l);
	assert_int_equal(catalog_store_ref_put(f->c, l.archive, "reg.io", "team/app", "v1",
	                                       l.a->digest, 0), 0);
	assert_int_equal(catalog_store_ref_put(f->c, l.standby, "reg.io", "team/app", "v1",
	                                       l.a->digest, 0), 0);
	/* Only the standby has a verified copy: only it holds the image. */
	assert_int_equal(catalog_copy_put(f->c, l.standby, l.a->digest, 700, "read-back", 0), 0);
	assert_int_equal(catalog_holders(f->c, l.a->digest, count_holder, &out), 0);
	assert_string_equal(buf_cstr(&out), "registry standby:5000 reg.io/team/app:v1\n");
	buf_reset(&out);

	assert_int_equal(catalog_tag_seen(f->c, "reg.io", "team/app", "v1", l.a->digest, 10, 0), 0);
	assert_int_equal(catalog_tag_seen(f->c, "reg.io", "team/app", "v2", l.a->digest, 10, 0), 0);
	assert_int_equal(catalog_known_tags(f->c, "reg.io", "team/app", &names), 0);
	assert_int_equal(names.n, 2);
	assert_string_equal(names.v[1], "v2");
	strlist_release(&names);
	assert_int_equal(catalog_known_tags(f->c, "reg.io", "nope", &names), 0);
	assert_int_equal(names.n, 0);
	assert_int_equal(catalog_known_repositories(f->c, "reg.io", &names), 0);
	assert_true(strlist_contains(&names, "team/multi"));
	strlist_release(&names);

	const char *tags[] = { "v1", "v2" };
	assert_int_equal(catalog_run_start(f->c, "prune", "[]", &run), 0);
	assert_int_equal(catalog_deletion_record(f->c, run, "reg.io", "team/app", l.a->digest, tags,
	                                         2, "rule 2: newest 1", &d1), 0);
	assert_int_equal(catalog_deletion_record(f->c, run, "reg.io", "team/multi", l.idx->digest,
	                                         NULL, 0, "untagged", &d2), 0);
	assert_int_equal(catalog_deletion_confirm(f->c, d1, 1000), 0);
	assert_int_equal(catalog_deletion_undone(f->c, d2, 2000), 0);
	assert_int_equal(catalog_run_undone(f->c, run, 2000), 0);
	assert_int_equal(catalog_deletions(f->c, run, list_deletion, &out), 0);
	char *want = xasprintf("reg.io/team/app@%.12s [v1,v2] rule 2: newest 1 deleted=1 undone=0\n"
	                       "reg.io/team/multi@%.12s [] untagged deleted=0 undone=1\n",
	                       l.a->digest, l.idx->digest);
	assert_string_equal(buf_cstr(&out), want);
	free(want);
	assert_int_equal(catalog_deletions(f->c, run + 100, list_deletion, &out), RV_ENOTFOUND);
	assert_int_equal(catalog_deletion_confirm(f->c, 9999, 1), RV_ENOTFOUND);
	buf_release(&out);
	oci_manifest_free(l.a);
	oci_manifest_free(l.idx);
}

static void test_copies_listing(void **state)
{
	struct fx *f = *state;
	struct listing l;
	struct buf out = BUF_INIT;
	char cfg[OCI_DIGEST_MAX], stray[OCI_DIGEST_MAX], *want;
	const char *first, *second;
	int64_t vol = 0;

	put_images(f->c, &l);
	fx_blob(cfg, "cfg");
	fx_blob(stray, "stray");
	assert_int_equal(catalog_volume_add(f->c, l.archive, "volumes/1.tar", 4096, SHA_VOL, 0,
	                                    &vol), 0);
	assert_int_equal(catalog_location_put(f->c, vol, cfg, 1536, 10), 0);
	assert_int_equal(catalog_copy_put(f->c, l.archive, cfg, 1, "read-back", 0), 0);
	assert_int_equal(catalog_copy_put(f->c, l.archive, l.a->digest, 1, "read-back", 0), 0);
	assert_int_equal(catalog_copy_put(f->c, l.standby, l.a->digest, 1, "head", 0), 0);
	assert_int_equal(catalog_copy_put(f->c, l.standby, stray, 1, "head", 0), 0);

	/* By digest: the order of cfg and a depends on their hex. */
	first = strcmp(cfg, l.a->digest) < 0 ? cfg : l.a->digest;
	second = first == cfg ? l.a->digest : cfg;
	assert_int_equal(catalog_copies(f->c, l.archive, list_copy, &out), 0);
	want = first == cfg
		? xasprintf("archive %.13s 10 m0 volumes/1.tar+1536:10\narchive %.13s %zu m1\n",
		            first, second, l.a->raw_len)
		: xasprintf("archive %.13s %zu m1\narchive %.13s 10 m0 volumes/1.tar+1536:10\n",
		            first, l.a->raw_len, second);
	assert_string_equal(buf_cstr(&out), want);
	free(want);

	/* All stores: the standby's copies too, a digest unknown elsewhere as -1. */
	buf_reset(&out);
	assert_int_equal(catalog_copies(f->c, 0, list_copy, &out), 0);
	want = xasprintf("registry %.13s -1 m0\n", stray);
	assert_non_null(strstr(buf_cstr(&out), want));
	free(want);
	want = xasprintf("registry %.13s %zu m1\n", l.a->digest, l.a->raw_len);
	assert_non_null(strstr(buf_cstr(&out), want));
	free(want);
	buf_release(&out);
	oci_manifest_free(l.a);
	oci_manifest_free(l.idx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_store_ids, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_copy_put_has_drop, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_volumes_and_locations, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_store_refs_and_entries, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_copies_listing, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_record_image, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_holders_names_and_journal, fx_setup, fx_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
