/* Unit tests for util/xalloc.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "util/xalloc.h"
#include "util/banned.h"

static void test_xgrow(void **state)
{
	int *v = NULL;
	size_t alloc = 0;

	(void)state;
	v = xgrow(v, sizeof(*v), 1, &alloc);
	assert_true(alloc >= 1);
	for (size_t i = 0; i < 1000; i++) {
		v = xgrow(v, sizeof(*v), i + 1, &alloc);
		assert_true(alloc >= i + 1);
		v[i] = (int)i;
	}
	for (size_t i = 0; i < 1000; i++)
		assert_int_equal(v[i], (int)i);
	/* Already large enough: unchanged. */
	{
		size_t before = alloc;
		int *same = xgrow(v, sizeof(*v), 10, &alloc);

		assert_ptr_equal(same, v);
		assert_int_equal(alloc, before);
	}
	free(v);
}

static void test_strings(void **state)
{
	char *s;

	(void)state;
	s = xstrdup("hello");
	assert_string_equal(s, "hello");
	free(s);
	assert_null(xstrdup_or_null(NULL));
	s = xstrdup_or_null("x");
	assert_string_equal(s, "x");
	free(s);
	s = xstrndup("abcdef", 3);
	assert_string_equal(s, "abc");
	free(s);
	s = xstrndup("ab", 10);
	assert_string_equal(s, "ab");
	free(s);
	s = xmemdup("a\0b", 3);
	assert_memory_equal(s, "a\0b", 3);
	free(s);
	s = xasprintf("%s-%d-%05.1f", "x", 42, 3.14159);
	assert_string_equal(s, "x-42-003.1");
	free(s);
	s = xasprintf("%s", "");
	assert_string_equal(s, "");
	free(s);
}

static void test_zero_sizes(void **state)
{
	void *p = xmalloc(0), *q = xcalloc(0, 5);

	(void)state;
	assert_non_null(p);
	assert_non_null(q);
	p = xrealloc(p, 0);
	assert_non_null(p);
	free(p);
	free(q);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_xgrow),
		cmocka_unit_test(test_strings),
		cmocka_unit_test(test_zero_sizes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
