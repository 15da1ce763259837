/* Unit tests for oci/reference.c, table-driven from Docker's normalisation
 * (distribution/reference normalize_test.go, reference_test.go). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "oci/reference.h"
#include "util/error.h"
#include "util/xalloc.h"
#include "util/banned.h"

#define D256 "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
#define D512 "sha512:cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce" \
	"47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e"
#define HEX64 "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

#define HOST OCI_REF_HOST_OK
#define DEFTAG OCI_REF_DEFAULT_TAG
#define GLOB OCI_REF_GLOB_OK
#define NOTAG OCI_REF_NO_TAG

struct valid_case {
	const char *in;
	unsigned flags;
	const char *registry, *repository, *tag, *digest;
};

static const struct valid_case valid[] = {
	{ "alpine", 0, "docker.io", "library/alpine", NULL, NULL },
	{ "alpine", DEFTAG, "docker.io", "library/alpine", "latest", NULL },
	{ "alpine:3.19", 0, "docker.io", "library/alpine", "3.19", NULL },
	{ "alpine:3.19", DEFTAG, "docker.io", "library/alpine", "3.19", NULL },
	{ "library/alpine", 0, "docker.io", "library/alpine", NULL, NULL },
	{ "docker.io/alpine", 0, "docker.io", "library/alpine", NULL, NULL },
	{ "docker.io/library/alpine:latest", DEFTAG, "docker.io", "library/alpine", "latest", NULL },
	{ "index.docker.io/alpine", 0, "docker.io", "library/alpine", NULL, NULL },
	{ "index.docker.io/user/app:v1", 0, "docker.io", "user/app", "v1", NULL },
	{ "user/app", 0, "docker.io", "user/app", NULL, NULL },
	{ "foo.bar", 0, "docker.io", "library/foo.bar", NULL, NULL },
	{ "reg.io", 0, "docker.io", "library/reg.io", NULL, NULL },
	{ "reg.example.com/a/b/c:1.0", 0, "reg.example.com", "a/b/c", "1.0", NULL },
	{ "reg.example.com:5000/a/b@" D256, 0, "reg.example.com:5000", "a/b", NULL, D256 },
	{ "reg.example.com:5000/a/b@" D256, DEFTAG, "reg.example.com:5000", "a/b", NULL, D256 },
	{ "localhost/app:1", 0, "localhost", "app", "1", NULL },
	{ "localhost:5000/app", 0, "localhost:5000", "app", NULL, NULL },
	{ "[::1]:5000/app", 0, "[::1]:5000", "app", NULL, NULL },
	{ "[2001:db8::1]/ns/app:tag", 0, "[2001:db8::1]", "ns/app", "tag", NULL },
	{ "127.0.0.1:5000/app", 0, "127.0.0.1:5000", "app", NULL, NULL },
	{ "reg.io/app:tag@" D256, 0, "reg.io", "app", "tag", D256 },
	{ "alpine:3@" D256, DEFTAG, "docker.io", "library/alpine", "3", D256 },
	{ "alpine@" D256, 0, "docker.io", "library/alpine", NULL, D256 },
	{ "alpine@" D512, 0, "docker.io", "library/alpine", NULL, D512 },
	{ "a/b_c/d__e/f-g/h--i/j.k", 0, "docker.io", "a/b_c/d__e/f-g/h--i/j.k", NULL, NULL },
	{ "reg.io/a0/1b/9", 0, "reg.io", "a0/1b/9", NULL, NULL },
	{ "REG.EXAMPLE.COM/app", 0, "REG.EXAMPLE.COM", "app", NULL, NULL },
	{ "my-registry.io:443/app", 0, "my-registry.io:443", "app", NULL, NULL },
	{ "xn--bcher-kva.example/app", 0, "xn--bcher-kva.example", "app", NULL, NULL },
	{ "a.b/c", 0, "a.b", "c", NULL, NULL },
	{ "alpine:_under", 0, "docker.io", "library/alpine", "_under", NULL },
	{ "alpine:V1.0-RC_2", 0, "docker.io", "library/alpine", "V1.0-RC_2", NULL },
	{ "localhost:5000/a:b@" D256, 0, "localhost:5000", "a", "b", D256 },
	/* OCI_REF_HOST_OK: a host alone is a registry. */
	{ "reg.io", HOST, "reg.io", NULL, NULL, NULL },
	{ "reg.io:5000", HOST | DEFTAG, "reg.io:5000", NULL, NULL, NULL },
	{ "localhost", HOST, "localhost", NULL, NULL, NULL },
	{ "localhost:5000", HOST, "localhost:5000", NULL, NULL, NULL },
	{ "[::1]:5000", HOST, "[::1]:5000", NULL, NULL, NULL },
	{ "index.docker.io", HOST, "docker.io", NULL, NULL, NULL },
	{ "alpine:3.19", HOST, "docker.io", "library/alpine", "3.19", NULL },
	{ "myreg:5000", HOST, "docker.io", "library/myreg", "5000", NULL },
	/* ...but where no tag may be given, a single-label name with a port
	 * (a Compose service, "registry:5000") can only be a registry. */
	{ "myreg:5000", HOST | NOTAG, "myreg:5000", NULL, NULL, NULL },
	{ "registry:5000", HOST | NOTAG | GLOB, "registry:5000", NULL, NULL, NULL },
	{ "registry:5000/team/app", HOST | NOTAG, "registry:5000", "team/app", NULL, NULL },
	{ "reg.io/app", HOST, "reg.io", "app", NULL, NULL },
	/* OCI_REF_GLOB_OK: globs inside path components. */
	{ "reg.io/team-a/*", GLOB, "reg.io", "team-a/*", NULL, NULL },
	{ "reg.io/team-?/app[0-9]", GLOB, "reg.io", "team-?/app[0-9]", NULL, NULL },
	{ "reg.io/*", GLOB | NOTAG, "reg.io", "*", NULL, NULL },
	{ "reg.io/team/*-svc:v1", GLOB, "reg.io", "team/*-svc", "v1", NULL },
	{ "reg.io/a/b", NOTAG | DEFTAG, "reg.io", "a/b", NULL, NULL },
};

struct invalid_case {
	const char *in;
	unsigned flags;
	const char *why;
};

static const struct invalid_case invalid[] = {
	{ "", 0, "empty reference" },
	{ "Foo/bar", 0, "repository must be lowercase" },
	{ "ALPINE", 0, "repository must be lowercase" },
	{ "reg.io/App", 0, "repository must be lowercase" },
	{ "alpine:", 0, "invalid tag" },
	{ "alpine:-tag", 0, "invalid tag" },
	{ "alpine:.tag", 0, "invalid tag" },
	{ "alpine:1:2", 0, "invalid tag" },
	{ "alpine:tag with space", 0, "invalid tag" },
	{ "reg.io/a:b/c", 0, "invalid tag" },
	{ "alpine@sha256:zz", 0, "invalid digest" },
	{ "alpine@", 0, "invalid digest" },
	{ "alpine:t@g", 0, "invalid digest" },
	{ "alpine@sha256:" HEX64 "0", 0, "invalid digest" },
	{ "alpine@sha256:E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855", 0,
	  "invalid digest" },
	{ "alpine@md5:900150983cd24fb0d6963f7d28e17f72", 0, "unsupported digest algorithm" },
	{ HEX64, 0, "cannot be a 64-character hexadecimal string" },
	{ "a//b", 0, "invalid repository path" },
	{ "/a", 0, "invalid repository path" },
	{ "a/", 0, "invalid repository path" },
	{ "-a/b", 0, "invalid repository path" },
	{ "a-/b", 0, "invalid repository path" },
	{ "a___b", 0, "invalid repository path" },
	{ "a..b", 0, "invalid repository path" },
	{ "a._b", 0, "invalid repository path" },
	{ "a b", 0, "invalid repository path" },
	{ "reg.io/", HOST, "invalid repository path" },
	{ "reg.io:abc/app", 0, "invalid registry host" },
	{ "reg-.io/app", 0, "invalid registry host" },
	{ "reg..io/app", 0, "invalid registry host" },
	{ "[::1/app", 0, "invalid registry host" },
	{ "[zz::1]:5000/app", 0, "invalid registry host" },
	{ "[]/app", 0, "invalid registry host" },
	{ "localhost:/app", 0, "invalid registry host" },
	{ "http://reg.io/app", 0, "invalid registry host" },
	{ "alpine:1.0", NOTAG, "a tag or digest is not allowed here" },
	{ "alpine:1.0", HOST | NOTAG, "a tag or digest is not allowed here" },
	{ "myreg:5000x", HOST | NOTAG, "a tag or digest is not allowed here" },
	{ "reg.io/a@" D256, NOTAG, "a tag or digest is not allowed here" },
	{ "reg.io/team/*", 0, "glob characters are not allowed here" },
	{ "reg.io/team/[ab", GLOB, "invalid repository path" },
	{ "reg.io/team/[]x", GLOB, "invalid repository path" },
	{ "reg.io/team/a]", GLOB, "invalid repository path" },
	{ "reg.io/team/a*!", GLOB, "invalid repository path" },
	{ "reg.io/Team/*", GLOB, "repository must be lowercase" },
	{ "reg.io//*", GLOB, "invalid repository path" },
};

static void check_str(const char *what, const char *in, const char *got, const char *want)
{
	if ((got == NULL) != (want == NULL) || (got && strcmp(got, want) != 0))
		fail_msg("%s: %s: got \"%s\" want \"%s\"", in, what, got ? got : "(null)",
		         want ? want : "(null)");
}

static void test_valid(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(valid) / sizeof(valid[0]); i++) {
		const struct valid_case *c = &valid[i];
		struct oci_ref r = OCI_REF_INIT;

		if (oci_ref_parse(&r, c->in, c->flags) != 0)
			fail_msg("%s: rejected: %s", c->in, error_msg());
		check_str("registry", c->in, r.registry, c->registry);
		check_str("repository", c->in, r.repository, c->repository);
		check_str("tag", c->in, r.tag, c->tag);
		check_str("digest", c->in, r.digest, c->digest);
		oci_ref_release(&r);
		assert_null(r.registry);
	}
}

static void test_invalid(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(invalid) / sizeof(invalid[0]); i++) {
		const struct invalid_case *c = &invalid[i];
		struct oci_ref r = { (char *)"r", (char *)"p", (char *)"t", (char *)"d" };
		char *want;
		int rc = oci_ref_parse(&r, c->in, c->flags);

		if (rc != RV_EINVALID)
			fail_msg("%s: got %d, want RV_EINVALID", c->in, rc);
		want = xasprintf("invalid reference \"%s\": %s", c->in, c->why);
		if (strcmp(error_msg(), want) != 0)
			fail_msg("message \"%s\", want \"%s\"", error_msg(), want);
		free(want);
		/* out untouched on error */
		assert_string_equal(r.registry, "r");
		assert_string_equal(r.repository, "p");
		assert_string_equal(r.tag, "t");
		assert_string_equal(r.digest, "d");
	}
}

static void test_lengths(void **state)
{
	char path[300], tag[200], *in;
	struct oci_ref r = OCI_REF_INIT;

	(void)state;
	/* Repository path: 255 is fine, 256 is not (distribution/reference
	 * v0.6 counts the path only, not the host). */
	memset(path, 'a', 255);
	path[255] = '\0';
	in = xasprintf("a-very-long-registry-name.example.com:5000/%s", path);
	assert_int_equal(oci_ref_parse(&r, in, 0), 0);
	assert_int_equal(strlen(r.repository), 255);
	oci_ref_release(&r);
	free(in);
	path[100] = '/';
	in = xasprintf("reg.io/%s", path);
	assert_int_equal(oci_ref_parse(&r, in, 0), 0);
	assert_int_equal(strlen(r.repository), 255);
	oci_ref_release(&r);
	free(in);
	path[100] = 'a';
	in = xasprintf("reg.io/%sb", path);
	assert_int_equal(oci_ref_parse(&r, in, 0), RV_EINVALID);
	assert_non_null(strstr(error_msg(), "repository path longer than 255 characters"));
	free(in);
	/* docker.io's "library/" counts towards the limit. */
	path[248] = '\0';
	assert_int_equal(oci_ref_parse(&r, path, 0), RV_EINVALID);
	path[247] = '\0';
	assert_int_equal(oci_ref_parse(&r, path, 0), 0);
	assert_int_equal(strlen(r.repository), 255);
	oci_ref_release(&r);
	/* Tag: 128 is fine, 129 is not. */
	memset(tag, 't', 128);
	tag[128] = '\0';
	in = xasprintf("alpine:%s", tag);
	assert_int_equal(oci_ref_parse(&r, in, 0), 0);
	assert_int_equal(strlen(r.tag), 128);
	oci_ref_release(&r);
	free(in);
	in = xasprintf("alpine:%st", tag);
	assert_int_equal(oci_ref_parse(&r, in, 0), RV_EINVALID);
	assert_non_null(strstr(error_msg(), "tag longer than 128 characters"));
	free(in);
}

static void test_message_is_one_line(void **state)
{
	struct oci_ref r = OCI_REF_INIT;

	(void)state;
	assert_int_equal(oci_ref_parse(&r, "bad\nname:\r", 0), RV_EINVALID);
	assert_null(strchr(error_msg(), '\n'));
	assert_null(strchr(error_msg(), '\r'));
	assert_int_equal(oci_ref_parse(&r, NULL, 0), RV_EINVALID);
}

static void test_string_roundtrip(void **state)
{
	static const char *const t[][2] = {
		{ "alpine", "docker.io/library/alpine:latest" },
		{ "user/app@" D256, "docker.io/user/app@" D256 },
		{ "reg.io:5000/a/b:1@" D256, "reg.io:5000/a/b:1@" D256 },
		{ "[::1]:5000/app:x", "[::1]:5000/app:x" },
		{ "index.docker.io/library/busybox:1", "docker.io/library/busybox:1" },
	};
	struct oci_ref r = OCI_REF_INIT, again = OCI_REF_INIT;
	char *s, *s2;

	(void)state;
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		assert_int_equal(oci_ref_parse(&r, t[i][0], DEFTAG), 0);
		s = oci_ref_string(&r);
		assert_string_equal(s, t[i][1]);
		/* The canonical form parses to itself. */
		assert_int_equal(oci_ref_parse(&again, s, DEFTAG), 0);
		s2 = oci_ref_string(&again);
		assert_string_equal(s2, s);
		free(s);
		free(s2);
		oci_ref_release(&r);
		oci_ref_release(&again);
	}
	assert_int_equal(oci_ref_parse(&r, "localhost:5000", HOST), 0);
	s = oci_ref_string(&r);
	assert_string_equal(s, "localhost:5000");
	free(s);
	oci_ref_release(&r);
}

static void test_part_validators(void **state)
{
	(void)state;
	assert_true(oci_ref_tag_valid("latest"));
	assert_true(oci_ref_tag_valid("_x"));
	assert_true(oci_ref_tag_valid("v1.2.3-rc.1_B"));
	assert_false(oci_ref_tag_valid(""));
	assert_false(oci_ref_tag_valid(".x"));
	assert_false(oci_ref_tag_valid("-x"));
	assert_false(oci_ref_tag_valid("a:b"));
	assert_false(oci_ref_tag_valid("a/b"));
	assert_true(oci_ref_repository_valid("library/alpine"));
	assert_true(oci_ref_repository_valid("a/b-c/d__e"));
	assert_false(oci_ref_repository_valid("Library/alpine"));
	assert_false(oci_ref_repository_valid("a/*"));
	assert_false(oci_ref_repository_valid("a//b"));
	assert_false(oci_ref_repository_valid(""));
	assert_false(oci_ref_repository_valid("a/"));
}

static void test_api_host(void **state)
{
	(void)state;
	assert_string_equal(oci_ref_api_host("docker.io"), "registry-1.docker.io");
	assert_string_equal(oci_ref_api_host("reg.io:5000"), "reg.io:5000");
	assert_string_equal(oci_ref_api_host("index.docker.io"), "index.docker.io");
}

static void test_attachment_tags(void **state)
{
	static const char *const yes[] = {
		"sha256-" HEX64, "sha256-" HEX64 ".sig", "sha256-" HEX64 ".att", "sha256-" HEX64 ".sbom",
		"sha512-abc", "sha256-0",
	};
	static const char *const no[] = {
		"latest", "sha256-", "sha256-" HEX64 ".foo", "sha256-" HEX64 ".sig.sig", "sha384-abc",
		"sha256-ABC", "sha256_" HEX64, "xsha256-" HEX64, "sha256-" HEX64 ".", "sha256-ab-cd",
		"v1.0-sha256-abc",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++)
		if (!oci_ref_is_attachment_tag(yes[i]))
			fail_msg("\"%s\" not recognised", yes[i]);
	for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++)
		if (oci_ref_is_attachment_tag(no[i]))
			fail_msg("\"%s\" wrongly recognised", no[i]);
}

static void check_location(const char *s, const char *reg, const char *path)
{
	char *r = NULL, *p = NULL;
	int rc = oci_ref_parse_location(s, &r, &p);

	if (!reg) {
		assert_int_equal(rc, RV_EINVALID);
		assert_null(r);
		return;
	}
	assert_int_equal(rc, 0);
	assert_string_equal(r, reg);
	if (path)
		assert_string_equal(p, path);
	else
		assert_null(p);
	free(r);
	free(p);
}

/* mirror --to and restore --to: a host and an optional path, no
 * "library/" and no tag. */
static void test_parse_location(void **state)
{
	(void)state;
	check_location("docker.io/myorg", "docker.io", "myorg");
	check_location("127.0.0.1:5000", "127.0.0.1:5000", NULL);
	check_location("localhost:5000/team/standby", "localhost:5000", "team/standby");
	check_location("[::1]:5000/x", "[::1]:5000", "x");
	check_location("registry:5000", "registry:5000", NULL);   /* a Compose service name */
	check_location("registry:5000/mirror", "registry:5000", "mirror");
	check_location("registry", NULL, NULL);          /* no port: an image name, not a host */
	check_location("standby/x", NULL, NULL);        /* not a host: would mean Docker Hub */
	check_location("reg.io/Team", NULL, NULL);       /* uppercase path */
	check_location("reg.io/app:tag", NULL, NULL);    /* a tag is not a location */
	check_location("", NULL, NULL);
	check_location("http://reg.io:5000", NULL, NULL);
	assert_non_null(strstr(error_msg(), "write it without a scheme"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_location),
		cmocka_unit_test(test_valid),
		cmocka_unit_test(test_invalid),
		cmocka_unit_test(test_lengths),
		cmocka_unit_test(test_message_is_one_line),
		cmocka_unit_test(test_string_roundtrip),
		cmocka_unit_test(test_part_validators),
		cmocka_unit_test(test_api_host),
		cmocka_unit_test(test_attachment_tags),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
