/* Unit tests for util/log.c: nothing without a sink, levels, one format. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "util/buf.h"
#include "util/log.h"
#include "util/banned.h"

struct capture {
	int calls;
	enum log_level level;
	struct buf text;
};

static void sink(enum log_level level, const char *msg, void *ctx)
{
	struct capture *c = ctx;

	c->calls++;
	c->level = level;
	buf_reset(&c->text);
	buf_addstr(&c->text, msg);
}

static int counter;

static const char *counted(void)
{
	counter++;
	return "x";
}

static void test_no_sink(void **state)
{
	(void)state;
	log_set_sink(NULL, NULL, LOGLV_TRACE);
	assert_false(log_enabled(LOGLV_ERROR));
	counter = 0;
	log_msg(LOGLV_ERROR, "%s", counted());
	/* Arguments are evaluated (it is a function), but nothing happens. */
	assert_int_equal(counter, 1);
}

static void test_levels(void **state)
{
	struct capture c = { 0, LOGLV_ERROR, BUF_INIT };

	(void)state;
	log_set_sink(sink, &c, LOGLV_INFO);
	assert_true(log_enabled(LOGLV_ERROR));
	assert_true(log_enabled(LOGLV_INFO));
	assert_false(log_enabled(LOGLV_DEBUG));
	log_debug("hidden %d", 1);
	log_trace("hidden");
	assert_int_equal(c.calls, 0);
	log_info("copied %d blobs to \"%s\"", 3, "reg");
	assert_int_equal(c.calls, 1);
	assert_int_equal(c.level, LOGLV_INFO);
	assert_string_equal(buf_cstr(&c.text), "copied 3 blobs to \"reg\"");
	log_warn("w");
	assert_int_equal(c.level, LOGLV_WARN);
	log_msg(LOGLV_ERROR, "e");
	assert_int_equal(c.calls, 3);
	assert_int_equal(c.level, LOGLV_ERROR);
	log_set_sink(NULL, NULL, LOGLV_ERROR);
	buf_release(&c.text);
}

static void test_long_message_not_cut(void **state)
{
	struct capture c = { 0, LOGLV_ERROR, BUF_INIT };
	char *big = malloc(20001);

	(void)state;
	memset(big, 'z', 20000);
	big[20000] = '\0';
	log_set_sink(sink, &c, LOGLV_TRACE);
	log_trace("<%s>", big);
	assert_int_equal(c.calls, 1);
	assert_int_equal(c.text.len, 20002);
	assert_int_equal(buf_cstr(&c.text)[20001], '>');
	log_set_sink(NULL, NULL, LOGLV_ERROR);
	buf_release(&c.text);
	free(big);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_no_sink),
		cmocka_unit_test(test_levels),
		cmocka_unit_test(test_long_message_not_cut),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
