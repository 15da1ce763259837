/* Unit tests for util/fs.c, in a fresh temporary directory. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "util/buf.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/banned.h"

static char root[] = "/tmp/rv-test-fs-XXXXXX";

static int setup(void **state)
{
	(void)state;
	return mkdtemp(root) ? 0 : -1;
}

static int teardown(void **state)
{
	char *cmd = xasprintf("rm -rf '%s'", root);
	int rc = system(cmd);

	(void)state;
	free(cmd);
	return rc == 0 ? 0 : -1;
}

static char *path(const char *rel)
{
	return fs_path_join(root, rel);
}

static mode_t mode_of(const char *p)
{
	struct stat st;

	assert_int_equal(stat(p, &st), 0);
	return st.st_mode & 07777;
}

static void test_path_join(void **state)
{
	static const char *const t[][3] = {
		{ "a", "b", "a/b" }, { "a/", "b", "a/b" }, { "a", "/b", "a/b" },
		{ "a//", "//b", "a/b" }, { "/", "b", "/b" }, { "", "b", "b" },
		{ "/x/y", "z/w", "/x/y/z/w" }, { "a", "", "a/" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		char *j = fs_path_join(t[i][0], t[i][1]);

		assert_string_equal(j, t[i][2]);
		free(j);
	}
}

static void test_write_atomic_and_read(void **state)
{
	char *p = path("data.json"), *tmp;
	struct buf b = BUF_INIT;

	(void)state;
	assert_int_equal(fs_write_atomic(p, "{\"a\":1}", 7, 0600), 0);
	assert_true(fs_exists(p));
	assert_int_equal(mode_of(p), 0600);
	assert_int_equal(fs_read_file(&b, p, 0), 0);
	assert_string_equal(buf_cstr(&b), "{\"a\":1}");
	/* Replacing: new content, new mode, no temp file left behind. */
	assert_int_equal(fs_write_atomic(p, "xyz", 3, 0640), 0);
	assert_int_equal(mode_of(p), 0640);
	buf_reset(&b);
	assert_int_equal(fs_read_file(&b, p, 0), 0);
	assert_string_equal(buf_cstr(&b), "xyz");
	tmp = xasprintf("%s.tmp-%ld", p, (long)getpid());
	assert_false(fs_exists(tmp));
	/* A stale temp from an earlier run with our pid is replaced. */
	assert_int_equal(fs_write_atomic(tmp, "stale", 5, 0600), 0);
	assert_int_equal(fs_write_atomic(p, "fresh", 5, 0600), 0);
	buf_reset(&b);
	fs_read_file(&b, p, 0);
	assert_string_equal(buf_cstr(&b), "fresh");
	assert_false(fs_exists(tmp));
	free(tmp);
	free(p);
	buf_release(&b);
}

static void test_write_atomic_empty_and_binary(void **state)
{
	char *p = path("bin");
	struct buf b = BUF_INIT;

	(void)state;
	assert_int_equal(fs_write_atomic(p, "", 0, 0600), 0);
	assert_int_equal(fs_read_file(&b, p, 0), 0);
	assert_int_equal(b.len, 0);
	assert_int_equal(fs_write_atomic(p, "a\0b", 3, 0600), 0);
	assert_int_equal(fs_read_file(&b, p, 0), 0);
	assert_int_equal(b.len, 3);
	assert_memory_equal(b.ptr, "a\0b", 3);
	free(p);
	buf_release(&b);
}

static void test_write_atomic_fails_cleanly(void **state)
{
	char *p = path("no-such-dir/file");

	(void)state;
	error_clear();
	assert_int_equal(fs_write_atomic(p, "x", 1, 0600), RV_ENOTFOUND);
	assert_non_null(strstr(error_msg(), "no-such-dir/file.tmp-"));
	assert_false(fs_exists(p));
	free(p);
}

static void test_read_missing_and_cap(void **state)
{
	char *missing = path("missing"), *p = path("ten");
	struct buf b = BUF_INIT, capped;

	(void)state;
	assert_int_equal(fs_read_file(&b, missing, 0), RV_ENOTFOUND);
	assert_non_null(strstr(error_msg(), missing));
	assert_int_equal(fs_write_atomic(p, "0123456789", 10, 0600), 0);
	assert_int_equal(fs_read_file(&b, p, 10), 0);
	assert_int_equal(b.len, 10);
	/* Appends, and a refused read leaves out as it was. */
	assert_int_equal(fs_read_file(&b, p, 9), RV_ETOOBIG);
	assert_int_equal(b.len, 10);
	assert_string_equal(buf_cstr(&b), "0123456789");
	assert_int_equal(fs_read_file(&b, p, 0), 0);
	assert_string_equal(buf_cstr(&b), "01234567890123456789");
	/* The buf's own cap counts too. */
	buf_init(&capped, 4);
	assert_int_equal(fs_read_file(&capped, p, 0), RV_ETOOBIG);
	assert_int_equal(capped.len, 0);
	assert_non_null(strstr(error_msg(), "over the 4-byte limit"));
	/* A directory is not a file. */
	assert_int_equal(fs_read_file(&b, root, 0), RV_ERROR);
	free(missing);
	free(p);
	buf_release(&b);
	buf_release(&capped);
}

static void test_mkdir_p(void **state)
{
	char *deep = path("a/b//c/d/"), *a = path("a"), *c = path("a/b/c"), *file = path("f");
	char *under_file = path("f/sub");

	(void)state;
	assert_int_equal(fs_mkdir_p(deep, 0700), 0);
	assert_true(fs_exists(c));
	assert_int_equal(mode_of(a), 0700);
	assert_int_equal(mode_of(c), 0700);
	/* Existing directories are fine and keep their mode. */
	assert_int_equal(fs_mkdir_p(deep, 0755), 0);
	assert_int_equal(mode_of(c), 0700);
	assert_int_equal(fs_write_atomic(file, "x", 1, 0600), 0);
	assert_int_equal(fs_mkdir_p(file, 0700), RV_ERROR);
	assert_non_null(strstr(error_msg(), "Not a directory"));
	assert_int_equal(fs_mkdir_p(under_file, 0700), RV_ERROR);
	assert_int_equal(fs_mkdir_p("", 0700), RV_EINVALID);
	free(deep);
	free(a);
	free(c);
	free(file);
	free(under_file);
}

static void test_mkdir_mode_ignores_umask(void **state)
{
	char *d = path("open");
	mode_t old = umask(077);

	(void)state;
	assert_int_equal(fs_mkdir_p(d, 0755), 0);
	umask(old);
	assert_int_equal(mode_of(d), 0755);
	free(d);
}

static void test_exists(void **state)
{
	char *link = path("dangling");

	(void)state;
	assert_true(fs_exists(root));
	assert_false(fs_exists("/nonexistent/really/not"));
	assert_int_equal(symlink("/nonexistent/target", link), 0);
	assert_true(fs_exists(link));
	free(link);
}

static void test_home_dir(void **state)
{
	char *old = getenv("HOME") ? xstrdup(getenv("HOME")) : NULL;
	char *h;

	(void)state;
	setenv("HOME", "/home/tester", 1);
	h = fs_home_dir();
	assert_string_equal(h, "/home/tester");
	free(h);
	/* Unset: falls back to the passwd entry, which exists for our uid
	 * in any sane test environment. */
	unsetenv("HOME");
	h = fs_home_dir();
	assert_non_null(h);
	assert_true(h[0] == '/');
	free(h);
	if (old)
		setenv("HOME", old, 1);
	free(old);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_path_join),
		cmocka_unit_test(test_write_atomic_and_read),
		cmocka_unit_test(test_write_atomic_empty_and_binary),
		cmocka_unit_test(test_write_atomic_fails_cleanly),
		cmocka_unit_test(test_read_missing_and_cap),
		cmocka_unit_test(test_mkdir_p),
		cmocka_unit_test(test_mkdir_mode_ignores_umask),
		cmocka_unit_test(test_exists),
		cmocka_unit_test(test_home_dir),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
