/* Unit tests for util/buf.c: strbuf invariants and the dynbuf-style cap. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "util/buf.h"
#include "util/error.h"
#include "util/banned.h"

static void test_empty_is_valid_string(void **state)
{
	struct buf b = BUF_INIT;
	char *p;
	size_t len = 99;

	(void)state;
	assert_string_equal(buf_cstr(&b), "");
	assert_int_equal(b.len, 0);
	p = buf_detach(&b, &len);
	assert_non_null(p);
	assert_string_equal(p, "");
	assert_int_equal(len, 0);
	free(p);
	buf_release(&b);
}

static void test_add_and_grow(void **state)
{
	struct buf b = BUF_INIT;

	(void)state;
	assert_int_equal(buf_addstr(&b, "hello"), 0);
	assert_int_equal(buf_addch(&b, ' '), 0);
	assert_int_equal(buf_add(&b, "world!!", 5), 0);
	assert_string_equal(buf_cstr(&b), "hello world");
	assert_int_equal(b.len, 11);
	assert_true(b.alloc > b.len);
	for (int i = 0; i < 10000; i++)
		assert_int_equal(buf_addch(&b, 'x'), 0);
	assert_int_equal(b.len, 10011);
	assert_int_equal(strlen(buf_cstr(&b)), 10011);
	buf_release(&b);
	assert_null(b.ptr);
	assert_int_equal(b.len, 0);
}

static void test_binary_data(void **state)
{
	struct buf b = BUF_INIT;

	(void)state;
	assert_int_equal(buf_add(&b, "a\0b", 3), 0);
	assert_int_equal(b.len, 3);
	assert_memory_equal(b.ptr, "a\0b\0", 4);
	buf_release(&b);
}

static void test_reset_keeps_memory(void **state)
{
	struct buf b = BUF_INIT;
	char *p;

	(void)state;
	buf_addstr(&b, "abc");
	p = b.ptr;
	buf_reset(&b);
	assert_int_equal(b.len, 0);
	assert_string_equal(buf_cstr(&b), "");
	assert_ptr_equal(b.ptr, p);
	buf_addstr(&b, "z");
	assert_string_equal(buf_cstr(&b), "z");
	buf_release(&b);
}

static void test_cap_exact_and_refused(void **state)
{
	struct buf b;

	(void)state;
	buf_init(&b, 5);
	assert_int_equal(buf_addstr(&b, "abc"), 0);
	error_clear();
	/* 3 + 3 > 5: refused, contents unchanged, message set. */
	assert_int_equal(buf_addstr(&b, "def"), RV_ETOOBIG);
	assert_string_equal(buf_cstr(&b), "abc");
	assert_int_equal(b.len, 3);
	assert_string_equal(error_msg(), "over the 5-byte limit");
	/* Exactly at the cap is allowed. */
	assert_int_equal(buf_addstr(&b, "de"), 0);
	assert_string_equal(buf_cstr(&b), "abcde");
	assert_int_equal(buf_addch(&b, 'f'), RV_ETOOBIG);
	assert_int_equal(buf_add(&b, "", 0), 0);
	/* release keeps the cap. */
	buf_release(&b);
	assert_int_equal(b.max, 5);
	assert_int_equal(buf_addstr(&b, "123456"), RV_ETOOBIG);
	assert_int_equal(b.len, 0);
	assert_string_equal(buf_cstr(&b), "");
	buf_release(&b);
}

static void test_addf(void **state)
{
	struct buf b = BUF_INIT;
	char big[3000];

	(void)state;
	assert_int_equal(buf_addf(&b, "%s=%d", "n", 42), 0);
	assert_int_equal(buf_addf(&b, "|%05.2f|", 1.5), 0);
	assert_string_equal(buf_cstr(&b), "n=42|01.50|");
	memset(big, 'q', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(buf_addf(&b, "%s", big), 0);
	assert_int_equal(b.len, 11 + 2999);
	assert_int_equal(buf_cstr(&b)[b.len - 1], 'q');
	buf_release(&b);
}

static void test_addf_respects_cap(void **state)
{
	struct buf b;

	(void)state;
	buf_init(&b, 8);
	assert_int_equal(buf_addf(&b, "%d", 1234), 0);
	assert_int_equal(buf_addf(&b, "%s", "56789"), RV_ETOOBIG);
	assert_string_equal(buf_cstr(&b), "1234");
	assert_int_equal(b.len, 4);
	assert_int_equal(buf_addf(&b, "%s", "5678"), 0);
	assert_string_equal(buf_cstr(&b), "12345678");
	buf_release(&b);
}

static void test_detach(void **state)
{
	struct buf b;
	char *p;
	size_t len;

	(void)state;
	buf_init(&b, 100);
	buf_addstr(&b, "payload");
	p = buf_detach(&b, &len);
	assert_string_equal(p, "payload");
	assert_int_equal(len, 7);
	assert_int_equal(b.len, 0);
	assert_null(b.ptr);
	assert_int_equal(b.max, 100);
	assert_string_equal(buf_cstr(&b), "");
	free(p);
	p = buf_detach(&b, NULL);
	assert_string_equal(p, "");
	free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_empty_is_valid_string),
		cmocka_unit_test(test_add_and_grow),
		cmocka_unit_test(test_binary_data),
		cmocka_unit_test(test_reset_keeps_memory),
		cmocka_unit_test(test_cap_exact_and_refused),
		cmocka_unit_test(test_addf),
		cmocka_unit_test(test_addf_respects_cap),
		cmocka_unit_test(test_detach),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
