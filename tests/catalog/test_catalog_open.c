/* Unit tests for catalog/: opening, migrating, file modes, the writer lock,
 * readers, runs and transactions. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "tests/catalog/fixture.h"
#include "util/error.h"
#include "util/xalloc.h"
#include "util/banned.h"

#define DIGEST_A "sha256:6d9f0b3a8e7b2f1c4d5e6a7b8c9d0e1f2a3b4c5d6e7f8091a2b3c4d5e6f70819"

static void test_create_migrate_modes(void **state)
{
	struct fx *f = *state;
	char *dir = xasprintf("%s/data", f->dir), *p;
	mode_t old = umask(0);   /* a permissive umask must not leak into modes */
	sqlite3 *db;

	assert_int_equal(catalog_open(&f->c, f->path, CATALOG_WRITE), 0);
	umask(old);
	assert_int_equal(fx_mode(dir), 0700);
	assert_int_equal(fx_mode(f->path), 0600);
	p = xasprintf("%s.lock", f->path);
	assert_int_equal(fx_mode(p), 0600);
	free(p);
	/* WAL sidecars exist while the catalog is open, and are private too. */
	p = xasprintf("%s-wal", f->path);
	assert_int_equal(fx_mode(p), 0600);
	free(p);
	p = xasprintf("%s-shm", f->path);
	assert_int_equal(fx_mode(p), 0600);
	free(p);

	db = fx_raw_open(f->path);
	assert_int_equal(fx_raw_int(db, "PRAGMA user_version"), 2);
	assert_int_equal(fx_raw_int(db, "PRAGMA application_id"), 0x52564354);
	assert_int_equal(fx_raw_int(db, "SELECT count(*) FROM sqlite_master WHERE type = 'table' "
	                                "AND name IN ('runs', 'registries', 'repositories', "
	                                "'tag_history', 'manifests', 'manifest_repositories', "
	                                "'manifest_refs', 'blobs', 'stores', 'copies', "
	                                "'store_refs', 'volumes', 'locations', 'deletions')"),
	                 14);
	sqlite3_close(db);
	db = NULL;
	free(dir);
}

/* A version-1 catalog (before the deletion journal) is brought up to date
 * by the next writer, its rows kept. */
static void test_migrates_version_1(void **state)
{
	struct fx *f = *state;
	sqlite3 *db;
	int64_t run = 0;

	assert_int_equal(catalog_open(&f->c, f->path, CATALOG_WRITE), 0);
	assert_int_equal(catalog_run_start(f->c, "backup", "[]", &run), 0);
	catalog_close(f->c);
	f->c = NULL;
	db = fx_raw_open(f->path);
	fx_raw_exec(db, "DROP TABLE deletions; ALTER TABLE runs DROP COLUMN undone_at; "
	                "PRAGMA user_version = 1;");
	sqlite3_close(db);
	assert_int_equal(catalog_open(&f->c, f->path, CATALOG_WRITE), 0);
	catalog_close(f->c);
	f->c = NULL;
	db = fx_raw_open(f->path);
	assert_int_equal(fx_raw_int(db, "PRAGMA user_version"), 2);
	assert_int_equal(fx_raw_int(db, "SELECT count(*) FROM runs WHERE command = 'backup'"), 1);
	assert_int_equal(fx_raw_int(db, "SELECT count(*) FROM deletions"), 0);
	sqlite3_close(db);
}

static void test_existing_dir_left_alone(void **state)
{
	struct fx *f = *state;
	char *dir = xasprintf("%s/data", f->dir);

	assert_int_equal(mkdir(dir, 0755), 0);
	assert_int_equal(chmod(dir, 0755), 0);
	assert_int_equal(catalog_open(&f->c, f->path, CATALOG_WRITE), 0);
	assert_int_equal(fx_mode(dir), 0755);
	assert_int_equal(fx_mode(f->path), 0600);
	free(dir);
}

/* A database file made by someone else with a loose mode: SQLite would
 * copy that mode to -wal and -shm; the catalog takes group/other away. */
static void test_sidecars_tightened(void **state)
{
	struct fx *f = *state;
	char *dir = xasprintf("%s/data", f->dir), *p;
	FILE *fp;

	assert_int_equal(mkdir(dir, 0700), 0);
	fp = fopen(f->path, "w");
	assert_non_null(fp);
	fclose(fp);
	assert_int_equal(chmod(f->path, 0644), 0);
	assert_int_equal(catalog_open(&f->c, f->path, CATALOG_WRITE), 0);
	p = xasprintf("%s-wal", f->path);
	assert_int_equal(fx_mode(p) & 077, 0);
	free(p);
	p = xasprintf("%s-shm", f->path);
	assert_int_equal(fx_mode(p) & 077, 0);
	free(p);
	free(dir);
}

static void test_reopen_keeps_data(void **state)
{
	struct fx *f = *state;
	char d[OCI_DIGEST_MAX];
	int64_t run = 0;

	assert_int_equal(catalog_run_start(f->c, "backup", "[\"backup\"]", &run), 0);
	assert_int_equal(catalog_tag_seen(f->c, "reg", "app", "v1", DIGEST_A, 100, run), 0);
	catalog_close(f->c);
	f->c = NULL;

	/* Writer again: migrations do not run twice, data is there. */
	assert_int_equal(catalog_open(&f->c, f->path, CATALOG_WRITE), 0);
	assert_int_equal(catalog_tag_resolve(f->c, "reg", "app", "v1", 0, d), 0);
	assert_string_equal(d, DIGEST_A);
	catalog_close(f->c);
	f->c = NULL;

	assert_int_equal(catalog_open(&f->c, f->path, CATALOG_READ), 0);
	assert_int_equal(catalog_tag_resolve(f->c, "reg", "app", "v1", 0, d), 0);
	assert_string_equal(d, DIGEST_A);
}

static void test_read_missing(void **state)
{
	struct fx *f = *state;

	assert_int_equal(catalog_open(&f->c, f->path, CATALOG_READ), RV_ENOTFOUND);
	assert_null(f->c);
	assert_non_null(strstr(error_msg(), f->path));
	assert_false(access(f->path, F_OK) == 0);
}

static void test_second_writer_refused(void **state)
{
	struct fx *f = *state;
	catalog *second = NULL, *reader = NULL;
	char *want;
	pid_t pid;
	int status = 0;

	assert_int_equal(catalog_open(&f->c, f->path, CATALOG_WRITE), 0);
	assert_int_equal(catalog_open(&second, f->path, CATALOG_WRITE), RV_EEXISTS);
	assert_null(second);
	want = xasprintf("catalog \"%s\" is in use by another regvault run (lock \"%s.lock\")",
	                 f->path, f->path);
	assert_string_equal(error_msg(), want);
	free(want);

	/* Another process is refused the same way. */
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		catalog *x = NULL;
		int rc = catalog_open(&x, f->path, CATALOG_WRITE);

		_exit(rc == RV_EEXISTS ? 0 : 1);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);

	/* Readers take no lock. */
	assert_int_equal(catalog_open(&reader, f->path, CATALOG_READ), 0);
	catalog_close(reader);

	catalog_close(f->c);
	f->c = NULL;
	assert_int_equal(catalog_open(&second, f->path, CATALOG_WRITE), 0);
	catalog_close(second);
}

static void test_reader_during_writer_transaction(void **state)
{
	struct fx *f = *state;
	catalog *reader = NULL;
	char d[OCI_DIGEST_MAX];

	assert_int_equal(catalog_tag_seen(f->c, "reg", "app", "v1", DIGEST_A, 100, 0), 0);
	assert_int_equal(catalog_begin(f->c), 0);
	assert_int_equal(catalog_tag_seen(f->c, "reg", "app", "v2", DIGEST_A, 100, 0), 0);

	/* The writer holds an open write transaction: the reader neither
	 * blocks nor sees uncommitted rows. */
	assert_int_equal(catalog_open(&reader, f->path, CATALOG_READ), 0);
	assert_int_equal(catalog_tag_resolve(reader, "reg", "app", "v1", 0, d), 0);
	assert_int_equal(catalog_tag_resolve(reader, "reg", "app", "v2", 0, d), RV_ENOTFOUND);
	assert_int_equal(catalog_commit(f->c), 0);
	assert_int_equal(catalog_tag_resolve(reader, "reg", "app", "v2", 0, d), 0);

	/* And it cannot write. */
	assert_int_equal(catalog_tag_seen(reader, "reg", "app", "v3", DIGEST_A, 1, 0), RV_ERROR);
	assert_non_null(strstr(error_msg(), "read-only"));
	assert_int_equal(catalog_begin(reader), RV_ERROR);
	catalog_close(reader);
}

static void test_reader_after_writer_closed(void **state)
{
	struct fx *f = *state;
	catalog *reader = NULL;
	int64_t id = 0;

	assert_int_equal(catalog_store_id(f->c, CATALOG_STORE_ARCHIVE, "/backups", &id), 0);
	catalog_close(f->c);
	f->c = NULL;
	assert_int_equal(catalog_open(&reader, f->path, CATALOG_READ), 0);
	/* Readers look stores up but never create them. */
	assert_int_equal(catalog_store_id(reader, CATALOG_STORE_ARCHIVE, "/backups", &id), 0);
	assert_int_equal(catalog_store_id(reader, CATALOG_STORE_ARCHIVE, "/other", &id),
	                 RV_ENOTFOUND);
	catalog_close(reader);
}

static void test_newer_schema_refused(void **state)
{
	struct fx *f = *state;
	catalog *c = NULL;
	sqlite3 *db;

	assert_int_equal(catalog_open(&f->c, f->path, CATALOG_WRITE), 0);
	catalog_close(f->c);
	f->c = NULL;
	db = fx_raw_open(f->path);
	fx_raw_exec(db, "PRAGMA user_version = 99");
	sqlite3_close(db);
	assert_int_equal(catalog_open(&c, f->path, CATALOG_WRITE), RV_EUNSUPPORTED);
	assert_non_null(strstr(error_msg(), "schema version 99"));
	assert_int_equal(catalog_open(&c, f->path, CATALOG_READ), RV_EUNSUPPORTED);
	assert_null(c);
}

static void test_not_a_catalog(void **state)
{
	struct fx *f = *state;
	char *other = xasprintf("%s/other.db", f->dir), *junk = xasprintf("%s/junk.db", f->dir);
	catalog *c = NULL;
	sqlite3 *db = NULL;
	FILE *fp;

	assert_int_equal(sqlite3_open(other, &db), SQLITE_OK);
	fx_raw_exec(db, "CREATE TABLE t (x)");
	assert_int_equal(catalog_open(&c, other, CATALOG_WRITE), RV_EINVALID);
	assert_non_null(strstr(error_msg(), "is not a regvault catalog"));
	assert_int_equal(fx_raw_int(db, "SELECT count(*) FROM sqlite_master"), 1);
	assert_int_equal(fx_raw_int(db, "SELECT journal_mode = 'delete' FROM "
	                                "pragma_journal_mode"), 1);
	assert_int_equal(catalog_open(&c, other, CATALOG_READ), RV_EINVALID);
	sqlite3_close(db);

	fp = fopen(junk, "w");
	assert_non_null(fp);
	fputs("this is not a database, not even close to one; it is plain text\n", fp);
	fclose(fp);
	assert_int_equal(catalog_open(&c, junk, CATALOG_WRITE), RV_ERROR);
	assert_non_null(strstr(error_msg(), junk));
	assert_null(c);
	free(other);
	free(junk);
}

static void test_empty_file_for_reader(void **state)
{
	struct fx *f = *state;
	char *p = xasprintf("%s/empty.db", f->dir);
	catalog *c = NULL;
	FILE *fp = fopen(p, "w");

	assert_non_null(fp);
	fclose(fp);
	assert_int_equal(catalog_open(&c, p, CATALOG_READ), RV_ENOTFOUND);
	free(p);
}

static void test_runs(void **state)
{
	struct fx *f = *state;
	int64_t a = 0, b = 0;
	sqlite3 *db;

	assert_int_equal(catalog_run_start(f->c, "backup", "{\"to\":\"/b\"}", &a), 0);
	assert_int_equal(catalog_run_start(f->c, "prune", "{}", &b), 0);
	assert_true(a > 0 && b > a);
	assert_int_equal(catalog_run_finish(f->c, a, "partial", "{\"failed\":1}"), 0);
	assert_int_equal(catalog_run_finish(f->c, b, "bogus", NULL), RV_EINVALID);
	assert_int_equal(catalog_run_finish(f->c, 999, "ok", NULL), RV_ENOTFOUND);
	assert_int_equal(catalog_run_start(f->c, "x", "{not json", &b), RV_EINVALID);

	db = fx_raw_open(f->path);
	assert_int_equal(fx_raw_int(db, "SELECT count(*) FROM runs WHERE command = 'backup' AND "
	                                "outcome = 'partial' AND finished >= started AND "
	                                "json_extract(summary, '$.failed') = 1 AND "
	                                "json_extract(args, '$.to') = '/b'"), 1);
	assert_int_equal(fx_raw_int(db, "SELECT count(*) FROM runs WHERE command = 'prune' AND "
	                                "finished IS NULL AND outcome IS NULL"), 1);
	sqlite3_close(db);
}

/* catalog_run_get reads back what start/finish/undone wrote; restore --run
 * relies on its command to refuse undoing anything but a prune. */
static void test_run_get(void **state)
{
	struct fx *f = *state;
	struct catalog_run r;
	int64_t a = 0, b = 0;
	char *want;
	sqlite3 *db;

	assert_int_equal(catalog_run_start(f->c, "backup", "[]", &a), 0);
	assert_int_equal(catalog_run_start(f->c, "prune", "[]", &b), 0);
	assert_int_equal(catalog_run_finish(f->c, a, "ok", NULL), 0);
	assert_int_equal(catalog_run_undone(f->c, b, 1234), 0);

	assert_int_equal(catalog_run_get(f->c, a, &r), 0);
	assert_int_equal(r.id, a);
	assert_string_equal(r.command, "backup");
	assert_string_equal(r.outcome, "ok");
	assert_true(r.started > 0 && r.finished >= r.started);
	assert_int_equal(r.undone_at, 0);

	assert_int_equal(catalog_run_get(f->c, b, &r), 0);
	assert_string_equal(r.command, "prune");
	assert_string_equal(r.outcome, "");    /* still running (or killed) */
	assert_int_equal(r.finished, 0);
	assert_int_equal(r.undone_at, 1234);

	assert_int_equal(catalog_run_get(f->c, b + 100, &r), RV_ENOTFOUND);
	want = xasprintf("catalog \"%s\" has no run %lld", f->path, (long long)(b + 100));
	assert_string_equal(error_msg(), want);
	free(want);
	error_clear();

	/* A command no regvault writes (a damaged or hand-edited catalog) is
	 * an error, never a truncated name that might compare equal. */
	db = fx_raw_open(f->path);
	fx_raw_exec(db, "UPDATE runs SET command = 'prune-and-then-some-more-words-here' "
	                "WHERE command = 'backup'");
	sqlite3_close(db);
	assert_int_equal(catalog_run_get(f->c, a, &r), RV_ERROR);
	assert_non_null(strstr(error_msg(), "command"));
	error_clear();

	/* Readers may ask too. */
	catalog_close(f->c);
	f->c = NULL;
	assert_int_equal(catalog_open(&f->c, f->path, CATALOG_READ), 0);
	assert_int_equal(catalog_run_get(f->c, b, &r), 0);
	assert_string_equal(r.command, "prune");
}

static void test_transactions(void **state)
{
	struct fx *f = *state;
	char d[OCI_DIGEST_MAX];
	int64_t store = 0;
	sqlite3 *db;

	assert_int_equal(catalog_store_id(f->c, CATALOG_STORE_REGISTRY, "standby:5000", &store), 0);
	assert_int_equal(catalog_commit(f->c), RV_ERROR);

	/* Rollback leaves nothing. */
	assert_int_equal(catalog_begin(f->c), 0);
	assert_int_equal(catalog_begin(f->c), RV_ERROR);
	assert_int_equal(catalog_tag_seen(f->c, "reg", "app", "v1", DIGEST_A, 100, 0), 0);
	assert_int_equal(catalog_copy_put(f->c, store, DIGEST_A, 100, "read-back", 0), 0);
	catalog_rollback(f->c);
	assert_int_equal(catalog_tag_resolve(f->c, "reg", "app", "v1", 0, d), RV_ENOTFOUND);
	assert_int_equal(catalog_copy_has(f->c, store, DIGEST_A), RV_ENOTFOUND);
	catalog_rollback(f->c);   /* no-op */

	/* A failing call inside a batch undoes only itself. */
	assert_int_equal(catalog_begin(f->c), 0);
	assert_int_equal(catalog_copy_put(f->c, store, DIGEST_A, 100, "read-back", 0), 0);
	assert_int_equal(catalog_copy_put(f->c, store + 100, DIGEST_A, 100, "read-back", 0),
	                 RV_ENOTFOUND);
	assert_int_equal(catalog_commit(f->c), 0);
	assert_int_equal(catalog_copy_has(f->c, store, DIGEST_A), 0);

	/* A call that fails after its first write (the repository row) undoes
	 * that write too, in a batch and outside one. */
	assert_int_equal(catalog_begin(f->c), 0);
	assert_int_equal(catalog_store_ref_put(f->c, store + 100, "ghost", "app", "v1", DIGEST_A, 0),
	                 RV_ENOTFOUND);
	assert_int_equal(catalog_commit(f->c), 0);
	assert_int_equal(catalog_store_ref_put(f->c, store + 100, "ghost", "app", "v1", DIGEST_A, 0),
	                 RV_ENOTFOUND);
	db = fx_raw_open(f->path);
	assert_int_equal(fx_raw_int(db, "SELECT count(*) FROM registries WHERE name = 'ghost'"), 0);
	sqlite3_close(db);

	/* Closing with an open batch discards it, as a crash would. */
	assert_int_equal(catalog_begin(f->c), 0);
	assert_int_equal(catalog_tag_seen(f->c, "reg", "app", "v9", DIGEST_A, 100, 0), 0);
	catalog_close(f->c);
	assert_int_equal(catalog_open(&f->c, f->path, CATALOG_WRITE), 0);
	assert_int_equal(catalog_tag_resolve(f->c, "reg", "app", "v9", 0, d), RV_ENOTFOUND);
	assert_int_equal(catalog_copy_has(f->c, store, DIGEST_A), 0);
}

static void test_default_path(void **state)
{
	char *p;

	(void)state;
	setenv("REGVAULT_CATALOG", "/x/cat.db", 1);
	p = catalog_default_path();
	assert_string_equal(p, "/x/cat.db");
	free(p);
	unsetenv("REGVAULT_CATALOG");
	setenv("XDG_DATA_HOME", "/data", 1);
	p = catalog_default_path();
	assert_string_equal(p, "/data/regvault/catalog.db");
	free(p);
	setenv("XDG_DATA_HOME", "relative", 1);
	setenv("HOME", "/home/u", 1);
	p = catalog_default_path();
	assert_string_equal(p, "/home/u/.local/share/regvault/catalog.db");
	free(p);
	unsetenv("XDG_DATA_HOME");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_create_migrate_modes, fx_setup_closed, fx_teardown),
		cmocka_unit_test_setup_teardown(test_migrates_version_1, fx_setup_closed, fx_teardown),
		cmocka_unit_test_setup_teardown(test_existing_dir_left_alone, fx_setup_closed, fx_teardown),
		cmocka_unit_test_setup_teardown(test_sidecars_tightened, fx_setup_closed, fx_teardown),
		cmocka_unit_test_setup_teardown(test_reopen_keeps_data, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_read_missing, fx_setup_closed, fx_teardown),
		cmocka_unit_test_setup_teardown(test_second_writer_refused, fx_setup_closed, fx_teardown),
		cmocka_unit_test_setup_teardown(test_reader_during_writer_transaction, fx_setup,
		                                fx_teardown),
		cmocka_unit_test_setup_teardown(test_reader_after_writer_closed, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_newer_schema_refused, fx_setup_closed, fx_teardown),
		cmocka_unit_test_setup_teardown(test_not_a_catalog, fx_setup_closed, fx_teardown),
		cmocka_unit_test_setup_teardown(test_empty_file_for_reader, fx_setup_closed, fx_teardown),
		cmocka_unit_test_setup_teardown(test_runs, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_run_get, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_transactions, fx_setup, fx_teardown),
		cmocka_unit_test(test_default_path),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
