/* Unit tests for util/strlist.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "util/strlist.h"
#include "util/xalloc.h"
#include "util/banned.h"

static void test_add_sort_contains(void **state)
{
	struct strlist l = STRLIST_INIT;
	char tmp[8] = "beta";

	(void)state;
	strlist_add(&l, tmp);
	tmp[0] = 'X';   /* strlist_add copied it */
	strlist_add(&l, "alpha");
	strlist_add_owned(&l, xstrdup("gamma"));
	strlist_add(&l, "Alpha");
	assert_int_equal(l.n, 4);
	assert_string_equal(l.v[0], "beta");
	assert_true(strlist_contains(&l, "gamma"));
	assert_false(strlist_contains(&l, "gam"));
	assert_false(strlist_contains(&l, "Xeta"));
	strlist_sort(&l);
	assert_string_equal(l.v[0], "Alpha");
	assert_string_equal(l.v[1], "alpha");
	assert_string_equal(l.v[2], "beta");
	assert_string_equal(l.v[3], "gamma");
	strlist_release(&l);
	assert_int_equal(l.n, 0);
	assert_null(l.v);
	assert_false(strlist_contains(&l, "alpha"));
	strlist_sort(&l);
	strlist_release(&l);
}

static void test_many(void **state)
{
	struct strlist l = STRLIST_INIT;
	char s[16];

	(void)state;
	for (int i = 999; i >= 0; i--) {
		snprintf(s, sizeof(s), "t%04d", i);
		strlist_add(&l, s);
	}
	strlist_sort(&l);
	assert_int_equal(l.n, 1000);
	assert_string_equal(l.v[0], "t0000");
	assert_string_equal(l.v[999], "t0999");
	assert_true(strlist_contains(&l, "t0500"));
	strlist_release(&l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_add_sort_contains),
		cmocka_unit_test(test_many),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
