/* Unit tests for util/timeutil.c: RFC 3339, IMF-fixdate, durations. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "util/error.h"
#include "util/timeutil.h"
#include "util/banned.h"

static void test_rfc3339_valid(void **state)
{
	static const struct { const char *s; int64_t t; } t[] = {
		{ "1970-01-01T00:00:00Z", 0 },
		{ "2024-05-01T12:00:00Z", 1714564800 },
		{ "2024-05-01t12:00:00z", 1714564800 },
		{ "2024-05-01T12:00:00.123456789Z", 1714564800 },
		{ "2024-05-01T12:00:00.5Z", 1714564800 },
		{ "2024-05-01T14:00:00+02:00", 1714564800 },
		{ "2024-05-01T06:30:00-05:30", 1714564800 },
		{ "2024-05-01T12:00:00.000+00:00", 1714564800 },
		{ "2024-05-01T12:00:00-00:00", 1714564800 },
		{ "2024-02-29T00:00:00Z", 1709164800 },   /* leap year */
		{ "2000-02-29T00:00:00Z", 951782400 },    /* 400-year leap */
		{ "1969-12-31T23:59:59Z", -1 },
		{ "0001-01-01T00:00:00Z", -62135596800 }, /* Go's zero time */
		{ "2016-12-31T23:59:60Z", 1483228800 },   /* leap second rolls over */
		{ "2023-06-15T08:49:37.000000000+00:00", 1686818977 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		int64_t got = 42;

		assert_int_equal(time_parse_rfc3339(t[i].s, &got), 0);
		if (got != t[i].t)
			fail_msg("%s: got %lld want %lld", t[i].s, (long long)got, (long long)t[i].t);
	}
}

static void test_rfc3339_invalid(void **state)
{
	static const char *const bad[] = {
		"", "2024", "2024-05-01", "2024-05-01T12:00:00", "2024-05-01 12:00:00Z",
		"2024-05-01T12:00Z", "2024-5-01T12:00:00Z", "2024-05-01T12:00:00.Z",
		"2024-05-01T12:00:00+0200", "2024-05-01T12:00:00+02", "2024-05-01T12:00:00Zjunk",
		" 2024-05-01T12:00:00Z", "2024-05-01T12:00:00Z ", "2024-13-01T12:00:00Z",
		"2024-00-01T12:00:00Z", "2024-04-31T12:00:00Z", "2023-02-29T00:00:00Z",
		"1900-02-29T00:00:00Z", "2024-05-01T24:00:00Z", "2024-05-01T12:60:00Z",
		"2024-05-01T12:00:61Z", "2024-05-01T12:00:00+24:00", "2024-05-01T12:00:00+02:60",
		"+2024-05-01T12:00:00Z", "2024-05-01T12:00:00.12a3Z", "abcd-ef-ghTij:kl:mnZ",
		"2024-05-01T12:00:00GMT", "2024-05-01T12:00:00UTC",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int64_t got = 42;

		if (time_parse_rfc3339(bad[i], &got) != RV_EINVALID)
			fail_msg("accepted \"%s\"", bad[i]);
		assert_int_equal(got, 42);
		assert_non_null(strstr(error_msg(), bad[i]));
	}
}

static void test_rfc3339_format(void **state)
{
	char out[32], small[8];
	int64_t back;

	(void)state;
	assert_string_equal(time_format_rfc3339(0, out, sizeof(out)), "1970-01-01T00:00:00Z");
	assert_string_equal(time_format_rfc3339(1714564800, out, sizeof(out)),
	                    "2024-05-01T12:00:00Z");
	assert_string_equal(time_format_rfc3339(-1, out, sizeof(out)), "1969-12-31T23:59:59Z");
	/* 21 bytes is enough, as the header promises. */
	assert_string_equal(time_format_rfc3339(1714564800, out, 21), "2024-05-01T12:00:00Z");
	assert_string_equal(time_format_rfc3339(1714564800, small, sizeof(small)), "");
	/* Round trip. */
	for (int64_t t = -100000000; t < 4000000000LL; t += 123456789) {
		time_format_rfc3339(t, out, sizeof(out));
		assert_int_equal(time_parse_rfc3339(out, &back), 0);
		assert_true(back == t);
	}
}

static void test_http_date(void **state)
{
	int64_t t = 0;
	static const char *const bad[] = {
		"", "Sun, 06 Nov 1994 08:49:37 UTC", "Sunday, 06-Nov-94 08:49:37 GMT",
		"Sun Nov  6 08:49:37 1994", "Sun, 6 Nov 1994 08:49:37 GMT",
		"Xyz, 06 Nov 1994 08:49:37 GMT", "Sun, 06 Foo 1994 08:49:37 GMT",
		"Sun, 31 Nov 1994 08:49:37 GMT", "Sun, 06 Nov 1994 25:49:37 GMT",
		"Sun, 06 Nov 1994 08:49:37 GMT ", "sun, 06 Nov 1994 08:49:37 GMT",
		"Sun, 06 Nov 1994 08:49:37 GMTX", "120",
	};

	(void)state;
	assert_int_equal(time_parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT", &t), 0);
	assert_true(t == 784111777);
	assert_int_equal(time_parse_http_date("Wed, 01 May 2024 12:00:00 GMT", &t), 0);
	assert_true(t == 1714564800);
	assert_int_equal(time_parse_http_date("Thu, 29 Feb 2024 00:00:00 GMT", &t), 0);
	assert_true(t == 1709164800);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (time_parse_http_date(bad[i], &t) != RV_EINVALID)
			fail_msg("accepted \"%s\"", bad[i]);
}

static void test_duration(void **state)
{
	static const struct { const char *s; int64_t secs; } ok[] = {
		{ "90s", 90 }, { "15m", 900 }, { "12h", 43200 }, { "30d", 2592000 },
		{ "2w", 1209600 }, { "45", 45 }, { "1", 1 }, { "007d", 604800 },
		{ "15250284452471w", 15250284452471LL * 604800 },
	};
	static const char *const bad[] = {
		"", "0", "0s", "-5m", "+5m", "1.5h", "h", "5y", "5 m", " 5m", "5mm", "1h30m",
		"9223372036854775807m", "15250284452472w", "99999999999999999999", "5M", "abc",
	};
	int64_t v;

	(void)state;
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		v = -1;
		assert_int_equal(time_parse_duration(ok[i].s, &v), 0);
		assert_true(v == ok[i].secs);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		v = -1;
		if (time_parse_duration(bad[i], &v) != RV_EINVALID)
			fail_msg("accepted \"%s\"", bad[i]);
		assert_true(v == -1);
	}
}

static void test_clocks(void **state)
{
	int64_t a = time_mono_ms(), b, now = time_now();

	(void)state;
	usleep(20000);
	b = time_mono_ms();
	assert_true(b - a >= 15 && b - a < 5000);
	/* After 2024-01-01 and before 2100. */
	assert_true(now > 1704067200 && now < 4102444800LL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rfc3339_valid),
		cmocka_unit_test(test_rfc3339_invalid),
		cmocka_unit_test(test_rfc3339_format),
		cmocka_unit_test(test_http_date),
		cmocka_unit_test(test_duration),
		cmocka_unit_test(test_clocks),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
