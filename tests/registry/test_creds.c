/*
 * Unit tests for registry/creds.c: the credential search order, key
 * matching, entry decoding and the credential-helper protocol.
 *
 * Each test gets a fresh temporary root with HOME, XDG_*, DOCKER_CONFIG,
 * REGISTRY_AUTH_FILE and PATH pointing into it (restored afterwards), and
 * fake docker-credential-rvtest* shell scripts written into root/bin.
 */
#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "registry/auth.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/str.h"
#include "util/timeutil.h"
#include "util/xalloc.h"
#include "util/banned.h"

static char root[64];
static char cwd[PATH_MAX];

static const char *const env_names[] = {
	"HOME", "XDG_RUNTIME_DIR", "XDG_CONFIG_HOME", "DOCKER_CONFIG", "REGISTRY_AUTH_FILE",
	"DOCKER_AUTH_CONFIG", "PATH", "REGVAULT_CRED_HELPER_TIMEOUT_MS",
};
#define N_ENV (sizeof(env_names) / sizeof(env_names[0]))
static char *saved_env[N_ENV];

static char *path(const char *rel)
{
	return fs_path_join(root, rel);
}

static void set_env_path(const char *name, const char *rel)
{
	char *p = path(rel);

	assert_int_equal(setenv(name, p, 1), 0);
	free(p);
}

static void write_file(const char *rel, const char *content, mode_t mode)
{
	char *p = path(rel), *dir = xstrdup(p);

	*strrchr(dir, '/') = '\0';
	assert_int_equal(fs_mkdir_p(dir, 0700), 0);
	assert_int_equal(fs_write_atomic(p, content, strlen(content), mode), 0);
	free(dir);
	free(p);
}

static char *read_file(const char *rel)
{
	char *p = path(rel);
	struct buf b = BUF_INIT;

	if (fs_read_file(&b, p, 0))
		fail_msg("cannot read \"%s\": %s", p, error_msg());
	free(p);
	return buf_detach(&b, NULL);
}

/* A fake helper: root/bin/docker-credential-<name>, a shell script. */
static void write_helper(const char *name, const char *body)
{
	char *rel = xasprintf("bin/docker-credential-%s", name);
	char *script = xasprintf("#!/bin/sh\nROOT='%s'\n%s\n", root, body);

	write_file(rel, script, 0755);
	free(script);
	free(rel);
}

/* Records argv and stdin, answers alice / s3cret. */
static void write_ok_helper(const char *name)
{
	char *body = xasprintf("printf '%%s\\n' \"$@\" > \"$ROOT/argv-%s\"\n"
	                       "cat > \"$ROOT/stdin-%s\"\n"
	                       "printf '{\"ServerURL\":\"%%s\",\"Username\":\"alice-%s\","
	                       "\"Secret\":\"s3cret\"}\\n' \"$(cat \"$ROOT/stdin-%s\")\"",
	                       name, name, name, name);

	write_helper(name, body);
	free(body);
}

static void write_notfound_helper(const char *name)
{
	write_helper(name, "cat >/dev/null\necho 'credentials not found in native keychain'\nexit 1");
}

static char *b64(const char *s, size_t len)
{
	return str_base64_encode(s, len);
}

/* {"auths":{"<key>":{"auth":base64(user:pass)}}} */
static char *auths_json(const char *key, const char *user, const char *pass)
{
	char *pair = xasprintf("%s:%s", user, pass);
	char *enc = b64(pair, strlen(pair));
	char *json = xasprintf("{\"auths\":{\"%s\":{\"auth\":\"%s\"}}}", key, enc);

	free(enc);
	free(pair);
	return json;
}

static void write_auths(const char *rel, const char *key, const char *user)
{
	char *json = auths_json(key, user, "pw");

	write_file(rel, json, 0600);
	free(json);
}

static int setup(void **state)
{
	char *bin;

	(void)state;
	memcpy(root, "/tmp/rv-test-creds-XXXXXX", sizeof("/tmp/rv-test-creds-XXXXXX"));
	if (!mkdtemp(root) || !getcwd(cwd, sizeof(cwd)))
		return -1;
	for (size_t i = 0; i < N_ENV; i++) {
		const char *v = getenv(env_names[i]);

		saved_env[i] = v ? xstrdup(v) : NULL;
		unsetenv(env_names[i]);
	}
	set_env_path("HOME", "home");
	bin = path("bin");
	fs_mkdir_p(bin, 0700);
	fs_mkdir_p(root, 0700);
	{
		char *p = xasprintf("%s:/usr/bin:/bin", bin);

		setenv("PATH", p, 1);
		free(p);
	}
	free(bin);
	error_clear();
	return 0;
}

static int teardown(void **state)
{
	char *cmd = xasprintf("rm -rf '%s'", root);
	int rc;

	(void)state;
	if (chdir(cwd))
		return -1;
	for (size_t i = 0; i < N_ENV; i++) {
		if (saved_env[i])
			setenv(env_names[i], saved_env[i], 1);
		else
			unsetenv(env_names[i]);
		free(saved_env[i]);
		saved_env[i] = NULL;
	}
	rc = system(cmd);
	free(cmd);
	return rc == 0 ? 0 : -1;
}

/* Looks up and checks the user ("pw" password); NULL user: anonymous. */
static void expect_user(const char *authfile, const char *registry, const char *repo,
                        const char *user)
{
	struct creds c = CREDS_INIT;
	int rc = creds_lookup(&c, authfile, registry, repo);

	if (!user) {
		if (rc != RV_ENOTFOUND)
			fail_msg("%s/%s: want anonymous, got rc %d user \"%s\" (%s)", registry,
			         repo ? repo : "", rc, c.username ? c.username : "", error_msg());
		assert_null(c.username);
		assert_null(c.password);
		assert_null(c.identity_token);
		assert_null(c.registry_token);
		return;
	}
	if (rc)
		fail_msg("%s/%s: want \"%s\", got rc %d: %s", registry, repo ? repo : "", user, rc,
		         error_msg());
	if (!c.username || strcmp(c.username, user))
		fail_msg("%s/%s: want \"%s\", got \"%s\"", registry, repo ? repo : "", user,
		         c.username ? c.username : "(null)");
	creds_release(&c);
}

static void expect_error(const char *authfile, const char *registry, int rc_want,
                         const char *msg_has, const char *msg_lacks)
{
	struct creds c = CREDS_INIT;
	int rc = creds_lookup(&c, authfile, registry, NULL);

	if (rc != rc_want)
		fail_msg("%s: want rc %d, got %d (%s)", registry, rc_want, rc, error_msg());
	assert_null(c.username);
	assert_null(c.password);
	if (msg_has && !strstr(error_msg(), msg_has))
		fail_msg("message \"%s\" lacks \"%s\"", error_msg(), msg_has);
	if (msg_lacks && strstr(error_msg(), msg_lacks))
		fail_msg("message \"%s\" holds \"%s\"", error_msg(), msg_lacks);
}

/* --- Search order ------------------------------------------------------- */

static void test_nothing_anywhere(void **state)
{
	(void)state;
	expect_user(NULL, "reg.example.com", NULL, NULL);
	assert_int_equal(error_code(), RV_ENOTFOUND);
}

static void test_docker_config_locations(void **state)
{
	(void)state;
	write_auths("home/.docker/config.json", "reg.example.com", "home-docker");
	expect_user(NULL, "reg.example.com", NULL, "home-docker");
	write_auths("dc/config.json", "reg.example.com", "docker-config");
	set_env_path("DOCKER_CONFIG", "dc");
	expect_user(NULL, "reg.example.com", NULL, "docker-config");
	/* $DOCKER_CONFIG set but holding nothing: ~/.docker is not read. */
	set_env_path("DOCKER_CONFIG", "empty-dir");
	expect_user(NULL, "reg.example.com", NULL, NULL);
}

static void test_search_order(void **state)
{
	(void)state;
	write_auths("raf.json", "reg.example.com", "raf");
	write_auths("run/containers/auth.json", "reg.example.com", "run");
	write_auths("cfg/containers/auth.json", "reg.example.com", "cfg");
	write_auths("home/.config/containers/auth.json", "reg.example.com", "home-cfg");
	write_auths("home/.docker/config.json", "reg.example.com", "docker");
	set_env_path("REGISTRY_AUTH_FILE", "raf.json");
	set_env_path("XDG_RUNTIME_DIR", "run");
	set_env_path("XDG_CONFIG_HOME", "cfg");
	expect_user(NULL, "reg.example.com", NULL, "raf");
	unsetenv("REGISTRY_AUTH_FILE");
	expect_user(NULL, "reg.example.com", NULL, "run");
	unsetenv("XDG_RUNTIME_DIR");
	expect_user(NULL, "reg.example.com", NULL, "cfg");
	unsetenv("XDG_CONFIG_HOME");
	expect_user(NULL, "reg.example.com", NULL, "home-cfg");
	setenv("XDG_CONFIG_HOME", "", 1); /* empty is unset */
	expect_user(NULL, "reg.example.com", NULL, "home-cfg");
	write_file("home/.config/containers/auth.json", "{\"auths\":{}}", 0600);
	expect_user(NULL, "reg.example.com", NULL, "docker");
}

/* A file without an entry for this registry does not stop the search. */
static void test_first_hit_per_registry(void **state)
{
	(void)state;
	write_auths("run/containers/auth.json", "other.example.com", "run-other");
	write_auths("home/.docker/config.json", "reg.example.com", "docker");
	set_env_path("XDG_RUNTIME_DIR", "run");
	expect_user(NULL, "reg.example.com", NULL, "docker");
	expect_user(NULL, "other.example.com", NULL, "run-other");
}

static void test_missing_and_empty_files_skipped(void **state)
{
	(void)state;
	write_auths("home/.docker/config.json", "reg.example.com", "docker");
	set_env_path("REGISTRY_AUTH_FILE", "does-not-exist.json");
	set_env_path("XDG_RUNTIME_DIR", "no-such-dir");
	write_file("cfg/containers/auth.json", " \n", 0600);
	set_env_path("XDG_CONFIG_HOME", "cfg");
	expect_user(NULL, "reg.example.com", NULL, "docker");
}

static void test_broken_file_fails(void **state)
{
	char *p = path("run/containers/auth.json");

	(void)state;
	write_auths("home/.docker/config.json", "reg.example.com", "docker");
	write_file("run/containers/auth.json",
	           "{\"auths\":{\"reg.example.com\":{\"auth\":\"SECRETSECRET\"", 0600);
	set_env_path("XDG_RUNTIME_DIR", "run");
	/* Not anonymous, not the next file: an error naming the file, not its content. */
	expect_error(NULL, "reg.example.com", RV_EINVALID, p, "SECRETSECRET");
	write_file("run/containers/auth.json", "{\"auths\":[\"SECRET\"]}", 0600);
	expect_error(NULL, "reg.example.com", RV_EINVALID, p, "SECRET");
	write_file("run/containers/auth.json", "[]", 0600);
	expect_error(NULL, "reg.example.com", RV_EINVALID, p, NULL);
	write_file("run/containers/auth.json", "{\"auths\":{\"reg.example.com\":\"SECRET\"}}", 0600);
	expect_error(NULL, "reg.example.com", RV_EINVALID, "reg.example.com", "SECRET");
	write_file("run/containers/auth.json", "{\"auths\":{\"reg.example.com\":{\"auth\":7}}}", 0600);
	expect_error(NULL, "reg.example.com", RV_EINVALID, p, NULL);
	write_file("run/containers/auth.json", "{\"credHelpers\":[]}", 0600);
	expect_error(NULL, "reg.example.com", RV_EINVALID, "credHelpers", NULL);
	write_file("run/containers/auth.json", "{\"credsStore\":5}", 0600);
	expect_error(NULL, "reg.example.com", RV_EINVALID, "credsStore", NULL);
	/* A broken entry for another registry is no concern of this one. */
	write_file("run/containers/auth.json", "{\"auths\":{\"other\":{\"auth\":\"!!\"}}}", 0600);
	expect_user(NULL, "reg.example.com", NULL, "docker");
	free(p);
}

static void test_authfile_only(void **state)
{
	char *af = path("my-auth.json"), *missing = path("missing.json");

	(void)state;
	write_auths("my-auth.json", "reg.example.com", "authfile");
	write_auths("home/.docker/config.json", "other.example.com", "docker");
	set_env_path("REGISTRY_AUTH_FILE", "home/.docker/config.json");
	expect_user(af, "reg.example.com", NULL, "authfile");
	expect_user(af, "other.example.com", NULL, NULL);
	/* An authfile that is not there is a mistake, not "anonymous". */
	expect_error(missing, "reg.example.com", RV_ERROR, missing, NULL);
	free(missing);
	free(af);
}

/* --- Key matching ------------------------------------------------------- */

static void test_namespace_keys(void **state)
{
	(void)state;
	write_file("run/containers/auth.json",
	           "{\"auths\":{"
	           "\"reg.example.com/team/app\":{\"auth\":\"dTE6cHc=\"},"   /* u1:pw */
	           "\"reg.example.com/team\":{\"auth\":\"dTI6cHc=\"},"       /* u2:pw */
	           "\"reg.example.com\":{\"auth\":\"dTM6cHc=\"},"            /* u3:pw */
	           "\"localhost:5000/ns\":{\"auth\":\"dTQ6cHc=\"}}}",        /* u4:pw */
	           0600);
	set_env_path("XDG_RUNTIME_DIR", "run");
	expect_user(NULL, "reg.example.com", "team/app", "u1");
	expect_user(NULL, "reg.example.com", "team/app/sub", "u1");
	expect_user(NULL, "reg.example.com", "team/other", "u2");
	expect_user(NULL, "reg.example.com", "teamx/app", "u3");
	expect_user(NULL, "reg.example.com", "x", "u3");
	expect_user(NULL, "reg.example.com", NULL, "u3");
	expect_user(NULL, "localhost:5000", "ns/app", "u4");
	expect_user(NULL, "localhost:5000", "other/app", NULL);
	expect_user(NULL, "localhost", "ns/app", NULL);
}

static void test_url_form_keys(void **state)
{
	(void)state;
	write_file("run/containers/auth.json",
	           "{\"auths\":{"
	           "\"https://reg.example.com/v2/\":{\"auth\":\"dTE6cHc=\"},"
	           "\"http://reg.example.com:5000\":{\"auth\":\"dTI6cHc=\"},"
	           "\"other.example.com/\":{\"auth\":\"dTM6cHc=\"}}}",
	           0600);
	set_env_path("XDG_RUNTIME_DIR", "run");
	expect_user(NULL, "reg.example.com", "a/b", "u1");
	expect_user(NULL, "reg.example.com:5000", NULL, "u2");
	expect_user(NULL, "reg.example.com:5001", NULL, NULL);
	/* Only URL-form keys lose their path. */
	expect_user(NULL, "other.example.com", NULL, NULL);
	/* An exact key beats a URL-form one, wherever it is in the file. */
	write_file("run/containers/auth.json",
	           "{\"auths\":{\"https://reg.example.com\":{\"auth\":\"dTE6cHc=\"},"
	           "\"reg.example.com\":{\"auth\":\"dTI6cHc=\"}}}",
	           0600);
	expect_user(NULL, "reg.example.com", NULL, "u2");
	/* Between URL-form keys, the first in the file wins. */
	write_file("run/containers/auth.json",
	           "{\"auths\":{\"https://reg.example.com/v1/\":{\"auth\":\"dTE6cHc=\"},"
	           "\"http://reg.example.com\":{\"auth\":\"dTI6cHc=\"}}}",
	           0600);
	expect_user(NULL, "reg.example.com", NULL, "u1");
}

static void test_docker_hub_keys(void **state)
{
	static const char *const names[] = { "docker.io", "index.docker.io", "registry-1.docker.io" };
	static const char *const keys[] = {
		"https://index.docker.io/v1/", "docker.io", "index.docker.io", "registry-1.docker.io",
		"https://registry-1.docker.io/v2/", "http://index.docker.io/v1",
	};

	(void)state;
	for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++) {
		write_auths("home/.docker/config.json", keys[k], "hub");
		for (size_t n = 0; n < sizeof(names) / sizeof(names[0]); n++)
			expect_user(NULL, names[n], "library/alpine", "hub");
		expect_user(NULL, "ghcr.io", NULL, NULL);
	}
	/* Namespaces on the Hub use "docker.io/…", and beat the host key. */
	write_file("home/.docker/config.json",
	           "{\"auths\":{\"https://index.docker.io/v1/\":{\"auth\":\"dTE6cHc=\"},"
	           "\"docker.io/team\":{\"auth\":\"dTI6cHc=\"}}}",
	           0600);
	expect_user(NULL, "docker.io", "team/app", "u2");
	expect_user(NULL, "index.docker.io", "team/app", "u2");
	expect_user(NULL, "docker.io", "library/alpine", "u1");
}

/* --- Entries ------------------------------------------------------------ */

static void check_entry(const char *entry, int rc_want, const char *user, const char *pass,
                        const char *idtok, const char *regtok)
{
	char *json = xasprintf("{\"auths\":{\"reg.example.com\":%s}}", entry);
	struct creds c = CREDS_INIT;
	int rc;

	write_file("run/containers/auth.json", json, 0600);
	free(json);
	rc = creds_lookup(&c, NULL, "reg.example.com", NULL);
	if (rc != rc_want)
		fail_msg("entry %s: rc %d, want %d (%s)", entry, rc, rc_want, error_msg());
#define CHECK(field, want)                                                                   \
	if ((want) ? !c.field || strcmp(c.field, (want)) : c.field != NULL)                    \
		fail_msg("entry %s: " #field " \"%s\", want \"%s\"", entry,                        \
		         c.field ? c.field : "(null)", (want) ? (want) : "(null)");
	CHECK(username, user);
	CHECK(password, pass);
	CHECK(identity_token, idtok);
	CHECK(registry_token, regtok);
#undef CHECK
	creds_release(&c);
}

static void test_entry_decoding(void **state)
{
	char *entry, *enc;

	(void)state;
	set_env_path("XDG_RUNTIME_DIR", "run");
	/* "bob:p:a:ss" — split at the first colon. */
	check_entry("{\"auth\":\"Ym9iOnA6YTpzcw==\"}", 0, "bob", "p:a:ss", NULL, NULL);
	/* Without padding, and with surrounding space. */
	check_entry("{\"auth\":\" Ym9iOnA6YTpzcw \"}", 0, "bob", "p:a:ss", NULL, NULL);
	/* ":tok" — an empty user is allowed. */
	check_entry("{\"auth\":\"OnRvaw==\"}", 0, "", "tok", NULL, NULL);
	/* "bob:pw\0\0": NULs after the password are trimmed (docker decodeAuth). */
	enc = b64("bob:pw\0\0", 8);
	entry = xasprintf("{\"auth\":\"%s\"}", enc);
	check_entry(entry, 0, "bob", "pw", NULL, NULL);
	free(entry);
	free(enc);
	/* "bob:p\0w": a NUL inside cannot be passed on. */
	enc = b64("bob:p\0w", 7);
	entry = xasprintf("{\"auth\":\"%s\"}", enc);
	check_entry(entry, RV_EINVALID, NULL, NULL, NULL, NULL);
	free(entry);
	free(enc);
	check_entry("{\"auth\":\"!!not base64!!\"}", RV_EINVALID, NULL, NULL, NULL, NULL);
	assert_non_null(strstr(error_msg(), "\"reg.example.com\""));
	assert_null(strstr(error_msg(), "not base64!!"));
	check_entry("{\"auth\":\"bm9jb2xvbg==\"}", RV_EINVALID, NULL, NULL, NULL, NULL); /* nocolon */
	check_entry("{\"identitytoken\":\"idt\"}", 0, NULL, NULL, "idt", NULL);
	check_entry("{\"registrytoken\":\"rt\"}", 0, NULL, NULL, NULL, "rt");
	check_entry("{\"auth\":\"dTE6cHc=\",\"identitytoken\":\"idt\"}", 0, "u1", "pw", "idt", NULL);
	check_entry("{\"username\":\"u\",\"password\":\"p\"}", 0, "u", "p", NULL, NULL);
	check_entry("{\"auth\":\"\",\"email\":\"x@y\"}", RV_ENOTFOUND, NULL, NULL, NULL, NULL);
	check_entry("{}", RV_ENOTFOUND, NULL, NULL, NULL, NULL);
	check_entry("{\"identitytoken\":7}", RV_EINVALID, NULL, NULL, NULL, NULL);
	/* Sent as "Authorization: Bearer <it>": no second header line. */
	check_entry("{\"registrytoken\":\"rt\\r\\nX-Injected: 1\"}", RV_EINVALID, NULL, NULL, NULL,
	            NULL);
}

/* Keys and helper names are the file's text: a message quoting them stays
 * one line without terminal escapes. */
static void test_message_is_one_line(void **state)
{
	static const char *const files[] = {
		"{\"auths\":{\"https://reg.example.com/\\n\\u001b[2Jx\":{\"auth\":5}}}",
		"{\"credHelpers\":{\"reg.example.com\":\"a\\nb\\u001b[2J\"}}",
	};
	struct creds c = CREDS_INIT;

	(void)state;
	set_env_path("XDG_RUNTIME_DIR", "run");
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		write_file("run/containers/auth.json", files[i], 0600);
		assert_int_equal(creds_lookup(&c, NULL, "reg.example.com", NULL), RV_EINVALID);
		assert_null(strpbrk(error_msg(), "\n\x1b"));
	}
}

/* --- $DOCKER_AUTH_CONFIG ------------------------------------------------- */

static void test_docker_auth_config_env(void **state)
{
	char *json = auths_json("reg.example.com", "env", "pw");

	(void)state;
	write_auths("home/.docker/config.json", "reg.example.com", "docker");
	setenv("DOCKER_AUTH_CONFIG", json, 1);
	free(json);
	expect_user(NULL, "reg.example.com", NULL, "env");
	/* After the containers files, before config.json. */
	write_auths("cfg/containers/auth.json", "reg.example.com", "cfg");
	set_env_path("XDG_CONFIG_HOME", "cfg");
	expect_user(NULL, "reg.example.com", NULL, "cfg");
	unsetenv("XDG_CONFIG_HOME");
	/* Only "auth" counts there: other fields and helpers are ignored. */
	setenv("DOCKER_AUTH_CONFIG",
	       "{\"auths\":{\"reg.example.com\":{\"identitytoken\":\"x\"}},\"credsStore\":\"rvtest\"}",
	       1);
	expect_user(NULL, "reg.example.com", NULL, "docker");
	setenv("DOCKER_AUTH_CONFIG", "{\"auths\":{\"https://reg.example.com/v1/\":{\"auth\":\"dTE6cHc=\"}}}",
	       1);
	expect_user(NULL, "reg.example.com", NULL, "u1");
	setenv("DOCKER_AUTH_CONFIG", "{\"auths\":{\"reg.example.com\":{\"auth\":\"SECRET", 1);
	expect_error(NULL, "reg.example.com", RV_EINVALID, "DOCKER_AUTH_CONFIG", "SECRET");
}

/* --- Helpers in config files -------------------------------------------- */

static void test_empty_entry_asks_creds_store(void **state)
{
	char *argv, *in;

	(void)state;
	write_ok_helper("rvtest");
	write_file("home/.docker/config.json",
	           "{\"auths\":{\"reg.example.com\":{}},\"credsStore\":\"rvtest\"}", 0600);
	expect_user(NULL, "reg.example.com", NULL, "alice-rvtest");
	argv = read_file("argv-rvtest");
	in = read_file("stdin-rvtest");
	assert_string_equal(argv, "get\n");
	assert_string_equal(in, "reg.example.com");
	free(argv);
	free(in);
	/* Docker Hub: the helper gets docker's key for it. */
	expect_user(NULL, "registry-1.docker.io", "library/alpine", "alice-rvtest");
	in = read_file("stdin-rvtest");
	assert_string_equal(in, "https://index.docker.io/v1/");
	free(in);
}

static void test_cred_helpers_before_store_and_auths(void **state)
{
	(void)state;
	write_ok_helper("rvtest-a");
	write_ok_helper("rvtest-b");
	write_file("home/.docker/config.json",
	           "{\"auths\":{\"reg.example.com\":{\"auth\":\"dTE6cHc=\"},"
	           "\"other.example.com\":{\"auth\":\"dTI6cHc=\"}},"
	           "\"credHelpers\":{\"reg.example.com\":\"rvtest-a\",\"docker.io\":\"rvtest-a\"},"
	           "\"credsStore\":\"rvtest-b\"}",
	           0600);
	expect_user(NULL, "reg.example.com", NULL, "alice-rvtest-a");
	/* A usable auths entry is taken before credsStore. */
	expect_user(NULL, "other.example.com", NULL, "u2");
	expect_user(NULL, "third.example.com", NULL, "alice-rvtest-b");
	expect_user(NULL, "index.docker.io", NULL, "alice-rvtest-a");
}

/* credHelpers[host] is final: its "not found" is anonymous, no fallback. */
static void test_cred_helper_not_found_is_final(void **state)
{
	(void)state;
	write_notfound_helper("rvtest-nf");
	write_file("run/containers/auth.json",
	           "{\"auths\":{\"reg.example.com\":{\"auth\":\"dTE6cHc=\"}},"
	           "\"credHelpers\":{\"reg.example.com\":\"rvtest-nf\"}}",
	           0600);
	write_auths("home/.docker/config.json", "reg.example.com", "docker");
	set_env_path("XDG_RUNTIME_DIR", "run");
	expect_user(NULL, "reg.example.com", NULL, NULL);
}

/* credsStore's "not found" lets the search go on to the next file. */
static void test_creds_store_not_found_continues(void **state)
{
	(void)state;
	write_notfound_helper("rvtest-nf");
	write_file("run/containers/auth.json", "{\"credsStore\":\"rvtest-nf\"}", 0600);
	write_auths("home/.docker/config.json", "reg.example.com", "docker");
	set_env_path("XDG_RUNTIME_DIR", "run");
	expect_user(NULL, "reg.example.com", NULL, "docker");
}

static void test_broken_helper_fails_lookup(void **state)
{
	(void)state;
	write_helper("rvtest-fail", "cat >/dev/null\necho 'keychain locked'\nexit 2");
	write_file("home/.docker/config.json", "{\"credsStore\":\"rvtest-fail\"}", 0600);
	expect_error(NULL, "reg.example.com", RV_ERROR, "docker-credential-rvtest-fail", NULL);
	write_file("home/.docker/config.json", "{\"credsStore\":\"rvtest-missing\"}", 0600);
	expect_error(NULL, "reg.example.com", RV_ERROR, "docker-credential-rvtest-missing", NULL);
	write_file("home/.docker/config.json", "{\"credsStore\":\"../../bin/sh\"}", 0600);
	expect_error(NULL, "reg.example.com", RV_EINVALID, "../../bin/sh", NULL);
}

/* --- The helper protocol ------------------------------------------------- */

static void test_helper_ok(void **state)
{
	struct creds c = CREDS_INIT;
	char *argv, *in;

	(void)state;
	write_ok_helper("rvtest");
	assert_int_equal(creds_helper_get(&c, "rvtest", "reg.example.com:5000"), 0);
	assert_string_equal(c.username, "alice-rvtest");
	assert_string_equal(c.password, "s3cret");
	assert_null(c.identity_token);
	creds_release(&c);
	/* One argument, "get"; the server went to stdin, exactly, no newline. */
	argv = read_file("argv-rvtest");
	in = read_file("stdin-rvtest");
	assert_string_equal(argv, "get\n");
	assert_string_equal(in, "reg.example.com:5000");
	free(argv);
	free(in);
}

static void test_helper_identity_token(void **state)
{
	struct creds c = CREDS_INIT;

	(void)state;
	write_helper("rvtest-tok",
	             "cat >/dev/null\n"
	             "echo '{\"ServerURL\":\"x\",\"Username\":\"<token>\",\"Secret\":\"idtok\"}'");
	assert_int_equal(creds_helper_get(&c, "rvtest-tok", "reg.example.com"), 0);
	assert_null(c.username);
	assert_null(c.password);
	assert_string_equal(c.identity_token, "idtok");
	creds_release(&c);
}

static void expect_helper(const char *name, int rc_want, const char *msg_has,
                          const char *msg_lacks)
{
	struct creds c = CREDS_INIT;
	int rc = creds_helper_get(&c, name, "reg.example.com");

	if (rc != rc_want)
		fail_msg("helper %s: rc %d, want %d (%s)", name, rc, rc_want, error_msg());
	assert_null(c.username);
	assert_null(c.password);
	assert_null(c.identity_token);
	if (msg_has && !strstr(error_msg(), msg_has))
		fail_msg("helper %s: message \"%s\" lacks \"%s\"", name, error_msg(), msg_has);
	if (msg_lacks && strstr(error_msg(), msg_lacks))
		fail_msg("helper %s: message \"%s\" holds \"%s\"", name, error_msg(), msg_lacks);
}

static void test_helper_failures(void **state)
{
	(void)state;
	write_notfound_helper("rvtest-nf");
	expect_helper("rvtest-nf", RV_ENOTFOUND, NULL, NULL);
	write_helper("rvtest-empty", "echo '{\"ServerURL\":\"\",\"Username\":\"\",\"Secret\":\"\"}'");
	expect_helper("rvtest-empty", RV_ENOTFOUND, NULL, NULL);
	write_helper("rvtest-garbage", "echo 'Secret: hunter2 {'");
	expect_helper("rvtest-garbage", RV_EINVALID, "docker-credential-rvtest-garbage", "hunter2");
	write_helper("rvtest-nosecret", "echo '{\"Username\":\"u\"}'");
	expect_helper("rvtest-nosecret", RV_EINVALID, "docker-credential-rvtest-nosecret", NULL);
	write_helper("rvtest-array", "echo '[\"u\",\"hunter2\"]'");
	expect_helper("rvtest-array", RV_EINVALID, "docker-credential-rvtest-array", "hunter2");
	write_helper("rvtest-exit", "cat >/dev/null\necho 'error getting credentials: dbus down'\nexit 3");
	expect_helper("rvtest-exit", RV_ERROR, "exit status 3", NULL);
	assert_non_null(strstr(error_msg(), "docker-credential-rvtest-exit"));
	assert_non_null(strstr(error_msg(), "dbus down"));
	write_helper("rvtest-signal", "kill -9 $$");
	expect_helper("rvtest-signal", RV_ERROR, "signal 9", NULL);
	expect_helper("rvtest-missing", RV_ERROR, "docker-credential-rvtest-missing", NULL);
	expect_helper("", RV_EINVALID, NULL, NULL);
	expect_helper("../rvtest", RV_EINVALID, NULL, NULL);
	expect_helper("a b", RV_EINVALID, NULL, NULL);
	expect_helper(".hidden", RV_EINVALID, NULL, NULL);
	/* Not executable: not a helper. */
	write_file("bin/docker-credential-rvtest-noexec", "#!/bin/sh\necho '{}'\n", 0644);
	expect_helper("rvtest-noexec", RV_ERROR, "not found on PATH", NULL);
	/* Too much output. */
	write_helper("rvtest-big", "head -c 200000 /dev/zero | tr '\\0' 'a'");
	expect_helper("rvtest-big", RV_ERROR, "output over", NULL);
}

/* Hangs are killed, with their children, after the timeout. */
static void test_helper_timeout(void **state)
{
	int64_t t0;
	char *pid_s, *proc;
	struct stat st;

	(void)state;
	setenv("REGVAULT_CRED_HELPER_TIMEOUT_MS", "300", 1);
	write_helper("rvtest-hang", "sleep 30 &\necho $! > \"$ROOT/hang.pid\"\nwait");
	t0 = time_mono_ms();
	expect_helper("rvtest-hang", RV_ERROR, "timed out after 300 ms", NULL);
	assert_true(time_mono_ms() - t0 < 5000);
	assert_true(time_mono_ms() - t0 >= 250);
	/* The grandchild (sleep) was killed too: gone or a zombie soon. */
	pid_s = read_file("hang.pid");
	proc = xasprintf("/proc/%ld/stat", strtol(pid_s, NULL, 10));
	for (int i = 0; i < 200 && !stat(proc, &st); i++) {
		char buf[512] = "", *rp;
		FILE *f = fopen(proc, "r");

		if (!f)
			break;
		if (!fgets(buf, sizeof(buf), f))
			buf[0] = '\0';
		fclose(f);
		rp = strrchr(buf, ')');
		if (!rp || rp[1] != ' ' || rp[2] == 'Z' || rp[2] == 'X')
			break;
		if (i == 199)
			fail_msg("the hung helper's child %s is still running", pid_s);
		usleep(10000);
	}
	free(proc);
	free(pid_s);
}

/* Garbage or out-of-range knob values fall back to the 30 s default. */
static void test_helper_timeout_knob(void **state)
{
	static const char *const bad[] = { "soon", "0", "-5", "", "99999999999" };
	struct creds c = CREDS_INIT;

	(void)state;
	write_helper("rvtest-slow", "sleep 0.5\necho '{\"Username\":\"u\",\"Secret\":\"s\"}'");
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		setenv("REGVAULT_CRED_HELPER_TIMEOUT_MS", bad[i], 1);
		if (creds_helper_get(&c, "rvtest-slow", "reg.example.com"))
			fail_msg("knob \"%s\": %s", bad[i], error_msg());
		creds_release(&c);
	}
	setenv("REGVAULT_CRED_HELPER_TIMEOUT_MS", "100", 1);
	expect_helper("rvtest-slow", RV_ERROR, "timed out after 100 ms", NULL);
}

/* A helper that never reads stdin must not SIGPIPE us, even with a long server. */
static void test_helper_ignores_stdin(void **state)
{
	struct creds c = CREDS_INIT;
	char *server = xmalloc(1024 * 1024 + 1);

	(void)state;
	memset(server, 'a', 1024 * 1024);
	server[1024 * 1024] = '\0';
	write_helper("rvtest-noread", "echo '{\"Username\":\"u\",\"Secret\":\"s\"}'");
	assert_int_equal(creds_helper_get(&c, "rvtest-noread", server), 0);
	assert_string_equal(c.password, "s");
	creds_release(&c);
	free(server);
}

/* A background child holding stdout/stderr open does not hold us up. */
static void test_helper_leaves_daemon(void **state)
{
	struct creds c = CREDS_INIT;
	int64_t t0 = time_mono_ms();

	(void)state;
	write_helper("rvtest-daemon",
	             "cat >/dev/null\nsleep 3 &\n"
	             "head -c 100000 /dev/zero >&2\n"
	             "echo '{\"Username\":\"u\",\"Secret\":\"s\"}'");
	assert_int_equal(creds_helper_get(&c, "rvtest-daemon", "reg.example.com"), 0);
	assert_string_equal(c.username, "u");
	assert_true(time_mono_ms() - t0 < 2500);
	creds_release(&c);
}

/* Empty PATH entries mean "." to execvp; we never run a helper from there. */
static void test_helper_not_from_cwd(void **state)
{
	char *dir = path("cwd");

	(void)state;
	write_ok_helper("rvtest-cwd");
	assert_int_equal(fs_mkdir_p(dir, 0700), 0);
	assert_int_equal(chdir(dir), 0);
	{
		char *src = path("bin/docker-credential-rvtest-cwd");
		char *dst = path("cwd/docker-credential-rvtest-cwd");

		assert_int_equal(rename(src, dst), 0);
		free(src);
		free(dst);
	}
	setenv("PATH", "::/nonexistent:", 1);
	expect_helper("rvtest-cwd", RV_ERROR, "not found on PATH", NULL);
	free(dir);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_nothing_anywhere),
		T(test_docker_config_locations),
		T(test_search_order),
		T(test_first_hit_per_registry),
		T(test_missing_and_empty_files_skipped),
		T(test_broken_file_fails),
		T(test_authfile_only),
		T(test_namespace_keys),
		T(test_url_form_keys),
		T(test_docker_hub_keys),
		T(test_entry_decoding),
		T(test_message_is_one_line),
		T(test_docker_auth_config_env),
		T(test_empty_entry_asks_creds_store),
		T(test_cred_helpers_before_store_and_auths),
		T(test_cred_helper_not_found_is_final),
		T(test_creds_store_not_found_continues),
		T(test_broken_helper_fails_lookup),
		T(test_helper_ok),
		T(test_helper_identity_token),
		T(test_helper_failures),
		T(test_helper_timeout),
		T(test_helper_timeout_knob),
		T(test_helper_ignores_stdin),
		T(test_helper_leaves_daemon),
		T(test_helper_not_from_cwd),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
