/*
 * test_redact_text.c — registry_redact_text(): what a registry quotes back
 * loses the credentials in it, and the words around them stay readable.
 * (leak_test.sh shows the same end to end through rv-echoreg.)
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "registry/registry.h"
#include "util/banned.h"

static void check(const char *in, const char *want)
{
	char *got = registry_redact_text(in);

	if (strcmp(got, want) != 0)
		fail_msg("redact(%s)\n  got  %s\n  want %s", in, got, want);
	free(got);
}

static void test_schemes(void **state)
{
	(void)state;
	check("manifest \"r:v1\" on \"h\": 400 MANIFEST_INVALID: Basic ZWNobzpwYXNz",
	      "manifest \"r:v1\" on \"h\": 400 MANIFEST_INVALID: Basic <redacted>");
	check("credentials rejected (401 UNAUTHORIZED: bad Authorization: Bearer rvecho.3bc4)",
	      "credentials rejected (401 UNAUTHORIZED: bad Authorization: Bearer <redacted>)");
	check("BEARER a+b/c== and bearer\tX1", "BEARER <redacted> and bearer\t<redacted>");
	check("Basic dXNlcjpwYXNzd29yZA== Basic abcdefghijklm",
	      "Basic <redacted> Basic <redacted>");
	check("Authorization: Digest username=abc", "Authorization: Digest <redacted>");
	check("authorization=sekrit; next", "authorization=<redacted>; next");
	check("Proxy-Authorization: Negotiate YIIG==", "Proxy-Authorization: Negotiate <redacted>");
	check("{\"Authorization\":\"Basic eHl6\"}", "{\"Authorization\":\"<redacted>\"}");
	check("{\"Authorization\": [\"Basic eHl6\"]}", "{\"Authorization\": [\"Basic <redacted>\"]}");
}

static void test_names_and_jwts(void **state)
{
	(void)state;
	check("token=abc&x=1", "token=<redacted>&x=1");
	check("password: hunter2, user: bob", "password: <redacted>, user: bob");
	check("{\"access_token\":\"abc\",\"expires_in\":60}",
	      "{\"access_token\":\"<redacted>\",\"expires_in\":60}");
	check("\"auth\": \"dXNlcjpwYXNz\"", "\"auth\": \"<redacted>\"");
	check("{\"Secret\":\"s3\"}", "{\"Secret\":\"<redacted>\"}");
	check("refresh_token='r-1' ok", "refresh_token='<redacted>' ok");
	check("jwt eyJhbGciOi.eyJzdWIi.sig_-x there", "jwt <redacted> there");
	check("x=eyJhbGciOi.eyJzdWIi", "x=<redacted>");
	check("cut eyJhbGciOiJFUzI1NiJ9.eyJpc3Mi", "cut <redacted>");
	check("an unfinished \"token\": \"abc", "an unfinished \"token\": \"<redacted>");
}

/* Messages regvault writes itself stay as they are. */
static void test_untouched(void **state)
{
	static const char *const same[] = {
		"token server \"http://h/token\" answered 400",
		"registry \"h\": token server \"http://h/t\": token response is not JSON "
		"(line 1, column 131)",
		"token server \"http://h:1/token\": token response is not JSON",
		"token response holds neither \"token\" nor \"access_token\"",
		"registry \"h\" speaks http, auth basic",
		"registry \"h\" speaks http, auth bearer",
		"no credentials for \"h\"",
		"tags of \"r\" on \"h\": credentials rejected (401 UNAUTHORIZED: authentication required)",
		"< Www-Authenticate: Bearer realm=\"https://a/token\",service=\"x\"",
		"Bearer error=\"invalid_token\"",
		"blob sha256:0123abcd on \"h\": 404 BLOB_UNKNOWN: blob unknown to registry",
		"credential helper \"docker-credential-x\" has nothing for \"h\"",
		"* Server auth using Basic with user 'rv-user'",
		"> Authorization: Bearer <redacted>", "Authorization: <redacted>",
		"bearer token expired", "Basic", "ends with Bearer", "eyJ alone", "eyJabc.", "",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(same) / sizeof(same[0]); i++)
		check(same[i], same[i]);
	char *got = registry_redact_text(NULL);
	assert_string_equal(got, "");
	free(got);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_schemes),
		cmocka_unit_test(test_names_and_jwts),
		cmocka_unit_test(test_untouched),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
