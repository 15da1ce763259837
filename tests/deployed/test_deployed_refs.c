/*
 * Unit tests for deployed/refs.c (refs files) and deployed/deployed.c
 * (source specs, reading several sources, all-or-nothing).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "tests/deployed/fixture.h"
#include "deployed/deployed.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/str.h"
#include "util/xalloc.h"
#include "util/banned.h"

#define D_AGENT "sha256:2f1f5d11e5f12232019524a2e52b9b016ca0c9a26fcb192bbd023a75328d886f"

static int refs(struct deployed_set *s, const char *text)
{
	return deployed_parse_refs(s, text, strlen(text), "deployed.txt");
}

static void test_refs_file(void **state)
{
	struct deployed_set s = DEPLOYED_SET_INIT;
	struct buf b = BUF_INIT;

	(void)state;
	fx_read(&b, "deployed.txt");
	assert_int_equal(deployed_parse_refs(&s, b.ptr, b.len, "deployed.txt"), 0);
	assert_int_equal(s.n, 5);
	fx_expect(&s, "deployed.txt:4", "reg.example.com/billing/api:4.2.1", DEPLOYED_LISTED);
	fx_expect(&s, "deployed.txt:5", "reg.example.com/billing/worker@" D_AGENT, DEPLOYED_LISTED);
	fx_expect(&s, "deployed.txt:6", "docker.io/library/nginx:1.25-alpine", DEPLOYED_LISTED);
	fx_expect(&s, "deployed.txt:7", "docker.io/library/redis:latest", DEPLOYED_LISTED);
	fx_expect(&s, "deployed.txt:9", "localhost:5000/tools/backup:v2", DEPLOYED_LISTED);
	/* text is the reference as written, trimmed, comment cut. */
	assert_string_equal(s.refs[2].text, "nginx:1.25-alpine");
	assert_string_equal(s.refs[3].text, "redis");
	deployed_set_release(&s);
	buf_release(&b);

	fx_read(&b, "deployed-crlf.txt");
	assert_int_equal(deployed_parse_refs(&s, b.ptr, b.len, "crlf.txt"), 0);
	assert_int_equal(s.n, 2);
	fx_expect(&s, "crlf.txt:4", "reg.example.com/a/c:2", DEPLOYED_LISTED);
	deployed_set_release(&s);
	buf_release(&b);

	/* No final newline, a byte-order mark. */
	assert_int_equal(refs(&s, "\xef\xbb\xbf" "a:1\nb:2"), 0);
	assert_int_equal(s.n, 2);
	fx_expect(&s, "deployed.txt:2", "docker.io/library/b:2", DEPLOYED_LISTED);
	deployed_set_release(&s);
}

static void test_refs_errors(void **state)
{
	static const char *const cases[][2] = {
		{ "a:1\n\nFoo/bar:1\n", "deployed.txt:3: invalid reference \"Foo/bar:1\": " },
		{ "a:1#not-a-comment\n", "deployed.txt:1: invalid reference \"a:1#not-a-comment\"" },
		{ "a:1 b:2\n", "deployed.txt:1: invalid reference \"a:1 b:2\"" },
		{ "sha256:55d9e7ada18da74921b638f1b9f1517cca564d0f7e7595d56b71e0dd66556c7b\n",
		  "deployed.txt:1: \"sha256:55d9e7ada18da74921b638f1b9f1517cca564d0f7e7595d56b71e0dd66556c7b\""
		  " is an image ID, not a registry reference: write REPOSITORY@DIGEST" },
		{ "reg.example.com/*:1\n", "deployed.txt:1: invalid reference" },
		{ "", "deployed.txt lists no images: an empty cluster must be declared with "
		      "\"deployed: none\"" },
		{ "# nothing yet\n\n   \n", "deployed.txt lists no images" },
	};
	struct deployed_set s = DEPLOYED_SET_INIT;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(refs(&s, cases[i][0]), RV_EINVALID);
		if (strncmp(error_msg(), cases[i][1], strlen(cases[i][1])))
			fail_msg("case %zu: got \"%s\"", i, error_msg());
		assert_int_equal(s.n, 0);
	}
	/* A NUL byte inside a line. */
	assert_int_equal(deployed_parse_refs(&s, "a:1\nb\0:2\n", 9, "deployed.txt"), RV_EINVALID);
	assert_string_equal(error_msg(), "deployed.txt:2: NUL byte in a text file");
	assert_int_equal(s.n, 0);
	deployed_set_release(&s);
}

static void test_source_parse(void **state)
{
	static const struct {
		const char *spec;
		enum deployed_kind kind;
		const char *arg;
	} good[] = {
		{ "kubectl", DEPLOYED_KUBECTL, NULL },
		{ "kubectl:prod", DEPLOYED_KUBECTL, "prod" },
		{ "kubectl:arn:aws:eks:eu-west-1:123456789012:cluster/prod", DEPLOYED_KUBECTL,
		  "arn:aws:eks:eu-west-1:123456789012:cluster/prod" },
		{ "kubernetes-json:cluster.json", DEPLOYED_KUBERNETES_JSON, "cluster.json" },
		{ "refs-file:/etc/regvault/deployed.txt", DEPLOYED_REFS_FILE,
		  "/etc/regvault/deployed.txt" },
	};
	static const char *const bad[] = { "kubectl:", "kubernetes-json:", "refs-file:", "KUBECTL",
	                                   "docker:prod", "", "kubectl prod", "cluster.json" };
	struct deployed_source src;

	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		assert_int_equal(deployed_source_parse(&src, good[i].spec), 0);
		assert_int_equal(src.kind, good[i].kind);
		if (good[i].arg)
			assert_string_equal(src.arg, good[i].arg);
		else
			assert_null(src.arg);
		deployed_source_release(&src);
		assert_null(src.arg);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(deployed_source_parse(&src, bad[i]), RV_EINVALID);
		assert_null(src.arg);
		assert_non_null(strstr(error_msg(), ": expected kubectl, kubectl:CONTEXT, "
		                                    "kubernetes-json:FILE or refs-file:FILE"));
	}
	assert_int_equal(deployed_source_parse(&src, "docker:prod"), RV_EINVALID);
	assert_string_equal(error_msg(), "unknown deployed source \"docker:prod\": expected kubectl, "
	                                 "kubectl:CONTEXT, kubernetes-json:FILE or refs-file:FILE");
	deployed_source_release(NULL);
}

static void source(struct deployed_source *s, enum deployed_kind kind, const char *name)
{
	s->kind = kind;
	s->arg = fx_data_path(name);
}

static void test_read_sources(void **state)
{
	struct deployed_source src[3];
	struct deployed_options o = DEPLOYED_OPTIONS_INIT;
	struct deployed_set s = DEPLOYED_SET_INIT;

	(void)state;
	o.rollback = 1;
	source(&src[0], DEPLOYED_KUBERNETES_JSON, "cluster.json");
	source(&src[1], DEPLOYED_REFS_FILE, "deployed.txt");
	source(&src[2], DEPLOYED_REFS_FILE, "missing.txt");
	assert_int_equal(deployed_read(&s, src, 2, &o), 0);
	assert_int_equal(s.n, 26 + 5);
	assert_int_equal(fx_count_why(&s, DEPLOYED_LISTED), 5);
	assert_int_equal(fx_count_why(&s, DEPLOYED_ROLLBACK), 2);
	/* where names the file as given. */
	assert_true(str_has_suffix(s.refs[26].where, "/data/deployed.txt:4"));
	/* The third fails: out is left exactly as it was before the call. */
	assert_int_equal(deployed_read(&s, src, 3, NULL), RV_ENOTFOUND);
	assert_non_null(strstr(error_msg(), "missing.txt"));
	assert_int_equal(s.n, 31);
	/* Defaults (o NULL): rollback 0. */
	deployed_set_release(&s);
	assert_int_equal(deployed_read(&s, src, 1, NULL), 0);
	assert_int_equal(fx_count_why(&s, DEPLOYED_ROLLBACK), 0);
	deployed_set_release(&s);
	/* No sources is not "nothing deployed". */
	assert_int_equal(deployed_read(&s, src, 0, &o), RV_EINVALID);
	assert_int_equal(s.n, 0);
	/* A source that names nothing fails the whole read. */
	deployed_source_release(&src[2]);
	source(&src[2], DEPLOYED_KUBERNETES_JSON, "empty-list.json");
	assert_int_equal(deployed_read(&s, src, 3, &o), RV_EINVALID);
	assert_non_null(strstr(error_msg(), "empty-list.json lists no images: an empty cluster "
	                                    "must be declared with \"deployed: none\""));
	assert_int_equal(s.n, 0);
	for (int i = 0; i < 3; i++)
		deployed_source_release(&src[i]);
	deployed_set_release(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_refs_file),
		cmocka_unit_test(test_refs_errors),
		cmocka_unit_test(test_source_parse),
		cmocka_unit_test(test_read_sources),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
