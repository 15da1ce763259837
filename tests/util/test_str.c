/* Unit tests for util/str.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "util/buf.h"
#include "util/error.h"
#include "util/str.h"
#include "util/banned.h"

static void test_prefix_suffix(void **state)
{
	(void)state;
	assert_true(str_has_prefix("sha256:abc", "sha256:"));
	assert_true(str_has_prefix("abc", ""));
	assert_false(str_has_prefix("sha", "sha256"));
	assert_false(str_has_prefix("Sha256:", "sha256:"));
	assert_true(str_has_suffix("x.sig", ".sig"));
	assert_true(str_has_suffix(".sig", ".sig"));
	assert_true(str_has_suffix("x", ""));
	assert_false(str_has_suffix("sig", ".sig"));
	assert_true(str_has_prefix_ci("WWW-Authenticate: Bearer", "www-authenticate:"));
	assert_false(str_has_prefix_ci("WWW", "www-"));
}

static void test_int64_valid(void **state)
{
	static const struct { const char *s; int64_t v; } t[] = {
		{ "0", 0 }, { "-0", 0 }, { "42", 42 }, { "-42", -42 }, { "007", 7 },
		{ "9223372036854775807", INT64_MAX }, { "-9223372036854775808", INT64_MIN },
		{ "1000000", 1000000 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		int64_t v = 1;

		assert_int_equal(str_to_int64(t[i].s, &v), 0);
		assert_true(v == t[i].v);
	}
}

static void test_int64_invalid(void **state)
{
	static const char *const bad[] = {
		"", "-", "+1", " 1", "1 ", "1a", "0x10", "1.0", "1e3", "--1", "9223372036854775808",
		"-9223372036854775809", "99999999999999999999", "\t7", "1,000",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int64_t v = 77;

		if (str_to_int64(bad[i], &v) != RV_EINVALID)
			fail_msg("accepted \"%s\"", bad[i]);
		assert_true(v == 77);
	}
	str_to_int64("12x", &(int64_t){ 0 });
	assert_string_equal(error_msg(), "invalid integer \"12x\"");
}

static void test_trim(void **state)
{
	char a[] = "  \t hello world \r\n", b[] = "   ", c[] = "x", d[] = "";

	(void)state;
	assert_string_equal(str_trim(a), "hello world");
	assert_string_equal(str_trim(b), "");
	assert_string_equal(str_trim(c), "x");
	assert_string_equal(str_trim(d), "");
}

static void test_glob(void **state)
{
	(void)state;
	assert_true(str_glob_match("*", "team-a/app"));          /* '*' crosses '/' */
	assert_true(str_glob_match("team-a/*", "team-a/x/y"));
	assert_false(str_glob_match("team-a/*", "team-b/x"));
	assert_true(str_glob_match("*-SNAPSHOT*", "1.2-SNAPSHOT-3"));
	assert_false(str_glob_match("*-SNAPSHOT*", "1.2"));
	assert_true(str_glob_match("v?.[0-9]", "v1.5"));
	assert_false(str_glob_match("v?.[0-9]", "v1.x"));
	assert_true(str_glob_match("latest", "latest"));
	assert_false(str_glob_match("latest", "latest2"));
	assert_true(str_glob_match("*", ".hidden"));
	assert_true(str_has_glob("a*"));
	assert_true(str_has_glob("a?"));
	assert_true(str_has_glob("[ab]"));
	assert_false(str_has_glob("plain/repo"));
}

static void test_printable(void **state)
{
	char out[16], tiny[1] = { 'z' };

	(void)state;
	assert_string_equal(str_printable(out, sizeof(out), "plain"), "plain");
	assert_string_equal(str_printable(out, sizeof(out), "a\nb\tc\x7f"), "a?b?c?");
	assert_string_equal(str_printable(out, sizeof(out), "0123456789abcdefXYZ"),
	                    "0123456789ab...");
	assert_int_equal(strlen(out), 15);
	/* Exactly fits: no ellipsis. */
	assert_string_equal(str_printable(out, sizeof(out), "0123456789abcde"), "0123456789abcde");
	str_printable(tiny, sizeof(tiny), "abc");
	assert_int_equal(tiny[0], '\0');
}

static void test_base64_encode(void **state)
{
	/* RFC 4648 §10 test vectors. */
	static const char *const t[][2] = {
		{ "", "" }, { "f", "Zg==" }, { "fo", "Zm8=" }, { "foo", "Zm9v" },
		{ "foob", "Zm9vYg==" }, { "fooba", "Zm9vYmE=" }, { "foobar", "Zm9vYmFy" },
		{ "user:pa$$w0rd", "dXNlcjpwYSQkdzByZA==" },
	};
	char *s;

	(void)state;
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		s = str_base64_encode(t[i][0], strlen(t[i][0]));
		assert_string_equal(s, t[i][1]);
		free(s);
	}
	s = str_base64_encode("\xfb\xff\xbf", 3);
	assert_string_equal(s, "+/+/");
	free(s);
}

static void decode_ok(const char *in, const void *want, size_t wantlen)
{
	struct buf b = BUF_INIT;

	if (str_base64_decode(&b, in) != 0)
		fail_msg("rejected \"%s\": %s", in, error_msg());
	assert_int_equal(b.len, wantlen);
	assert_memory_equal(b.ptr ? b.ptr : "", want, wantlen);
	buf_release(&b);
}

static void test_base64_decode(void **state)
{
	static const char *const bad[] = {
		"Z", "Zg=", "Zg===", "Zm9v=", "Z===", "Zm9*", "Zm 9v", "=Zg=", "Zg==Zg==", "==",
		"Zm9vYmFy\x01",
	};
	struct buf b = BUF_INIT, capped;

	(void)state;
	decode_ok("", "", 0);
	decode_ok("Zg==", "f", 1);
	decode_ok("Zg", "f", 1);           /* padding optional */
	decode_ok("Zm8=", "fo", 2);
	decode_ok("Zm8", "fo", 2);
	decode_ok("Zm9vYmFy", "foobar", 6);
	decode_ok("+/+/", "\xfb\xff\xbf", 3);
	decode_ok("-_-_", "\xfb\xff\xbf", 3); /* URL-safe alphabet */
	decode_ok("Zm9v\r\nYmFy", "foobar", 6);
	decode_ok("eyJhbGciOiJFUzI1NiJ9", "{\"alg\":\"ES256\"}", 15);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		buf_addstr(&b, "keep");
		if (str_base64_decode(&b, bad[i]) != RV_EINVALID)
			fail_msg("accepted \"%s\"", bad[i]);
		assert_string_equal(buf_cstr(&b), "keep");
		buf_reset(&b);
	}
	/* Appends, and respects the buf's cap without partial output. */
	buf_addstr(&b, ">");
	assert_int_equal(str_base64_decode(&b, "Zm9v"), 0);
	assert_string_equal(buf_cstr(&b), ">foo");
	buf_init(&capped, 4);
	assert_int_equal(str_base64_decode(&capped, "Zm9vYmFy"), RV_ETOOBIG);
	assert_int_equal(capped.len, 0);
	buf_release(&b);
	buf_release(&capped);
}

static void test_base64_roundtrip(void **state)
{
	unsigned char data[256];
	struct buf b = BUF_INIT;

	(void)state;
	for (int i = 0; i < 256; i++)
		data[i] = (unsigned char)(i * 7 + 3);
	for (size_t n = 0; n <= sizeof(data); n += 17) {
		char *e = str_base64_encode(data, n);

		buf_reset(&b);
		assert_int_equal(str_base64_decode(&b, e), 0);
		assert_int_equal(b.len, n);
		if (n)
			assert_memory_equal(b.ptr, data, n);
		free(e);
	}
	buf_release(&b);
}

static void test_human_bytes(void **state)
{
	static const struct { int64_t n; const char *s; } t[] = {
		{ 0, "0 B" }, { 512, "512 B" }, { 999, "999 B" }, { 1000, "1.0 kB" },
		{ 1400000, "1.4 MB" }, { 1449999, "1.4 MB" }, { 1450001, "1.5 MB" },
		{ 999949, "999.9 kB" }, { 999950, "1.0 MB" }, { 999999, "1.0 MB" },
		{ 3000000000LL, "3.0 GB" }, { 1234567890123LL, "1.2 TB" },
		{ INT64_MAX, "9.2 EB" }, { -2048, "-2.0 kB" }, { INT64_MIN, "-9.2 EB" },
	};
	char out[32];

	(void)state;
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		assert_string_equal(str_human_bytes(t[i].n, out, sizeof(out)), t[i].s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_prefix_suffix),
		cmocka_unit_test(test_int64_valid),
		cmocka_unit_test(test_int64_invalid),
		cmocka_unit_test(test_trim),
		cmocka_unit_test(test_glob),
		cmocka_unit_test(test_printable),
		cmocka_unit_test(test_base64_encode),
		cmocka_unit_test(test_base64_decode),
		cmocka_unit_test(test_base64_roundtrip),
		cmocka_unit_test(test_human_bytes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
