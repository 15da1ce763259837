/*
 * test_sql_names.c — names that look like SQL stay names (issue 8: "SQL only
 * through prepared statements; a test with quotes and SQL in repository and
 * tag names").
 *
 * The reference grammar forbids quotes, so the CLI never passes such names
 * (tests/security/names_test.sh checks that it refuses them); a catalog
 * written by an older or a foreign tool, a rebuilt archive or a registry
 * that lies could still hand the catalog anything. Every function that
 * stores or looks up a name gets quotes, semicolons, comment markers and
 * LIKE wildcards: each must come back byte for byte, match only itself
 * (never "w%" for "wxyz"), and leave every table in place.
 */
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
#include "util/strlist.h"
#include "util/xalloc.h"
#include "util/banned.h"

#define REG "reg.example:5000'\"; DROP TABLE registries;--"
#define REPO "a'b\"c; DROP TABLE manifests;--"
#define TAG "t'); DELETE FROM tag_history; --"
#define STORE "/srv/vault'); DROP TABLE stores; --"
#define REASON "x'||(SELECT sql FROM sqlite_master)||'"
/* LIKE wildcards: a LIKE or GLOB built from a name would match the others. */
#define W_PCT "w%"
#define W_UND "w_"
#define W_PLAIN "wxyz"

/* The tables of a fresh catalog, with a row count (-1: gone). */
static const char *const tables[] = {
	"blobs", "copies", "deletions", "locations", "manifest_refs", "manifest_repositories",
	"manifests", "registries", "repositories", "runs", "store_refs", "stores", "tag_history",
	"volumes",
};
#define N_TABLES (sizeof(tables) / sizeof(tables[0]))

static void table_counts(const char *path, int64_t out[N_TABLES])
{
	sqlite3 *db = fx_raw_open(path);

	for (size_t i = 0; i < N_TABLES; i++) {
		char sql[128];

		snprintf(sql, sizeof(sql),
		         "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = '%s'",
		         tables[i]);
		assert_int_equal(fx_raw_int(db, sql), 1);
		snprintf(sql, sizeof(sql), "SELECT count(*) FROM %s", tables[i]);
		out[i] = fx_raw_int(db, sql);
	}
	sqlite3_close(db);
}

static int64_t count_of(const int64_t counts[N_TABLES], const char *table)
{
	for (size_t i = 0; i < N_TABLES; i++)
		if (!strcmp(tables[i], table))
			return counts[i];
	fail_msg("no table %s", table);
	return -1;
}

static void integrity_ok(const char *path)
{
	sqlite3 *db = fx_raw_open(path);
	sqlite3_stmt *st = NULL;

	assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_string_equal((const char *)sqlite3_column_text(st, 0), "ok");
	sqlite3_finalize(st);
	sqlite3_close(db);
}

static struct oci_manifest *image(const char *seed)
{
	char cfg[OCI_DIGEST_MAX], layer[OCI_DIGEST_MAX], c[64], l[64];
	struct fx_desc ly;

	snprintf(c, sizeof(c), "config %s", seed);
	snprintf(l, sizeof(l), "layer %s", seed);
	fx_blob(cfg, c);
	fx_blob(layer, l);
	ly = (struct fx_desc){ layer, 100 };
	return fx_image((struct fx_desc){ cfg, 10 }, &ly, 1, NULL, NULL);
}

/* Records m as held by store under reg/repo:tag, with every part copied. */
static void record(struct fx *f, int64_t store, const char *reg, const char *repo,
                   const char *tag, const struct oci_manifest *m, int64_t run)
{
	struct catalog_image_manifest im[] = { { m, 1, tag, 0 } };
	struct catalog_image_object io[] = { { m->config.digest, "read-back" },
		                             { m->layers[0].digest, "read-back" },
		                             { m->digest, "read-back" } };
	struct catalog_image img = { store, reg, repo, tag, m->digest, im, 1, io, 3, 1000, run, 1 };
	int complete = 0;

	assert_int_equal(catalog_manifest_put(f->c, reg, repo, m, 0), 0);
	assert_int_equal(catalog_record_image(f->c, &img, &complete), 0);
	assert_int_equal(complete, 1);
}

struct seen {
	int n;
	char names[8][512];
};

static int collect_entry(const struct catalog_entry *e, void *ctx)
{
	struct seen *s = ctx;

	if (s->n < 8)
		snprintf(s->names[s->n], sizeof(s->names[0]), "%s|%s|%s|%s", e->store, e->registry,
		         e->repository, e->tag ? e->tag : "-");
	s->n++;
	return 0;
}

static int collect_holder(const struct catalog_holder *h, void *ctx)
{
	struct seen *s = ctx;

	if (s->n < 8)
		snprintf(s->names[s->n], sizeof(s->names[0]), "%s|%s|%s|%s", h->store, h->registry,
		         h->repository, h->tag ? h->tag : "-");
	s->n++;
	return 0;
}

static int collect_deletion(const struct catalog_deletion *d, void *ctx)
{
	struct seen *s = ctx;

	if (s->n < 8)
		snprintf(s->names[s->n], sizeof(s->names[0]), "%s|%s|%s|%s", d->registry,
		         d->repository, d->n_tags ? d->tags[0] : "-", d->reason);
	s->n++;
	return 0;
}

static int has(const struct strlist *l, const char *s)
{
	return strlist_contains(l, s);
}

static void test_sql_in_names(void **state)
{
	struct fx *f = *state;
	struct oci_manifest *m = image("evil"), *mw[3];
	const char *const wrepos[3] = { W_PCT, W_UND, W_PLAIN };
	const char *const tags[] = { TAG, "'", "%" };
	char got[OCI_DIGEST_MAX];
	int64_t before[N_TABLES], after[N_TABLES], run = 0, store = 0, del = 0;
	struct catalog_tag_event *ev = NULL;
	struct strlist l = STRLIST_INIT;
	struct seen s;
	size_t n = 0;

	table_counts(f->path, before);
	assert_int_equal(catalog_run_start(f->c, "backup", "[\"a'b\",\"; DROP TABLE runs;--\"]",
	                                   &run), 0);
	assert_int_equal(catalog_store_id(f->c, CATALOG_STORE_ARCHIVE, STORE, &store), 0);

	/* Tag history. */
	assert_int_equal(catalog_tag_seen(f->c, REG, REPO, TAG, m->digest, 100, run), 0);
	assert_int_equal(catalog_tag_resolve(f->c, REG, REPO, TAG, 0, got), 0);
	assert_string_equal(got, m->digest);
	assert_int_equal(catalog_tag_history(f->c, REG, REPO, TAG, &ev, &n), 0);
	assert_int_equal(n, 1);
	free(ev);

	/* A whole image under the names; then what every listing gives back. */
	record(f, store, REG, REPO, TAG, m, run);
	assert_int_equal(catalog_store_ref_get(f->c, store, REG, REPO, TAG, got), 0);
	assert_string_equal(got, m->digest);
	memset(&s, 0, sizeof(s));
	assert_int_equal(catalog_entries(f->c, NULL, collect_entry, &s), 0);
	assert_int_equal(s.n, 1);
	assert_string_equal(s.names[0], STORE "|" REG "|" REPO "|" TAG);
	memset(&s, 0, sizeof(s));
	assert_int_equal(catalog_holders(f->c, m->digest, collect_holder, &s), 0);
	assert_int_equal(s.n, 1);
	assert_string_equal(s.names[0], STORE "|" REG "|" REPO "|" TAG);
	assert_int_equal(catalog_known_repositories(f->c, REG, &l), 0);
	assert_true(l.n == 1 && has(&l, REPO));
	strlist_release(&l);
	assert_int_equal(catalog_known_tags(f->c, REG, REPO, &l), 0);
	assert_true(l.n == 1 && has(&l, TAG));
	strlist_release(&l);
	assert_int_equal(catalog_known_digests(f->c, REG, REPO, &l), 0);
	assert_true(l.n == 1 && has(&l, m->digest));
	strlist_release(&l);

	/* The deletion journal keeps tags and reasons as given. */
	assert_int_equal(catalog_deletion_record(f->c, run, REG, REPO, m->digest, tags, 3, REASON,
	                                         &del), 0);
	memset(&s, 0, sizeof(s));
	assert_int_equal(catalog_deletions(f->c, run, collect_deletion, &s), 0);
	assert_int_equal(s.n, 1);
	assert_string_equal(s.names[0], REG "|" REPO "|" TAG "|" REASON);
	assert_int_equal(catalog_run_finish(f->c, run, "ok", "{\"note\":\"'); DROP TABLE runs;--\"}"),
	                 0);

	/* Wildcards match only themselves: each repository has its own tag. */
	for (int i = 0; i < 3; i++) {
		char tag[16];

		mw[i] = image(wrepos[i]);
		snprintf(tag, sizeof(tag), "tag%d", i);
		record(f, store, REG, wrepos[i], tag, mw[i], run);
		assert_int_equal(catalog_tag_seen(f->c, REG, wrepos[i], tag, mw[i]->digest, 100, run),
		                 0);
	}
	/* The same for tags: "v_" and "v%" name nothing but themselves. */
	assert_int_equal(catalog_tag_seen(f->c, REG, W_PLAIN, "v1", mw[2]->digest, 100, run), 0);
	assert_int_equal(catalog_tag_seen(f->c, REG, W_PLAIN, "v%", mw[0]->digest, 100, run), 0);
	assert_int_equal(catalog_tag_resolve(f->c, REG, W_PLAIN, "v_", 0, got), RV_ENOTFOUND);
	assert_int_equal(catalog_tag_resolve(f->c, REG, W_PLAIN, "v%", 0, got), 0);
	assert_string_equal(got, mw[0]->digest);
	assert_int_equal(catalog_tag_resolve(f->c, REG, W_PLAIN, "v1", 0, got), 0);
	assert_string_equal(got, mw[2]->digest);
	assert_int_equal(catalog_tag_history(f->c, REG, W_PLAIN, "v_", &ev, &n), RV_ENOTFOUND);
	free(ev);
	ev = NULL;
	assert_int_equal(catalog_tag_resolve(f->c, REG, W_PCT, "tag2", 0, got), RV_ENOTFOUND);
	assert_int_equal(catalog_tag_resolve(f->c, REG, W_UND, "tag0", 0, got), RV_ENOTFOUND);
	assert_int_equal(catalog_store_ref_get(f->c, store, REG, W_PCT, "tag1", got), RV_ENOTFOUND);
	assert_int_equal(catalog_store_ref_get(f->c, store, "%", W_PCT, "tag0", got), RV_ENOTFOUND);
	assert_int_equal(catalog_store_ref_get(f->c, store, REG, W_UND, "tag1", got), 0);
	assert_string_equal(got, mw[1]->digest);
	for (int i = 0; i < 3; i++) {
		char tag[16];

		snprintf(tag, sizeof(tag), "tag%d", i);
		assert_int_equal(catalog_known_tags(f->c, REG, wrepos[i], &l), 0);
		assert_true(l.n == (i == 2 ? 3u : 1u) && has(&l, tag));
		strlist_release(&l);
		assert_int_equal(catalog_known_digests(f->c, REG, wrepos[i], &l), 0);
		assert_true(l.n == (i == 2 ? 2u : 1u) && has(&l, mw[i]->digest));
		strlist_release(&l);
	}
	assert_int_equal(catalog_known_repositories(f->c, "%", &l), 0);
	assert_int_equal(l.n, 0);
	strlist_release(&l);
	/* catalog list GLOB: '%' and '_' are ordinary characters there. */
	memset(&s, 0, sizeof(s));
	assert_int_equal(catalog_entries(f->c, "*/w%:*", collect_entry, &s), 0);
	assert_int_equal(s.n, 1);
	assert_string_equal(s.names[0], STORE "|" REG "|" W_PCT "|tag0");
	memset(&s, 0, sizeof(s));
	assert_int_equal(catalog_entries(f->c, "*/w_:*", collect_entry, &s), 0);
	assert_int_equal(s.n, 1);
	assert_string_equal(s.names[0], STORE "|" REG "|" W_UND "|tag1");
	memset(&s, 0, sizeof(s));
	assert_int_equal(catalog_entries(f->c, "*'*", collect_entry, &s), 0);
	assert_int_equal(s.n, 4); /* the quote is in REG: every entry */

	/* A reopened catalog reads them back the same, and every table is there. */
	catalog_close(f->c);
	f->c = NULL;
	assert_int_equal(catalog_open(&f->c, f->path, CATALOG_READ), 0);
	assert_int_equal(catalog_tag_resolve(f->c, REG, REPO, TAG, 0, got), 0);
	assert_string_equal(got, m->digest);
	catalog_close(f->c);
	f->c = NULL;
	table_counts(f->path, after);
	assert_int_equal(count_of(before, "manifests"), 0);
	assert_int_equal(count_of(after, "registries"), 1);
	assert_int_equal(count_of(after, "repositories"), 4);
	assert_int_equal(count_of(after, "manifests"), 4);
	assert_int_equal(count_of(after, "tag_history"), 6);
	assert_int_equal(count_of(after, "store_refs"), 4);
	assert_int_equal(count_of(after, "stores"), 1);
	assert_int_equal(count_of(after, "runs"), 1);
	assert_int_equal(count_of(after, "deletions"), 1);
	integrity_ok(f->path);
	for (int i = 0; i < 3; i++)
		oci_manifest_free(mw[i]);
	oci_manifest_free(m);
}

/* A store location and a registry are names too. */
static void test_sql_in_stores(void **state)
{
	struct fx *f = *state;
	int64_t a = 0, a2 = 0, b = 0, c = 0;

	assert_int_equal(catalog_store_id(f->c, CATALOG_STORE_ARCHIVE, STORE, &a), 0);
	assert_int_equal(catalog_store_id(f->c, CATALOG_STORE_ARCHIVE, STORE, &a2), 0);
	assert_int_equal(a, a2);
	assert_int_equal(catalog_store_id(f->c, CATALOG_STORE_REGISTRY, "%", &b), 0);
	assert_int_equal(catalog_store_id(f->c, CATALOG_STORE_REGISTRY, "_", &c), 0);
	assert_true(a != b && b != c && a != c);
	catalog_close(f->c);
	f->c = NULL;
	assert_int_equal(catalog_open(&f->c, f->path, CATALOG_READ), 0);
	assert_int_equal(catalog_store_id(f->c, CATALOG_STORE_REGISTRY, "x", &a2), RV_ENOTFOUND);
	assert_int_equal(catalog_store_id(f->c, CATALOG_STORE_REGISTRY, "%", &a2), 0);
	assert_int_equal(a2, b);
	integrity_ok(f->path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_sql_in_names, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_sql_in_stores, fx_setup, fx_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
