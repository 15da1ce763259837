/*
 * Unit tests for registry/auth.c: WWW-Authenticate challenges, scope sets,
 * token responses, token URL and form.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "registry/auth.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/xalloc.h"
#include "util/banned.h"

/* --- Challenges --------------------------------------------------------- */

struct want_challenge {
	const char *scheme, *realm, *service, *scope, *error;
};

struct challenge_case {
	const char *name;
	const char *value;
	int rc;
	size_t n;
	struct want_challenge c[3];
};

static const struct challenge_case challenge_cases[] = {
	{ "docker hub, with scope",
	  "Bearer realm=\"https://auth.docker.io/token\",service=\"registry.docker.io\","
	  "scope=\"repository:library/alpine:pull\"",
	  0, 1,
	  { { "bearer", "https://auth.docker.io/token", "registry.docker.io",
	      "repository:library/alpine:pull", NULL } } },
	{ "docker hub /v2/ ping",
	  "Bearer realm=\"https://auth.docker.io/token\",service=\"registry.docker.io\"", 0, 1,
	  { { "bearer", "https://auth.docker.io/token", "registry.docker.io", NULL, NULL } } },
	{ "docker hub invalid_token",
	  "Bearer realm=\"https://auth.docker.io/token\",service=\"registry.docker.io\","
	  "error=\"invalid_token\"",
	  0, 1,
	  { { "bearer", "https://auth.docker.io/token", "registry.docker.io", NULL,
	      "invalid_token" } } },
	{ "ghcr",
	  "Bearer realm=\"https://ghcr.io/token\",service=\"ghcr.io\",scope=\"repository:octo/app:pull\"",
	  0, 1, { { "bearer", "https://ghcr.io/token", "ghcr.io", "repository:octo/app:pull", NULL } } },
	{ "ecr basic with service",
	  "Basic realm=\"https://123456789012.dkr.ecr.us-east-1.amazonaws.com/\","
	  "service=\"ecr.amazonaws.com\"",
	  0, 1,
	  { { "basic", "https://123456789012.dkr.ecr.us-east-1.amazonaws.com/", "ecr.amazonaws.com",
	      NULL, NULL } } },
	{ "gcr",
	  "Bearer realm=\"https://gcr.io/v2/token\",service=\"gcr.io\","
	  "scope=\"repository:google-containers/pause:pull\"",
	  0, 1,
	  { { "bearer", "https://gcr.io/v2/token", "gcr.io", "repository:google-containers/pause:pull",
	      NULL } } },
	{ "quay",
	  "Bearer realm=\"https://quay.io/v2/auth\",service=\"quay.io\","
	  "scope=\"repository:coreos/etcd:pull\"",
	  0, 1,
	  { { "bearer", "https://quay.io/v2/auth", "quay.io", "repository:coreos/etcd:pull", NULL } } },
	{ "distribution insufficient_scope, two scopes",
	  "Bearer realm=\"https://auth.example.com/token\",service=\"registry.example.com\","
	  "scope=\"repository:samalba/my-app:pull,push repository:other:pull\","
	  "error=\"insufficient_scope\"",
	  0, 1,
	  { { "bearer", "https://auth.example.com/token", "registry.example.com",
	      "repository:samalba/my-app:pull,push repository:other:pull", "insufficient_scope" } } },
	{ "distribution htpasswd", "Basic realm=\"Registry Realm\"", 0, 1,
	  { { "basic", "Registry Realm", NULL, NULL, NULL } } },
	{ "harbor",
	  "Bearer realm=\"https://harbor.example.com/service/token\",service=\"harbor-registry\","
	  "scope=\"repository:library/nginx:pull\"",
	  0, 1,
	  { { "bearer", "https://harbor.example.com/service/token", "harbor-registry",
	      "repository:library/nginx:pull", NULL } } },
	{ "host:port in realm, service and scope",
	  "Bearer realm=\"http://127.0.0.1:5001/auth\",service=\"127.0.0.1:5000\","
	  "scope=\"repository:127.0.0.1:5000/foo:pull\"",
	  0, 1,
	  { { "bearer", "http://127.0.0.1:5001/auth", "127.0.0.1:5000",
	      "repository:127.0.0.1:5000/foo:pull", NULL } } },
	{ "two challenges in one value",
	  "Bearer realm=\"https://a.example/token\",service=\"a.example\", Basic realm=\"a.example\"",
	  0, 2,
	  { { "bearer", "https://a.example/token", "a.example", NULL, NULL },
	    { "basic", "a.example", NULL, NULL, NULL } } },
	{ "token68 challenge first, then two more",
	  "Negotiate YIIGhgYJKoZIhvcSAQICAQ==, Basic realm=\"x\", Bearer realm=\"y\"", 0, 3,
	  { { "negotiate", NULL, NULL, NULL, NULL },
	    { "basic", "x", NULL, NULL, NULL },
	    { "bearer", "y", NULL, NULL, NULL } } },
	{ "token68 with base64 characters",
	  "Basic dXNlcjpw+/==, Bearer realm=\"r\"", 0, 2,
	  { { "basic", NULL, NULL, NULL, NULL }, { "bearer", "r", NULL, NULL, NULL } } },
	{ "escapes, comma and colon inside quotes",
	  "Bearer realm=\"https://a.example/t\\\"ok\\\\en\",service=\"x, y: z\"", 0, 1,
	  { { "bearer", "https://a.example/t\"ok\\en", "x, y: z", NULL, NULL } } },
	{ "odd spacing, BWS around '='",
	  "  Bearer   realm = \"r\" ,  service= s ,scope=\"a b\"  ", 0, 1,
	  { { "bearer", "r", "s", "a b", NULL } } },
	{ "tab after scheme", "Bearer\trealm=\"r\"", 0, 1, { { "bearer", "r", NULL, NULL, NULL } } },
	{ "case-insensitive scheme and names",
	  "BEARER REALM=\"r\",Service=\"s\",SCOPE=\"x:y:z\",Error=\"e\"", 0, 1,
	  { { "bearer", "r", "s", "x:y:z", "e" } } },
	{ "duplicate parameter: first wins", "Bearer realm=\"first\",realm=\"second\"", 0, 1,
	  { { "bearer", "first", NULL, NULL, NULL } } },
	{ "bare URL realm",
	  "Bearer realm=https://auth.example/token?x=1,service=reg.example", 0, 1,
	  { { "bearer", "https://auth.example/token?x=1", "reg.example", NULL, NULL } } },
	{ "unknown parameter with comma ignored",
	  "Bearer realm=\"r\",foo=\"bar,baz=qux\",service=\"s\"", 0, 1,
	  { { "bearer", "r", "s", NULL, NULL } } },
	{ "empty list elements", ",,Bearer realm=\"r\",,service=\"s\",,", 0, 1,
	  { { "bearer", "r", "s", NULL, NULL } } },
	{ "scheme alone", "Basic", 0, 1, { { "basic", NULL, NULL, NULL, NULL } } },
	{ "empty quoted realm", "Basic realm=\"\"", 0, 1, { { "basic", "", NULL, NULL, NULL } } },
	{ "UTF-8 in quoted string", "Basic realm=\"caf\xc3\xa9\"", 0, 1,
	  { { "basic", "caf\xc3\xa9", NULL, NULL, NULL } } },
	{ "unterminated quoted string", "Bearer realm=\"https://x", 0, 1,
	  { { "bearer", NULL, NULL, NULL, NULL } } },
	{ "trailing backslash", "Bearer realm=\"abc\\", 0, 1, { { "bearer", NULL, NULL, NULL, NULL } } },
	{ "CR LF inside quotes is refused, parsing resumes",
	  "Bearer realm=\"a\r\nX-Evil: 1\",service=\"s\"", 0, 1,
	  { { "bearer", NULL, "s", NULL, NULL } } },
	{ "junk after a value: value kept, resync at comma",
	  "Bearer realm=\"r\" junk junk, service=\"s\"", 0, 1, { { "bearer", "r", "s", NULL, NULL } } },
	{ "empty value is a token68, not a parameter", "Bearer realm=", 0, 1,
	  { { "bearer", NULL, NULL, NULL, NULL } } },
	{ "scheme glued to a quote", "Bearer\"x\", Basic realm=\"b\"", 0, 2,
	  { { "bearer", NULL, NULL, NULL, NULL }, { "basic", "b", NULL, NULL, NULL } } },
	{ "empty", "", RV_EINVALID, 0, { { NULL, NULL, NULL, NULL, NULL } } },
	{ "only separators", " ,, \t, ", RV_EINVALID, 0, { { NULL, NULL, NULL, NULL, NULL } } },
	{ "parameter without scheme", "realm=\"x\"", RV_EINVALID, 0,
	  { { NULL, NULL, NULL, NULL, NULL } } },
	{ "quoted string alone", "\"Bearer realm=x\"", RV_EINVALID, 0,
	  { { NULL, NULL, NULL, NULL, NULL } } },
	{ "equals signs", "=,=,==", RV_EINVALID, 0, { { NULL, NULL, NULL, NULL, NULL } } },
	{ "control bytes", "\x01\x02\x7f", RV_EINVALID, 0, { { NULL, NULL, NULL, NULL, NULL } } },
};

static void check_field(const char *name, const char *field, const char *got, const char *want)
{
	if (!want && !got)
		return;
	if (!want || !got || strcmp(want, got))
		fail_msg("case \"%s\": %s: got \"%s\", want \"%s\"", name, field, got ? got : "(null)",
		         want ? want : "(null)");
}

static void test_challenges(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(challenge_cases) / sizeof(challenge_cases[0]); i++) {
		const struct challenge_case *t = &challenge_cases[i];
		struct auth_challenge *c = (void *)1;
		size_t n = 99;
		int rc = auth_challenge_parse(&c, &n, t->value);

		if (rc != t->rc || n != t->n)
			fail_msg("case \"%s\": rc %d n %zu, want rc %d n %zu", t->name, rc, n, t->rc, t->n);
		if (rc) {
			assert_null(c);
			assert_true(strlen(error_msg()) > 0);
		}
		for (size_t j = 0; j < n; j++) {
			check_field(t->name, "scheme", c[j].scheme, t->c[j].scheme);
			check_field(t->name, "realm", c[j].realm, t->c[j].realm);
			check_field(t->name, "service", c[j].service, t->c[j].service);
			check_field(t->name, "scope", c[j].scope, t->c[j].scope);
			check_field(t->name, "error", c[j].error, t->c[j].error);
			auth_challenge_release(&c[j]);
		}
		if (!rc)
			free(c);
	}
	assert_true(sizeof(challenge_cases) / sizeof(challenge_cases[0]) >= 20);
}

static void test_challenge_null_and_release(void **state)
{
	struct auth_challenge *c = NULL;
	size_t n = 0;

	(void)state;
	assert_int_equal(auth_challenge_parse(&c, &n, NULL), RV_EINVALID);
	auth_challenge_release(NULL);
}

/* Many elements stay linear and keep the first of each parameter. */
static void test_challenge_long(void **state)
{
	struct buf b = BUF_INIT;
	struct auth_challenge *c = NULL;
	size_t n = 0;

	(void)state;
	buf_addstr(&b, "Bearer realm=\"r\"");
	for (int i = 0; i < 20000; i++)
		buf_addf(&b, ",realm=\"x%d\",p%d=v", i, i);
	assert_int_equal(auth_challenge_parse(&c, &n, buf_cstr(&b)), 0);
	assert_int_equal(n, 1);
	assert_string_equal(c[0].realm, "r");
	auth_challenge_release(&c[0]);
	free(c);
	buf_release(&b);
}

/* --- Scopes ------------------------------------------------------------- */

static void check_merge(const char *set, const char *add, const char *want)
{
	struct buf b = BUF_INIT;

	buf_addstr(&b, set);
	assert_int_equal(auth_scope_merge(&b, add), 0);
	if (strcmp(buf_cstr(&b), want))
		fail_msg("merge \"%s\" + \"%s\": got \"%s\", want \"%s\"", set, add ? add : "(null)",
		         buf_cstr(&b), want);
	buf_release(&b);
}

static void test_scope_merge(void **state)
{
	(void)state;
	check_merge("", "repository:a:pull", "repository:a:pull");
	check_merge("repository:a:pull", "repository:a:push", "repository:a:pull,push");
	check_merge("repository:a:push,pull", "repository:a:pull", "repository:a:pull,push");
	check_merge("repository:b:pull", "repository:a:pull", "repository:a:pull repository:b:pull");
	check_merge("repository:a:pull repository:b:push", "repository:b:pull repository:a:delete",
	            "repository:a:delete,pull repository:b:pull,push");
	/* The name may hold host:port: split at the first and last ':'. */
	check_merge("repository:localhost:5000/app:pull", "repository:localhost:5000/app:push",
	            "repository:localhost:5000/app:pull,push");
	check_merge("repository:localhost:5000/app:pull", "repository:localhost:5001/app:pull",
	            "repository:localhost:5000/app:pull repository:localhost:5001/app:pull");
	check_merge("", "registry:catalog:*", "registry:catalog:*");
	check_merge("repository:z:pull", "registry:catalog:*", "registry:catalog:* repository:z:pull");
	check_merge("", "  repository:a:pull \t repository:a:delete  ", "repository:a:delete,pull");
	check_merge("", "repository:a:pull,,push,", "repository:a:pull,push");
	check_merge("", "repository:a:", "");
	check_merge("repository:a:pull", "garbage repository:odd garbage",
	            "garbage repository:a:pull repository:odd");
	check_merge("repository:a:pull", NULL, "repository:a:pull");
	check_merge("repository(plugin):p:pull", "repository(plugin):p:push",
	            "repository(plugin):p:pull,push");
}

/* Equal sets give equal strings, whatever the order they arrive in. */
static void test_scope_merge_deterministic(void **state)
{
	static const char *const parts[] = {
		"repository:b:push", "repository:a:pull", "registry:catalog:*", "repository:b:pull",
		"repository:h:5000/x:delete",
	};
	const size_t np = sizeof(parts) / sizeof(parts[0]);
	char *first = NULL;

	(void)state;
	for (size_t rot = 0; rot < np; rot++) {
		for (int rev = 0; rev < 2; rev++) {
			struct buf b = BUF_INIT;

			for (size_t k = 0; k < np; k++) {
				size_t idx = (rot + (rev ? np - k : k)) % np;

				assert_int_equal(auth_scope_merge(&b, parts[idx]), 0);
			}
			if (!first)
				first = buf_detach(&b, NULL);
			else
				assert_string_equal(buf_cstr(&b), first);
			buf_release(&b);
		}
	}
	assert_string_equal(first, "registry:catalog:* repository:a:pull repository:b:pull,push "
	                           "repository:h:5000/x:delete");
	free(first);
}

static void test_scope_merge_cap(void **state)
{
	struct buf b;

	(void)state;
	buf_init(&b, 20);
	assert_int_equal(auth_scope_merge(&b, "repository:a:pull"), 0);
	assert_int_equal(auth_scope_merge(&b, "repository:bbbbbb:pull"), RV_ETOOBIG);
	assert_string_equal(buf_cstr(&b), "repository:a:pull");
	buf_release(&b);
}

static void test_scope_repository(void **state)
{
	char *s = auth_scope_repository("team/app", "pull,push");

	(void)state;
	assert_string_equal(s, "repository:team/app:pull,push");
	free(s);
}

/* --- Tokens ------------------------------------------------------------- */

static void check_token(const char *body, const char *token, const char *refresh, int64_t life)
{
	struct auth_token t;

	if (auth_token_parse(&t, body, strlen(body)))
		fail_msg("token \"%s\": %s", body, error_msg());
	assert_string_equal(t.token, token);
	if (refresh)
		assert_string_equal(t.refresh_token, refresh);
	else
		assert_null(t.refresh_token);
	if (t.expires_in != life)
		fail_msg("token \"%s\": expires_in %lld, want %lld", body, (long long)t.expires_in,
		         (long long)life);
	auth_token_release(&t);
}

static void test_token_parse(void **state)
{
	(void)state;
	check_token("{\"token\":\"t1\",\"expires_in\":300}", "t1", NULL, 300);
	check_token("{\"access_token\":\"a1\"}", "a1", NULL, 60);
	check_token("{\"token\":\"t\",\"access_token\":\"a\"}", "t", NULL, 60);
	check_token("{\"token\":\"\",\"access_token\":\"a\"}", "a", NULL, 60);
	check_token("{\"token\":null,\"access_token\":\"a\"}", "a", NULL, 60);
	check_token("{\"token\":\"t\",\"expires_in\":10}", "t", NULL, 10);
	check_token("{\"token\":\"t\",\"expires_in\":-5}", "t", NULL, 60);
	check_token("{\"token\":\"t\",\"expires_in\":0}", "t", NULL, 60);
	check_token("{\"token\":\"t\",\"expires_in\":\"300\"}", "t", NULL, 60);
	check_token("{\"token\":\"t\",\"expires_in\":120.7}", "t", NULL, 120);
	check_token("{\"token\":\"t\",\"expires_in\":3000000000000}", "t", NULL, INT32_MAX);
	check_token("{\"token\":\"t\",\"expires_in\":1e300}", "t", NULL, INT32_MAX);
	check_token("{\"access_token\":\"a\",\"refresh_token\":\"r\",\"expires_in\":900,"
	            "\"scope\":\"repository:a:pull\",\"issued_at\":\"2024-05-01T12:00:00Z\"}",
	            "a", "r", 900);
	check_token(" \n{\"token\":\"t\"} \n", "t", NULL, 60);
}

static void check_token_error(const char *body, size_t len, int rc)
{
	struct auth_token t;

	if (auth_token_parse(&t, body, len) != rc)
		fail_msg("token \"%.*s\": want rc %d", (int)len, body, rc);
	assert_null(t.token);
	assert_null(t.refresh_token);
	/* The body may hold a secret: it never reaches the message. */
	assert_null(strstr(error_msg(), "SECRET"));
	assert_true(strlen(error_msg()) > 0);
}

static void test_token_errors(void **state)
{
	static const char *const bad[] = {
		"", "{", "{\"token\":\"SECRET-1\"", "SECRET-2", "[\"SECRET-3\"]", "{}", "null",
		"{\"token\":5,\"x\":\"SECRET\"}", "{\"token\":\"\"}", "{\"Token\":\"SECRET\"}",
		"{\"token\":\"a\"} trailing SECRET",
		/* Would reach the Authorization header as a second header line. */
		"{\"token\":\"SECRET\\r\\nX-Injected: 1\"}",
		"{\"access_token\":\"SECRET\",\"refresh_token\":\"r\\nx\"}",
	};
	char *big;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		check_token_error(bad[i], strlen(bad[i]), RV_EINVALID);
	/* The length bounds the parse: the bytes after it are not read. */
	check_token_error("{\"token\":\"t\"}", 5, RV_EINVALID);

	big = xmalloc(1024 * 1024 + 2);
	memset(big, ' ', 1024 * 1024 + 2);
	memcpy(big, "{\"token\":\"t\"}", 13);
	check_token_error(big, 1024 * 1024 + 1, RV_ETOOBIG);
	free(big);
	auth_token_release(NULL);
}

/* --- Token URL and form ------------------------------------------------- */

static void check_url(const char *realm, const char *service, const char *scopes,
                      const char *want)
{
	char *url = auth_token_url(realm, service, scopes);

	if (strcmp(url, want))
		fail_msg("url: got \"%s\", want \"%s\"", url, want);
	free(url);
}

static void test_token_url(void **state)
{
	(void)state;
	check_url("https://auth.docker.io/token", "registry.docker.io",
	          "repository:library/alpine:pull repository:a:pull,push",
	          "https://auth.docker.io/token?service=registry.docker.io"
	          "&scope=repository%3Alibrary%2Falpine%3Apull&scope=repository%3Aa%3Apull%2Cpush");
	check_url("https://h/token?account=bob", "svc", "repository:a:pull",
	          "https://h/token?account=bob&service=svc&scope=repository%3Aa%3Apull");
	check_url("https://h/token?", "svc", NULL, "https://h/token?service=svc");
	check_url("https://h/token?a=1&", NULL, "registry:catalog:*",
	          "https://h/token?a=1&scope=registry%3Acatalog%3A%2A");
	check_url("https://h/token", NULL, NULL, "https://h/token");
	check_url("https://h/token", "", "  ", "https://h/token");
	check_url("https://h/token", "a b+c/\xc3\xa9~._-", NULL,
	          "https://h/token?service=a%20b%2Bc%2F%C3%A9~._-");
	check_url("https://h/token", "s&x=1", "repository:h:5000/x:pull",
	          "https://h/token?service=s%26x%3D1&scope=repository%3Ah%3A5000%2Fx%3Apull");
}

static void test_token_form(void **state)
{
	char *f;

	(void)state;
	f = auth_token_form("registry.docker.io", "repository:a:pull  repository:b:push",
	                    "r3fresh&=+/");
	assert_string_equal(f, "grant_type=refresh_token&service=registry.docker.io"
	                       "&client_id=regvault&refresh_token=r3fresh%26%3D%2B%2F"
	                       "&scope=repository%3Aa%3Apull%20repository%3Ab%3Apush");
	free(f);
	f = auth_token_form("svc", NULL, "rt");
	assert_string_equal(f, "grant_type=refresh_token&service=svc&client_id=regvault"
	                       "&refresh_token=rt");
	free(f);
	f = auth_token_form(NULL, "", "rt");
	assert_string_equal(f, "grant_type=refresh_token&client_id=regvault&refresh_token=rt");
	free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_challenges),
		cmocka_unit_test(test_challenge_null_and_release),
		cmocka_unit_test(test_challenge_long),
		cmocka_unit_test(test_scope_merge),
		cmocka_unit_test(test_scope_merge_deterministic),
		cmocka_unit_test(test_scope_merge_cap),
		cmocka_unit_test(test_scope_repository),
		cmocka_unit_test(test_token_parse),
		cmocka_unit_test(test_token_errors),
		cmocka_unit_test(test_token_url),
		cmocka_unit_test(test_token_form),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
