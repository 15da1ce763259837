/*
 * fuzz_creds.c — libFuzzer target for the credentials files: docker
 * config.json, containers auth.json (creds_lookup --authfile) and
 * $DOCKER_AUTH_CONFIG.
 *
 * The input is written to a memfd and read through /proc/self/fd/N as
 * --authfile, and is also set as $DOCKER_AUTH_CONFIG with every other
 * source pointing nowhere; each is looked up for a few registries. PATH
 * holds no directory, so a named credential helper is "not found" and
 * never runs.
 *
 * Beyond "no crash, no leak": an answer comes from an entry whose key
 * belongs to the registry asked for (namespace, URL form or Docker Hub
 * alias), never from another registry's entry, and is exactly what that
 * entry holds (user and password from "auth" or the two fields, tokens);
 * $DOCKER_AUTH_CONFIG gives "auth" only; a credHelpers entry for the
 * registry is final. A refusal leaves nothing allocated, says one line,
 * and quotes no secret of the file.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <jansson.h>

#include "registry/auth.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/str.h"
#include "util/strlist.h"
#include "util/xalloc.h"
#include "util/banned.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define NOWHERE "/nonexistent/rv-fuzz-creds"

static const struct {
	const char *registry, *repo;
} asks[] = {
	{ "registry.example.com:5000", "team/app" },
	{ "docker.io", "library/alpine" },
	{ "localhost:5000", NULL },
	{ "ghcr.io", "org/tools/cli" },
};

static int memfd = -1;
static char authfile[64];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	memfd = memfd_create("config.json", MFD_CLOEXEC);
	if (memfd < 0)
		abort();
	snprintf(authfile, sizeof(authfile), "/proc/self/fd/%d", memfd);
	/* No helper can run; no real credentials file is read. */
	setenv("PATH", NOWHERE, 1);
	setenv("HOME", NOWHERE, 1);
	setenv("XDG_RUNTIME_DIR", NOWHERE, 1);
	setenv("XDG_CONFIG_HOME", NOWHERE, 1);
	setenv("DOCKER_CONFIG", NOWHERE, 1);
	unsetenv("REGISTRY_AUTH_FILE");
	return 0;
}

/* --- What the file says, read independently ------------------------------ */

static int is_hub(const char *h)
{
	return !strcmp(h, "docker.io") || !strcmp(h, "index.docker.io") ||
	       !strcmp(h, "registry-1.docker.io");
}

/* "host/ns" for repo "ns/app" (each whole path component), or host itself. */
static int namespace_key(const char *key, const char *host, const char *repo)
{
	size_t hl = strlen(host), kl = strlen(key);

	if (strncmp(key, host, hl) != 0)
		return 0;
	if (key[hl] == '\0')
		return 1;
	if (key[hl] != '/' || !repo)
		return 0;
	kl -= hl + 1;
	return !strncmp(key + hl + 1, repo, kl) && (repo[kl] == '/' || repo[kl] == '\0') && kl;
}

/* The key may hold credentials of registry (with repository repo). */
static int key_belongs(const char *key, const char *registry, const char *repo)
{
	const char *k = key;
	char host[256];
	size_t n;

	if (namespace_key(key, registry, repo))
		return 1;
	if (is_hub(registry) && (namespace_key(key, "docker.io", repo) || is_hub(key) ||
	                         !strcmp(key, "https://index.docker.io/v1/")))
		return 1;
	if (!strncmp(k, "https://", 8))
		k += 8;
	else if (!strncmp(k, "http://", 7))
		k += 7;
	else
		return 0;
	n = strcspn(k, "/");
	if (n >= sizeof(host))
		return 0;
	memcpy(host, k, n);
	host[n] = '\0';
	return !strcmp(host, registry) || (is_hub(host) && is_hub(registry));
}

static const char *nonempty(json_t *e, const char *name)
{
	const char *s = json_string_value(json_object_get(e, name));

	return s && *s ? s : NULL;
}

static int same(const char *a, const char *b)
{
	return a ? b && !strcmp(a, b) : !b;
}

/* 1 when "auth" decodes to exactly user:pass (NULs around pass trimmed). */
static int auth_gives(const char *auth, const char *user, const char *pass)
{
	struct buf raw = BUF_INIT;
	char *t = xstrdup(auth);
	const char *colon, *p;
	size_t plen;
	int ok = 0;

	if (user && pass && str_base64_decode(&raw, str_trim(t)) == 0 && raw.len &&
	    (colon = memchr(raw.ptr, ':', raw.len))) {
		p = colon + 1;
		plen = raw.len - (size_t)(p - raw.ptr);
		while (plen && p[plen - 1] == '\0')
			plen--;
		while (plen && *p == '\0') {
			p++;
			plen--;
		}
		ok = strlen(user) == (size_t)(colon - raw.ptr) && !memcmp(user, raw.ptr, strlen(user)) &&
		     strlen(pass) == plen && !memcmp(pass, p, plen);
	}
	buf_release(&raw);
	free(t);
	return ok;
}

/* The answer is what entry e holds. */
static int entry_gives(json_t *e, const struct creds *c, int env)
{
	const char *auth = nonempty(e, "auth");

	if (!json_is_object(e))
		return 0;
	if (env)
		return auth && auth_gives(auth, c->username, c->password) && !c->identity_token &&
		       !c->registry_token;
	if (!same(nonempty(e, "identitytoken"), c->identity_token) ||
	    !same(nonempty(e, "registrytoken"), c->registry_token))
		return 0;
	if (auth)
		return auth_gives(auth, c->username, c->password);
	if (nonempty(e, "username") && nonempty(e, "password"))
		return same(nonempty(e, "username"), c->username) &&
		       same(nonempty(e, "password"), c->password);
	return !c->username && !c->password;
}

static void check_found(json_t *root, const struct creds *c, int ai, int env)
{
	json_t *auths = json_object_get(root, "auths"), *e;
	const char *key;

	if (!c->username && !c->identity_token && !c->registry_token)
		abort();
	if (!c->username != !c->password)
		abort();
	if (c->registry_token)
		for (const char *p = c->registry_token; *p; p++)
			if ((unsigned char)*p < 0x20 || *p == 0x7f)
				abort();   /* sent as is in an Authorization header */
	json_object_foreach(auths, key, e)
		if (key_belongs(key, asks[ai].registry, asks[ai].repo) && entry_gives(e, c, env))
			return;
	abort();   /* from no entry of this registry */
}

/* --- Secrets must not reach a message ---------------------------------------- */

static void collect(json_t *v, struct strlist *secrets, struct strlist *open)
{
	static const char *const names[] = { "auth", "password", "identitytoken", "registrytoken" };
	const char *key;
	json_t *m;
	size_t i;
	int secret;

	if (json_is_object(v)) {
		json_object_foreach(v, key, m) {
			strlist_add(open, key);
			secret = 0;
			for (size_t k = 0; k < sizeof(names) / sizeof(names[0]); k++)
				secret |= !strcmp(key, names[k]);
			if (json_is_string(m))
				strlist_add(secret ? secrets : open, json_string_value(m));
			collect(m, secrets, open);
		}
	} else if (json_is_array(v)) {
		json_array_foreach(v, i, m) {
			if (json_is_string(m))
				strlist_add(open, json_string_value(m));
			collect(m, secrets, open);
		}
	}
}

/* A secret worth looking for: it has a byte no message template, path or
 * number has, and it is not also a key or another value of the file. */
static int distinctive(const char *s, const struct strlist *open)
{
	if (strlen(s) < 6 || strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	                               "0123456789 \":/.,()$_-?") == strlen(s))
		return 0;
	for (size_t i = 0; i < open->n; i++)
		if (strstr(open->v[i], s))
			return 0;
	for (size_t i = 0; i < sizeof(asks) / sizeof(asks[0]); i++)
		if (strstr(asks[i].registry, s) || (asks[i].repo && strstr(asks[i].repo, s)))
			return 0;
	return 1;
}

static void check_refused(json_t *root, const struct creds *c, int rc)
{
	struct strlist secrets = STRLIST_INIT, open = STRLIST_INIT;
	const char *m = error_msg();

	if (c->username || c->password || c->identity_token || c->registry_token)
		abort();
	if (rc != RV_ENOTFOUND && rc != RV_EINVALID && rc != RV_ERROR && rc != RV_ETOOBIG)
		abort();
	if (!*m || strchr(m, '\n') || strchr(m, '\r'))
		abort();
	/* Helpers cannot run here: an RV_ERROR is one that was not found. */
	if (rc == RV_ERROR && !strstr(m, "not found on PATH"))
		abort();
	collect(root, &secrets, &open);
	for (size_t i = 0; i < secrets.n; i++)
		if (distinctive(secrets.v[i], &open) && strstr(m, secrets.v[i]))
			abort();
	strlist_release(&secrets);
	strlist_release(&open);
}

/* credHelpers[registry] answers alone: nothing from auths then. */
static int has_helper(json_t *root, const char *registry)
{
	json_t *h = json_object_get(root, "credHelpers");

	return !is_hub(registry) && json_is_object(h) && nonempty(h, registry);
}

static void lookup(json_t *root, int ai, int env)
{
	struct creds c;
	int rc;

	memset(&c, 0xa5, sizeof(c));
	rc = creds_lookup(&c, env ? NULL : authfile, asks[ai].registry, asks[ai].repo);
	if (rc == 0) {
		if (!json_is_object(root) || (!env && has_helper(root, asks[ai].registry)))
			abort();
		check_found(root, &c, ai, env);
	} else {
		check_refused(root, &c, rc);
	}
	creds_release(&c);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t n_asks = sizeof(asks) / sizeof(asks[0]);
	/* Cut at a NUL, as the environment is. putenv, not setenv: glibc's
	 * setenv keeps every value it was ever given. */
	char *env = xasprintf("DOCKER_AUTH_CONFIG=%.*s", (int)size, (const char *)data);
	json_t *root;

	if (ftruncate(memfd, 0) || (size && pwrite(memfd, data, size, 0) != (ssize_t)size))
		abort();
	root = json_loadb((const char *)data, size, 0, NULL);
	for (size_t i = 0; i < n_asks; i++)
		lookup(root, (int)i, 0);
	json_decref(root);

	if (putenv(env))
		abort();
	root = json_loads(env + strlen("DOCKER_AUTH_CONFIG="), 0, NULL);
	for (size_t i = 0; i < n_asks; i++)
		lookup(root, (int)i, 1);
	json_decref(root);
	unsetenv("DOCKER_AUTH_CONFIG");
	free(env);
	return 0;
}
