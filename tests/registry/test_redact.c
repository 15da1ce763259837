/*
 * Unit tests for registry/redact.c: what HTTP tracing may log.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "registry/auth.h"
#include "util/banned.h"

static void check_header(const char *in, const char *want)
{
	char *got = auth_redact_header(in);

	if (strcmp(got, want))
		fail_msg("header \"%s\": got \"%s\", want \"%s\"", in ? in : "(null)", got, want);
	free(got);
}

static void test_header_lines(void **state)
{
	static const char *const t[][2] = {
		{ "Authorization: Bearer abc.def.ghi", "Authorization: Bearer <redacted>" },
		{ "authorization:Basic dXNlcjpwYXNz", "authorization:Basic <redacted>" },
		{ "Proxy-Authorization: Basic eHl6\r\n", "Proxy-Authorization: Basic <redacted>\r\n" },
		{ "PROXY-AUTHORIZATION: Negotiate YIIG==", "PROXY-AUTHORIZATION: Negotiate <redacted>" },
		{ "AUTHORIZATION: tokenonly", "AUTHORIZATION: <redacted>" },
		{ "Authorization: Bearer", "Authorization: <redacted>" },
		{ "Authorization:", "Authorization:" },
		{ "Authorization:   Bearer \t secret more", "Authorization:   Bearer \t <redacted>" },
		{ "Authorization: AWS4-HMAC-SHA256 Credential=AK/x, Signature=ff",
		  "Authorization: AWS4-HMAC-SHA256 <redacted>" },
		{ "Cookie: session=abc; other=def", "Cookie: <redacted>" },
		{ "set-cookie: a=b; Path=/; HttpOnly", "set-cookie: <redacted>" },
		{ "X-Authorization-Hint: keep", "X-Authorization-Hint: keep" },
		{ "Authorization-Info: keep", "Authorization-Info: keep" },
		{ "Host: registry.example.com", "Host: registry.example.com" },
		{ "WWW-Authenticate: Bearer realm=\"https://a/token\"",
		  "WWW-Authenticate: Bearer realm=\"https://a/token\"" },
		{ "GET /token?service=x&scope=repository%3Aa%3Apull HTTP/1.1",
		  "GET /token?service=x&scope=repository%3Aa%3Apull HTTP/1.1" },
		/* Pre-signed redirect targets: the signature is a credential. */
		{ "Location: https://s3.example/b/k?X-Amz-Credential=AK%2F1&X-Amz-Date=20240101"
		  "&X-Amz-Signature=ab12",
		  "Location: https://s3.example/b/k?X-Amz-Credential=<redacted>&X-Amz-Date=20240101"
		  "&X-Amz-Signature=<redacted>" },
		{ "location: /v2/a/blobs/uploads/u?_state=xyz", "location: /v2/a/blobs/uploads/u?_state=xyz" },
		{ "Location: https://blob.core/c?sv=2020&sig=abc%2B", "Location: https://blob.core/c?sv=2020&sig=<redacted>" },
		{ "GET /b/k?Expires=1&Signature=zz&Key-Pair-Id=K1 HTTP/1.1",
		  "GET /b/k?Expires=1&Signature=<redacted>&Key-Pair-Id=<redacted> HTTP/1.1" },
		{ "GET /x?access_token=secret#frag HTTP/1.1", "GET /x?access_token=<redacted>#frag HTTP/1.1" },
		{ "no colon at all", "no colon at all" },
		{ "", "" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		check_header(t[i][0], t[i][1]);
	check_header(NULL, "");
}

/* curl's CURLINFO_HEADER_OUT is a whole block: every line is handled. */
static void test_header_block(void **state)
{
	const char *in = "GET /v2/ HTTP/1.1\r\nHost: r\r\nAuthorization: Bearer s3cr3t\r\n"
	                 "Accept: */*\r\ncookie: sid=s3cr3t2\r\n\r\n";
	char *got = auth_redact_header(in);

	(void)state;
	assert_string_equal(got, "GET /v2/ HTTP/1.1\r\nHost: r\r\nAuthorization: Bearer <redacted>\r\n"
	                         "Accept: */*\r\ncookie: <redacted>\r\n\r\n");
	free(got);
	/* An obs-fold continuation of a secret header is hidden too. */
	got = auth_redact_header("Authorization: Bearer a\r\n  continued-s3cr3t\r\nHost: x\n");
	assert_null(strstr(got, "s3cr3t"));
	assert_non_null(strstr(got, "Host: x\n"));
	free(got);
	got = auth_redact_header("Host: x\r\n  folded-host\r\n");
	assert_string_equal(got, "Host: x\r\n  folded-host\r\n");
	free(got);
}

static void check_body(const char *in, size_t len, const char *want)
{
	char *got = auth_redact_body(in, len);

	if (strcmp(got, want))
		fail_msg("body \"%.*s\": got \"%s\", want \"%s\"", (int)len, in, got, want);
	free(got);
}

#define CHECK_BODY(in, want) check_body(in, sizeof(in) - 1, want)

static void test_body_json(void **state)
{
	(void)state;
	CHECK_BODY("{\"token\":\"abc\",\"expires_in\":60}", "{\"token\":\"<redacted>\",\"expires_in\":60}");
	CHECK_BODY("{\"access_token\" : \"abc\", \"refresh_token\":\n\"def\"}",
	           "{\"access_token\" : \"<redacted>\", \"refresh_token\":\n\"<redacted>\"}");
	CHECK_BODY("{\"ServerURL\":\"h\",\"Username\":\"u\",\"Secret\":\"s\"}",
	           "{\"ServerURL\":\"h\",\"Username\":\"u\",\"Secret\":\"<redacted>\"}");
	CHECK_BODY("{\"Password\":\"p\",\"identitytoken\":\"i\",\"IdentityToken\":\"j\"}",
	           "{\"Password\":\"<redacted>\",\"identitytoken\":\"<redacted>\","
	           "\"IdentityToken\":\"<redacted>\"}");
	/* An escaped quote inside the secret does not end it early. */
	CHECK_BODY("{\"token\":\"ab\\\"cd\",\"x\":\"y\"}", "{\"token\":\"<redacted>\",\"x\":\"y\"}");
	/* A member name inside a string value is text, not a member. */
	CHECK_BODY("{\"note\":\"\\\"token\\\":\\\"visible\\\"\",\"a\":1}",
	           "{\"note\":\"\\\"token\\\":\\\"visible\\\"\",\"a\":1}");
	/* A value is not a name: "token" as a value leaves the next string alone. */
	CHECK_BODY("[\"token\",\"visible\"]", "[\"token\",\"visible\"]");
	/* Escapes in the name are decoded. */
	CHECK_BODY("{\"\\u0074oken\":\"abc\"}", "{\"\\u0074oken\":\"<redacted>\"}");
	CHECK_BODY("{\"data\":{\"auth\":[{\"token\":\"x\"}]}}",
	           "{\"data\":{\"auth\":[{\"token\":\"<redacted>\"}]}}");
	CHECK_BODY("{\"token\":null,\"password\":123}", "{\"token\":null,\"password\":123}");
	CHECK_BODY("{\"tokens\":\"keep\",\"mytoken\":\"keep\"}",
	           "{\"tokens\":\"keep\",\"mytoken\":\"keep\"}");
	CHECK_BODY("{\"errors\":[{\"code\":\"UNAUTHORIZED\",\"message\":\"authentication required\"}]}",
	           "{\"errors\":[{\"code\":\"UNAUTHORIZED\",\"message\":\"authentication required\"}]}");
}

static void test_body_truncated(void **state)
{
	(void)state;
	CHECK_BODY("{\"token\":\"abcdef", "{\"token\":\"<redacted>");
	CHECK_BODY("{\"token\":\"abc\\", "{\"token\":\"<redacted>");
	CHECK_BODY("{\"token\":", "{\"token\":");
	CHECK_BODY("{\"token\"", "{\"token\"");
	CHECK_BODY("{\"tok", "{\"tok");
	CHECK_BODY("{\"a\":\"b\",\"access_token\": \"x", "{\"a\":\"b\",\"access_token\": \"<redacted>");
	/* The length, not a NUL, ends the body. */
	check_body("{\"token\":\"secret\"}", 14, "{\"token\":\"<redacted>");
}

static void test_body_other(void **state)
{
	char *got;

	(void)state;
	CHECK_BODY("<html><body>token expired</body></html>", "<html><body>token expired</body></html>");
	CHECK_BODY("grant_type=refresh_token&service=x&client_id=regvault&refresh_token=SECRET&scope=a",
	           "grant_type=refresh_token&service=x&client_id=regvault&refresh_token=<redacted>"
	           "&scope=a");
	CHECK_BODY("username=u&password=p%26q", "username=u&password=<redacted>");
	CHECK_BODY("Password=p", "Password=<redacted>");
	CHECK_BODY("", "");
	CHECK_BODY("a\0b", "a?b");
	got = auth_redact_body(NULL, 5);
	assert_string_equal(got, "");
	free(got);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_header_lines),
		cmocka_unit_test(test_header_block),
		cmocka_unit_test(test_body_json),
		cmocka_unit_test(test_body_truncated),
		cmocka_unit_test(test_body_other),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
