/*
 * test_restore_undo.c — restore_undo_run's refusals and no-ops, which need
 * no registry: they are decided from the catalog before anything is
 * contacted.
 *
 *   - a run of another command (backup, mirror, restore) is RV_EINVALID
 *     naming it, even when journal rows carry its id, and nothing is
 *     marked — dry run or not;
 *   - an unknown run is RV_ENOTFOUND;
 *   - a prune run that deleted nothing succeeds with nothing restored and
 *     is not marked undone; a read-only catalog is enough for that.
 *
 * The registry named in journal rows is 127.0.0.1:1 (nothing listens):
 * a test that reached for it would fail, not pass by accident.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "restore/restore.h"
#include "util/error.h"
#include "util/xalloc.h"
#include "util/banned.h"

#define NOWHERE "127.0.0.1:1"
#define DIGEST "sha256:6d9f0b3a8e7b2f1c4d5e6a7b8c9d0e1f2a3b4c5d6e7f8091a2b3c4d5e6f70819"

struct fx {
	char dir[64];
	char *path;
	catalog *cat;
	registry_session *s;
};

static int setup(void **state)
{
	struct fx *f = xcalloc(1, sizeof(*f));
	struct registry_options ro = REGISTRY_OPTIONS_INIT;

	snprintf(f->dir, sizeof(f->dir), "/tmp/rv-undo.XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	f->path = xasprintf("%s/catalog.db", f->dir);
	ro.max_retries = 0;
	if (catalog_open(&f->cat, f->path, CATALOG_WRITE) != 0 ||
	    registry_session_new(&f->s, &ro) != 0)
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	char *cmd = xasprintf("rm -rf '%s'", f->dir);
	int rc = system(cmd);

	catalog_close(f->cat);
	registry_session_free(f->s);
	free(cmd);
	free(f->path);
	free(f);
	return rc == 0 ? 0 : -1;
}

static int64_t run_of(struct fx *f, const char *command)
{
	int64_t id = 0;

	assert_int_equal(catalog_run_start(f->cat, command, "[]", &id), 0);
	return id;
}

static int64_t undone_at(struct fx *f, int64_t run)
{
	struct catalog_run r;

	assert_int_equal(catalog_run_get(f->cat, run, &r), 0);
	return r.undone_at;
}

static int count_undone_row(const struct catalog_deletion *d, void *ctx)
{
	*(int *)ctx += d->undone_at != 0;
	return 0;
}

static void test_other_commands_refused(void **state)
{
	struct fx *f = *state;
	const char *commands[] = { "backup", "mirror", "restore", "rebuild" };
	struct restore_undo_report rep;
	struct xfer_options xo = XFER_OPTIONS_INIT;

	for (size_t i = 0; i < 4; i++)
		for (int dry = 0; dry <= 1; dry++) {
			int64_t run = run_of(f, commands[i]);
			char *want = xasprintf("run %lld is a %s run, not a prune run", (long long)run,
			                       commands[i]);
			xo.plan_only = dry;
			error_clear();
			assert_int_equal(restore_undo_run(f->cat, f->s, run, &xo, &rep), RV_EINVALID);
			assert_string_equal(error_msg(), want);
			assert_int_equal(rep.n_items, 0);
			assert_int_equal(rep.restored, 0);
			restore_undo_report_release(&rep);
			assert_int_equal(undone_at(f, run), 0);
			free(want);
		}
}

/* Journal rows under a non-prune id (a hand-edited catalog, a future
 * command) do not make it undoable: refused before the journal is read. */
static void test_refused_even_with_journal_rows(void **state)
{
	struct fx *f = *state;
	const char *tags[] = { "v1" };
	struct restore_undo_report rep;
	struct xfer_options xo = XFER_OPTIONS_INIT;
	int64_t run = run_of(f, "backup"), row = 0;
	int marked = 0;

	assert_int_equal(catalog_deletion_record(f->cat, run, NOWHERE, "app", DIGEST, tags, 1,
	                                         "test", &row), 0);
	assert_int_equal(restore_undo_run(f->cat, f->s, run, &xo, &rep), RV_EINVALID);
	assert_non_null(strstr(error_msg(), "is a backup run, not a prune run"));
	assert_int_equal(rep.n_items, 0);
	restore_undo_report_release(&rep);
	assert_int_equal(catalog_deletions(f->cat, run, count_undone_row, &marked), 0);
	assert_int_equal(marked, 0);
	assert_int_equal(undone_at(f, run), 0);
}

static void test_unknown_run(void **state)
{
	struct fx *f = *state;
	struct restore_undo_report rep;
	struct xfer_options xo = XFER_OPTIONS_INIT;
	int64_t run = run_of(f, "prune");

	assert_int_equal(restore_undo_run(f->cat, f->s, run + 7, &xo, &rep), RV_ENOTFOUND);
	assert_non_null(strstr(error_msg(), "has no run"));
	assert_int_equal(rep.n_items, 0);
	restore_undo_report_release(&rep);
	xo.plan_only = 1;
	assert_int_equal(restore_undo_run(f->cat, f->s, 0, &xo, &rep), RV_ENOTFOUND);
	restore_undo_report_release(&rep);
}

/* Nothing deleted: success, nothing restored, and no "undone" mark for a
 * run nothing was undone of — in a dry run, and in a real one. */
static void test_prune_that_deleted_nothing(void **state)
{
	struct fx *f = *state;
	struct restore_undo_report rep;
	struct xfer_options xo = XFER_OPTIONS_INIT;
	int64_t run = run_of(f, "prune");

	assert_int_equal(catalog_run_finish(f->cat, run, "ok", NULL), 0);
	for (int dry = 1; dry >= 0; dry--) {
		xo.plan_only = dry;
		assert_int_equal(restore_undo_run(f->cat, f->s, run, &xo, &rep), 0);
		assert_int_equal(rep.run_id, run);
		assert_int_equal(rep.dry_run, dry);
		assert_int_equal(rep.n_items, 0);
		assert_int_equal(rep.restored, 0);
		assert_int_equal(rep.failed, 0);
		restore_undo_report_release(&rep);
		assert_int_equal(undone_at(f, run), 0);
	}

	/* A reader can ask too (a real undo would need to write; this one
	 * has nothing to write). */
	catalog_close(f->cat);
	f->cat = NULL;
	assert_int_equal(catalog_open(&f->cat, f->path, CATALOG_READ), 0);
	assert_int_equal(restore_undo_run(f->cat, f->s, run, &xo, &rep), 0);
	restore_undo_report_release(&rep);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_other_commands_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refused_even_with_journal_rows, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unknown_run, setup, teardown),
		cmocka_unit_test_setup_teardown(test_prune_that_deleted_nothing, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
