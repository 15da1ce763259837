/* Unit tests for util/error.c: one message per thread, wrap, names. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "util/error.h"
#include "util/banned.h"

static void test_set_and_clear(void **state)
{
	(void)state;
	error_clear();
	assert_string_equal(error_msg(), "");
	assert_int_equal(error_code(), RV_OK);
	assert_int_equal(error_set(RV_ENOTFOUND, "manifest \"%s\": %d", "a:b", 404), RV_ENOTFOUND);
	assert_string_equal(error_msg(), "manifest \"a:b\": 404");
	assert_int_equal(error_code(), RV_ENOTFOUND);
	error_set(RV_EAUTH, "second");
	assert_string_equal(error_msg(), "second");
	assert_int_equal(error_code(), RV_EAUTH);
	error_clear();
	assert_string_equal(error_msg(), "");
	assert_int_equal(error_code(), RV_OK);
}

static void test_wrap(void **state)
{
	(void)state;
	error_set(RV_EDIGEST, "expected \"x\" got \"y\"");
	assert_int_equal(error_wrap(RV_EDIGEST, "blob %s", "sha256:1"), RV_EDIGEST);
	assert_string_equal(error_msg(), "blob sha256:1: expected \"x\" got \"y\"");
	error_wrap(RV_EDIGEST, "copy");
	assert_string_equal(error_msg(), "copy: blob sha256:1: expected \"x\" got \"y\"");
	/* The code stays the one error_set() recorded. */
	assert_int_equal(error_code(), RV_EDIGEST);
	error_clear();
	error_wrap(RV_ERROR, "only context");
	assert_string_equal(error_msg(), "only context");
}

static void test_message_may_use_itself(void **state)
{
	(void)state;
	error_set(RV_ERROR, "inner");
	error_set(RV_ERROR, "outer (%s)", error_msg());
	assert_string_equal(error_msg(), "outer (inner)");
}

static void test_truncation(void **state)
{
	char big[5000];
	size_t n;

	(void)state;
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	error_set(RV_EINVALID, "x%sy", big);
	n = strlen(error_msg());
	assert_true(n > 1000 && n < 2048);
	assert_string_equal(error_msg() + n - 3, "...");
	assert_int_equal(error_msg()[0], 'x');
	error_wrap(RV_EINVALID, "%s", big);
	n = strlen(error_msg());
	assert_true(n > 1000 && n < 2048);
	assert_string_equal(error_msg() + n - 3, "...");
}

static void test_code_names(void **state)
{
	static const struct { int code; const char *name; } t[] = {
		{ RV_OK, "ok" }, { RV_ERROR, "error" }, { RV_ENOTFOUND, "not_found" },
		{ RV_EAUTH, "auth" }, { RV_EDENIED, "denied" }, { RV_EDIGEST, "digest_mismatch" },
		{ RV_ETRANSIENT, "transient" }, { RV_EINVALID, "invalid" }, { RV_EEXISTS, "exists" },
		{ RV_EUNSUPPORTED, "unsupported" }, { RV_ETOOBIG, "too_big" }, { RV_ETLS, "tls" },
		{ RV_ECANCELLED, "cancelled" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		assert_string_equal(error_code_name(t[i].code), t[i].name);
	/* Every code from -1 to -12 has its own name. */
	for (int a = -12; a <= 0; a++)
		for (int b = a + 1; b <= 0; b++)
			assert_string_not_equal(error_code_name(a), error_code_name(b));
	assert_string_equal(error_code_name(-99), "unknown");
	assert_string_equal(error_code_name(5), "unknown");
}

static void *other_thread(void *arg)
{
	int *ok = arg;

	/* A new thread starts with no message and does not see ours. */
	*ok = error_msg()[0] == '\0' && error_code() == RV_OK;
	error_set(RV_ETLS, "thread message");
	*ok = *ok && strcmp(error_msg(), "thread message") == 0;
	return NULL;
}

static void test_thread_local(void **state)
{
	pthread_t t;
	int ok = 0;

	(void)state;
	error_set(RV_EEXISTS, "main message");
	assert_int_equal(pthread_create(&t, NULL, other_thread, &ok), 0);
	pthread_join(t, NULL);
	assert_true(ok);
	assert_string_equal(error_msg(), "main message");
	assert_int_equal(error_code(), RV_EEXISTS);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_set_and_clear),
		cmocka_unit_test(test_wrap),
		cmocka_unit_test(test_message_may_use_itself),
		cmocka_unit_test(test_truncation),
		cmocka_unit_test(test_code_names),
		cmocka_unit_test(test_thread_local),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
