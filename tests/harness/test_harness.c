/* Unit tests for the live-test helpers in harness.c (no servers needed). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tests/harness/harness.h"

static char *dir;

static int setup(void **state)
{
	char path[4096];
	static const char env[] = "# comment\n"
				  "RV_REG_PLAIN=127.0.0.1:5000\n"
				  "RV_HARNESS_PIDS=1 2 3\n"
				  "RV_EMPTY=\n"
				  "RV_NUM=5000\n"
				  "not a pair\n"
				  "RV_NUM=5001\n"
				  "RV_URL=http://h/x?a=b=c";
	(void)state;
	dir = harness_mkdtemp("rv-test-harness");
	if (!dir)
		return -1;
	snprintf(path, sizeof path, "%s/env", dir);
	if (harness_write_file(path, env, sizeof env - 1) != 0)
		return -1;
	return setenv("RV_HARNESS_ENV", path, 1);
}

static int teardown(void **state)
{
	(void)state;
	harness_rm_rf(dir);
	free(dir);
	return 0;
}

static void test_env(void **state)
{
	(void)state;
	assert_string_equal(harness_env("RV_REG_PLAIN"), "127.0.0.1:5000");
	assert_string_equal(harness_env("RV_HARNESS_PIDS"), "1 2 3");
	assert_string_equal(harness_env("RV_EMPTY"), "");
	assert_string_equal(harness_env("RV_URL"), "http://h/x?a=b=c");
	assert_null(harness_env("RV_MISSING"));
	assert_null(harness_env("not a pair"));
	assert_int_equal(harness_env_long("RV_NUM", -1), 5001); /* last one wins */
	assert_int_equal(harness_env_long("RV_REG_PLAIN", -1), -1);
	assert_int_equal(harness_env_long("RV_MISSING", 7), 7);
}

static void test_files(void **state)
{
	char path[4096];
	struct stat st;
	size_t len = 0;
	char *s;
	(void)state;

	snprintf(path, sizeof path, "%s/f", dir);
	assert_int_equal(harness_write_file(path, "a\nb\nc", 5), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	s = harness_read_file(path, &len);
	assert_non_null(s);
	assert_int_equal(len, 5);
	assert_string_equal(s, "a\nb\nc");
	free(s);
	assert_int_equal(harness_count_lines(path), 2);
	snprintf(path, sizeof path, "%s/missing", dir);
	assert_null(harness_read_file(path, NULL));
	assert_int_equal(harness_count_lines(path), -1);
}

static void test_run(void **state)
{
	char *out = NULL;
	const char *echo[] = {"sh", "-c", "printf 'hi %s' there; exit 3", NULL};
	const char *slow[] = {"sleep", "10", NULL};
	const char *missing[] = {"/nonexistent/rv-nothing", NULL};
	(void)state;

	assert_int_equal(harness_run(echo, 10, &out), 3);
	assert_string_equal(out, "hi there");
	free(out);
	assert_int_equal(harness_run(slow, 1, &out), -1);
	assert_null(out);
	assert_int_equal(harness_run(missing, 5, NULL), 127);
}

static void test_sha256(void **state)
{
	char d[72];
	(void)state;
	harness_sha256("{}", 2, d);
	/* the OCI empty descriptor (image-spec manifest.md) */
	assert_string_equal(d, "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a");
}

static void test_rm_rf_refuses_root(void **state)
{
	(void)state;
	assert_int_equal(harness_rm_rf("/"), -1);
	assert_int_equal(harness_rm_rf(""), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_env),
		cmocka_unit_test(test_files),
		cmocka_unit_test(test_run),
		cmocka_unit_test(test_sha256),
		cmocka_unit_test(test_rm_rf_refuses_root),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
