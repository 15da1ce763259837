/*
 * creds.c — credentials from containers auth.json, docker config.json,
 * $DOCKER_AUTH_CONFIG and docker-credential-* helpers.
 *
 * The rules follow containers-auth.json(5) and containers/image
 * pkg/docker/config (namespace keys, URL-form keys), and the docker CLI
 * (cli/config/configfile, credentials/native_store.go) for docker.io's
 * "https://index.docker.io/v1/" key and the helper protocol
 * (docker-credential-helpers client/client.go).
 *
 * Secrets never reach an error message, a log line, or a helper's argv or
 * environment; what we decoded is wiped before it is freed.
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <jansson.h>

#include "registry/auth.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/log.h"
#include "util/str.h"
#include "util/strlist.h"
#include "util/proc.h"
#include "util/xalloc.h"
#include "util/banned.h"

#define CRED_FILE_MAX (4 * 1024 * 1024)
#define HELPER_OUT_MAX (64 * 1024)
#define HELPER_ERR_MAX 4096
#define HELPER_TIMEOUT_MS_DEFAULT 30000
#define HELPER_TIMEOUT_MS_MAX 3600000

/* docker CLI's key for Docker Hub, in config.json and in helpers. */
#define HUB_KEY "https://index.docker.io/v1/"

/* Internal: an explicit credHelpers entry found nothing; stop searching. */
#define STOP_ANONYMOUS 1

static void free_secret(char *s)
{
	if (s) {
		explicit_bzero(s, strlen(s));
		free(s);
	}
}

static void wipe_and_release(struct buf *b)
{
	if (b->ptr)
		explicit_bzero(b->ptr, b->alloc);
	buf_release(b);
}

void creds_release(struct creds *c)
{
	if (!c)
		return;
	free_secret(c->username);
	free_secret(c->password);
	free_secret(c->identity_token);
	free_secret(c->registry_token);
	memset(c, 0, sizeof(*c));
}

/* --- Credential helpers ------------------------------------------------- */

/* REGVAULT_CRED_HELPER_TIMEOUT_MS (documented in auth.h), else 30 s. */
static int64_t helper_timeout_ms(void)
{
	const char *s = getenv("REGVAULT_CRED_HELPER_TIMEOUT_MS");
	int64_t v;

	if (s && *s && !str_to_int64(s, &v) && v > 0 && v <= HELPER_TIMEOUT_MS_MAX)
		return v;
	return HELPER_TIMEOUT_MS_DEFAULT;
}

/* Helper names come from config files: no paths, no shell characters. */
static int helper_name_ok(const char *name)
{
	if (!*name || *name == '.')
		return 0;
	for (const char *p = name; *p; p++)
		if (!isalnum((unsigned char)*p) && !strchr("-_.", *p))
			return 0;
	return 1;
}

/*
 * The first line of a failing helper's stdout (the protocol puts its error
 * message there), printable ASCII only and short, for the error message.
 * A failing helper has no secret to give, and we never echo its stdin.
 */
static char *helper_complaint(const struct buf *b)
{
	const char *p = buf_cstr(b);
	struct buf out = BUF_INIT;

	while (*p && isspace((unsigned char)*p))
		p++;
	for (; *p && *p != '\n' && *p != '\r' && out.len < 160; p++)
		buf_addch(&out, isprint((unsigned char)*p) ? *p : '?');
	if (*p && *p != '\n' && *p != '\r')
		buf_addstr(&out, "...");
	return buf_detach(&out, NULL);
}

static int helper_exit_error(const char *display, const struct buf *out, int status,
                             const char *server)
{
	char *why = helper_complaint(out);
	int ret;

	if (WIFEXITED(status))
		ret = error_set(RV_ERROR, "credential helper \"%s\" get for \"%s\": exit status %d%s%s",
		                display, server, WEXITSTATUS(status), *why ? ": " : "", why);
	else
		ret = error_set(RV_ERROR, "credential helper \"%s\" get for \"%s\": killed by signal %d",
		                display, server, WTERMSIG(status));
	free(why);
	return ret;
}
/*
 * stdout is {"ServerURL":…,"Username":…,"Secret":…}; Username "<token>"
 * means Secret is an identity token (docker CLI native_store.go).
 */
static int helper_parse(struct creds *out, const char *display, const struct buf *b,
                        const char *server)
{
	json_error_t jerr;
	json_t *root = json_loadb(b->ptr ? b->ptr : "", b->len, 0, &jerr);
	const char *user, *secret;
	int ret = 0;

	if (!root || !json_is_object(root)) {
		json_decref(root);
		return error_set(RV_EINVALID, "credential helper \"%s\" get for \"%s\": invalid output",
		                 display, server);
	}
	user = json_string_value(json_object_get(root, "Username"));
	secret = json_string_value(json_object_get(root, "Secret"));
	if (!secret || (user == NULL && json_object_get(root, "Username")))
		ret = error_set(RV_EINVALID, "credential helper \"%s\" get for \"%s\": invalid output",
		                display, server);
	else if (!*secret)
		ret = error_set(RV_ENOTFOUND, "credential helper \"%s\" has nothing for \"%s\"",
		                display, server);
	else if (user && !strcmp(user, "<token>"))
		out->identity_token = xstrdup(secret);
	else {
		out->username = xstrdup(user ? user : "");
		out->password = xstrdup(secret);
	}
	json_decref(root);
	return ret;
}

static int helper_finish(struct creds *out, const char *display, const struct buf *b,
                         int status, const char *server)
{
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return helper_parse(out, display, b, server);
	/* docker-credential-helpers: "credentials not found in native keychain" */
	if (strstr(buf_cstr(b), "credentials not found"))
		return error_set(RV_ENOTFOUND, "credential helper \"%s\" has nothing for \"%s\"",
		                 display, server);
	return helper_exit_error(display, b, status, server);
}
int creds_helper_get(struct creds *out, const char *helper, const char *server)
{
	struct buf stdout_buf = BUF_INIT;
	struct proc p = { 0 };
	int64_t timeout = helper_timeout_ms();
	char *display = NULL, *path = NULL, *what = NULL;
	char *argv[] = { NULL, (char *)"get", NULL };
	int ret;

	memset(out, 0, sizeof(*out));
	if (!helper_name_ok(helper)) {
		char q[128];

		return error_set(RV_EINVALID, "credential helper name \"%s\" is not valid",
		                 str_printable(q, sizeof(q), helper));
	}
	display = xasprintf("docker-credential-%s", helper);
	path = fs_find_on_path(display);
	if (!path) {
		ret = error_set(RV_ERROR, "credential helper \"%s\" not found on PATH", display);
		goto done;
	}
	argv[0] = display;
	p.path = path;
	p.argv = argv;
	p.input = server;   /* the server URL on stdin, never in argv */
	p.input_len = strlen(server);
	p.out = &stdout_buf;
	p.max_out = HELPER_OUT_MAX;
	p.max_err = HELPER_ERR_MAX;
	p.timeout_ms = timeout;
	what = xasprintf("credential helper \"%s\"", display);
	ret = proc_run(&p, what);
	if (ret == PROC_TIMED_OUT)
		ret = error_set(RV_ERROR, "%s: timed out after %lld ms", what, (long long)timeout);
	else if (ret == PROC_TOO_MUCH)
		ret = error_set(RV_ERROR, "%s: output over %d bytes", what, HELPER_OUT_MAX);
	if (ret)
		goto done;
	if (p.err.len) {
		char *line = helper_complaint(&p.err);

		log_debug("%s said on stderr: %s", what, line);
		free(line);
	}
	ret = helper_finish(out, display, &stdout_buf, p.status, server);
done:
	wipe_and_release(&stdout_buf);
	proc_release(&p);
	if (ret)
		creds_release(out);
	free(what);
	free(path);
	free(display);
	return ret;
}
/* --- Which key, which helper -------------------------------------------- */

struct lookup {
	const char *registry;   /* as the user wrote it */
	const char *host;       /* for normalised keys: "docker.io" for the Hub */
	const char *server;     /* what helpers get on stdin */
	int hub;
	struct strlist keys;    /* exact auths keys, most specific first */
};

static int is_hub(const char *host)
{
	return !strcmp(host, "docker.io") || !strcmp(host, "index.docker.io") ||
	       !strcmp(host, "registry-1.docker.io");
}

/* host/ns/repo, host/ns, …: containers-auth.json(5) namespace keys. */
static void add_namespace_keys(struct strlist *keys, const char *host, const char *repo)
{
	char *key = xasprintf("%s/%s", host, repo);
	size_t host_len = strlen(host);
	char *slash;

	/* Stops before cutting the key down to the bare host (added apart). */
	while ((slash = strrchr(key, '/')) && (size_t)(slash - key) >= host_len) {
		if (!strlist_contains(keys, key))
			strlist_add(keys, key);
		*slash = '\0';
	}
	free(key);
}

static void add_key(struct strlist *keys, const char *key)
{
	if (!strlist_contains(keys, key))
		strlist_add(keys, key);
}

static void lookup_init(struct lookup *lk, const char *registry, const char *repo)
{
	memset(lk, 0, sizeof(*lk));
	lk->registry = registry;
	lk->hub = is_hub(registry);
	lk->host = lk->hub ? "docker.io" : registry;
	lk->server = lk->hub ? HUB_KEY : registry;
	if (repo && *repo) {
		if (lk->hub)
			add_namespace_keys(&lk->keys, "docker.io", repo);
		add_namespace_keys(&lk->keys, registry, repo);
	}
	add_key(&lk->keys, registry);
	if (lk->hub) {
		add_key(&lk->keys, "docker.io");
		add_key(&lk->keys, HUB_KEY);
		add_key(&lk->keys, "index.docker.io");
		add_key(&lk->keys, "registry-1.docker.io");
	}
}

/*
 * containers/image normalizeAuthFileKey: a URL-form key
 * ("https://reg.example.com/v1/") is reduced to its host; Hub aliases become
 * "docker.io". Keys without a scheme are compared as they are.
 */
static int key_matches_host(const char *key, const struct lookup *lk)
{
	const char *k = key;
	size_t len;
	char *host;
	int match;

	if (str_has_prefix(k, "https://"))
		k += 8;
	else if (str_has_prefix(k, "http://"))
		k += 7;
	else
		return 0;
	len = strcspn(k, "/");
	host = xstrndup(k, len);
	match = !strcmp(is_hub(host) ? "docker.io" : host, lk->host);
	free(host);
	return match;
}

static json_t *find_entry(json_t *auths, const struct lookup *lk, const char **key_out)
{
	const char *key;
	json_t *v;

	for (size_t i = 0; i < lk->keys.n; i++) {
		v = json_object_get(auths, lk->keys.v[i]);
		if (v) {
			*key_out = lk->keys.v[i];
			return v;
		}
	}
	/* File order (jansson keeps it), so the first such key wins. */
	json_object_foreach(auths, key, v) {
		if (key_matches_host(key, lk)) {
			*key_out = key;
			return v;
		}
	}
	return NULL;
}

/* credHelpers is keyed by bare host (no namespaces, containers-auth.json(5)). */
static json_t *find_cred_helper(json_t *helpers, const struct lookup *lk)
{
	static const char *const hub_keys[] = { "docker.io", HUB_KEY, "index.docker.io",
		                                "registry-1.docker.io" };
	json_t *v = json_object_get(helpers, lk->registry);

	for (size_t i = 0; !v && lk->hub && i < sizeof(hub_keys) / sizeof(hub_keys[0]); i++)
		v = json_object_get(helpers, hub_keys[i]);
	return v;
}

/* --- Entries ------------------------------------------------------------ */

/*
 * "auth" is base64("user:password"), split at the first ':' (a password may
 * hold colons); docker trims NULs around the password (CLI decodeAuth).
 */
static int decode_auth(struct creds *out, const char *auth, const char *what, const char *key)
{
	struct buf raw = BUF_INIT;
	char *trimmed = xstrdup(auth), *colon;
	size_t ulen, plen;
	const char *pass;
	int ret = 0;

	if (str_base64_decode(&raw, str_trim(trimmed)) ||
	    !(colon = memchr(raw.ptr ? raw.ptr : "", ':', raw.len))) {
		ret = error_set(RV_EINVALID, "%s: entry \"%s\": \"auth\" is not base64 of user:password",
		                what, key);
		goto done;
	}
	ulen = (size_t)(colon - raw.ptr);
	pass = colon + 1;
	plen = raw.len - ulen - 1;
	while (plen && pass[plen - 1] == '\0')
		plen--;
	while (plen && *pass == '\0') {
		pass++;
		plen--;
	}
	if (memchr(raw.ptr, '\0', ulen) || memchr(pass, '\0', plen)) {
		ret = error_set(RV_EINVALID, "%s: entry \"%s\": \"auth\" holds a NUL byte", what, key);
		goto done;
	}
	out->username = xstrndup(raw.ptr, ulen);
	out->password = xstrndup(pass, plen);
done:
	explicit_bzero(trimmed, strlen(trimmed));
	free(trimmed);
	wipe_and_release(&raw);
	return ret;
}

static int get_string(const char **out, json_t *obj, const char *name, const char *what,
                      const char *key)
{
	json_t *v = json_object_get(obj, name);

	*out = NULL;
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_string(v))
		return error_set(RV_EINVALID, "%s: entry \"%s\": \"%s\" is not a string", what, key,
		                 name);
	*out = *json_string_value(v) ? json_string_value(v) : NULL;
	return 0;
}

/*
 * One auths entry. 0 with out filled; RV_ENOTFOUND when it holds nothing
 * usable ({} marks "the helper has it"). auth_only: $DOCKER_AUTH_CONFIG,
 * where the docker CLI reads nothing but "auth".
 */
static int decode_entry(struct creds *out, json_t *e, const char *what, const char *key,
                        int auth_only)
{
	const char *auth, *user, *pass, *idtok, *regtok;
	int ret;

	if (!json_is_object(e))
		return error_set(RV_EINVALID, "%s: entry \"%s\" is not an object", what, key);
	if ((ret = get_string(&auth, e, "auth", what, key)))
		return ret;
	if (auth && (ret = decode_auth(out, auth, what, key)))
		return ret;
	if (auth_only)
		return auth ? 0 : RV_ENOTFOUND;
	if ((ret = get_string(&user, e, "username", what, key)) ||
	    (ret = get_string(&pass, e, "password", what, key)) ||
	    (ret = get_string(&idtok, e, "identitytoken", what, key)) ||
	    (ret = get_string(&regtok, e, "registrytoken", what, key)))
		return ret;
	for (const char *p = regtok; p && *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)   /* it goes into a header as it is */
			return error_set(RV_EINVALID, "%s: entry \"%s\": \"registrytoken\" holds a "
			                 "control character", what, key);
	if (!auth && user && pass) { /* docker CLI reads these when "auth" is absent */
		out->username = xstrdup(user);
		out->password = xstrdup(pass);
	}
	out->identity_token = xstrdup_or_null(idtok);
	out->registry_token = xstrdup_or_null(regtok);
	return out->username || out->identity_token || out->registry_token ? 0 : RV_ENOTFOUND;
}

static int get_helper_name(const char **out, json_t *v, const char *what, const char *field)
{
	*out = NULL;
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_string(v))
		return error_set(RV_EINVALID, "%s: \"%s\" is not a string", what, field);
	*out = *json_string_value(v) ? json_string_value(v) : NULL;
	return 0;
}

/* credHelpers[host]: its answer is final, as in docker and containers/image. */
static int lookup_cred_helper(struct creds *out, json_t *root, const char *what,
                              const struct lookup *lk)
{
	json_t *helpers = json_object_get(root, "credHelpers");
	const char *name;
	int ret;

	if (!helpers || json_is_null(helpers))
		return RV_ENOTFOUND;
	if (!json_is_object(helpers))
		return error_set(RV_EINVALID, "%s: \"credHelpers\" is not an object", what);
	if ((ret = get_helper_name(&name, find_cred_helper(helpers, lk), what, "credHelpers")))
		return ret;
	if (!name)
		return RV_ENOTFOUND;
	ret = creds_helper_get(out, name, lk->server);
	return ret == RV_ENOTFOUND ? STOP_ANONYMOUS : ret;
}

/*
 * One parsed file (or $DOCKER_AUTH_CONFIG, env: "auth" only, no helpers).
 * Order: credHelpers[host], a usable auths entry, credsStore. We take a
 * usable entry before credsStore (containers/image does; docker asks the
 * store first, but writes no "auth" to a file that has one).
 * 0 on a hit, RV_ENOTFOUND to try the next source, STOP_ANONYMOUS, or an error.
 */
static int lookup_config(struct creds *out, json_t *root, const char *what,
                         const struct lookup *lk, int env)
{
	json_t *auths, *entry = NULL;
	const char *helper, *key = NULL;
	int ret;

	if (!json_is_object(root))
		return error_set(RV_EINVALID, "%s: not a JSON object", what);
	auths = json_object_get(root, "auths");
	if (auths && !json_is_null(auths) && !json_is_object(auths))
		return error_set(RV_EINVALID, "%s: \"auths\" is not an object", what);
	if (!env && (ret = lookup_cred_helper(out, root, what, lk)) != RV_ENOTFOUND)
		return ret;
	if (json_is_object(auths))
		entry = find_entry(auths, lk, &key);
	if (entry) {
		/* The key reaches messages: a URL-form key is the file's text. */
		char kq[256];

		ret = decode_entry(out, entry, what, str_printable(kq, sizeof(kq), key), env);
		if (ret != RV_ENOTFOUND)
			return ret;
	}
	creds_release(out);
	if (env)
		return RV_ENOTFOUND;
	if ((ret = get_helper_name(&helper, json_object_get(root, "credsStore"), what,
	                           "credsStore")))
		return ret;
	return helper ? creds_helper_get(out, helper, lk->server) : RV_ENOTFOUND;
}

/* --- Sources ------------------------------------------------------------ */

static int is_blank(const struct buf *b)
{
	for (size_t i = 0; i < b->len; i++)
		if (!isspace((unsigned char)b->ptr[i]))
			return 0;
	return 1;
}

/*
 * Parses JSON text from a credentials source. jansson's error text quotes
 * the input ("near '…'"), which may be a password: give the position only.
 * An empty text is an empty config, as docker and containers/image read it.
 */
static int lookup_text(struct creds *out, const struct buf *text, const char *what,
                       const struct lookup *lk, int env)
{
	json_error_t jerr;
	json_t *root;
	int ret;

	if (is_blank(text))
		return RV_ENOTFOUND;
	root = json_loadb(text->ptr, text->len, 0, &jerr);
	if (!root)
		return error_set(RV_EINVALID, "%s: invalid JSON (line %d, column %d)", what,
		                 jerr.line, jerr.column);
	ret = lookup_config(out, root, what, lk, env);
	json_decref(root);
	return ret;
}

/* required: --authfile, whose absence is the user's mistake, not "anonymous". */
static int lookup_file(struct creds *out, const char *path, const struct lookup *lk,
                       int required)
{
	struct buf text = BUF_INIT;
	char *what;
	int ret = fs_read_file(&text, path, CRED_FILE_MAX);

	if (ret == RV_ENOTFOUND) {
		buf_release(&text);
		if (required)
			return error_set(RV_ERROR, "credentials file \"%s\" does not exist", path);
		return RV_ENOTFOUND;
	}
	if (ret) {
		wipe_and_release(&text);
		return ret;
	}
	what = xasprintf("credentials file \"%s\"", path);
	ret = lookup_text(out, &text, what, lk, 0);
	free(what);
	wipe_and_release(&text);
	return ret;
}

static int lookup_env(struct creds *out, const struct lookup *lk)
{
	const char *env = getenv("DOCKER_AUTH_CONFIG");
	struct buf text = BUF_INIT;
	int ret;

	if (!env || !*env)
		return RV_ENOTFOUND;
	buf_addstr(&text, env);
	ret = lookup_text(out, &text, "$DOCKER_AUTH_CONFIG", lk, 1);
	wipe_and_release(&text);
	return ret;
}

static char *env_path(const char *var, const char *fallback_dir, const char *sub)
{
	const char *v = getenv(var);

	if (v && *v)
		return fs_path_join(v, sub);
	return fallback_dir ? fs_path_join(fallback_dir, sub) : NULL;
}

/* The default search order of auth.h, as paths; NULL marks $DOCKER_AUTH_CONFIG. */
static void default_sources(struct strlist *paths, int *env_at)
{
	char *home = fs_home_dir();
	char *dot_config = home ? fs_path_join(home, ".config") : NULL;
	char *dot_docker = home ? fs_path_join(home, ".docker") : NULL;
	const char *raf = getenv("REGISTRY_AUTH_FILE");
	char *p;

	if (raf && *raf)
		strlist_add(paths, raf);
	if ((p = env_path("XDG_RUNTIME_DIR", NULL, "containers/auth.json"))) {
		strlist_add_owned(paths, p);
	} else {
		/* podman's own fallback when XDG_RUNTIME_DIR is unset (cron jobs,
		 * su sessions): containers-auth.json(5). */
		char run[64];
		snprintf(run, sizeof(run), "/run/containers/%u/auth.json", (unsigned)getuid());
		strlist_add(paths, run);
	}
	if ((p = env_path("XDG_CONFIG_HOME", dot_config, "containers/auth.json")))
		strlist_add_owned(paths, p);
	*env_at = (int)paths->n;
	if ((p = env_path("DOCKER_CONFIG", dot_docker, "config.json")))
		strlist_add_owned(paths, p);
	free(dot_docker);
	free(dot_config);
	free(home);
}

int creds_lookup(struct creds *out, const char *authfile, const char *registry,
                 const char *repo)
{
	struct strlist paths = STRLIST_INIT;
	struct lookup lk;
	int ret = RV_ENOTFOUND, env_at = -1;

	memset(out, 0, sizeof(*out));
	lookup_init(&lk, registry, repo);
	if (authfile) {
		ret = lookup_file(out, authfile, &lk, 1);
		goto done;
	}
	default_sources(&paths, &env_at);
	for (size_t i = 0; i <= paths.n; i++) {
		if ((int)i == env_at && (ret = lookup_env(out, &lk)) != RV_ENOTFOUND)
			break;
		if (i == paths.n || (ret = lookup_file(out, paths.v[i], &lk, 0)) != RV_ENOTFOUND)
			break;
	}
done:
	if (ret == RV_ENOTFOUND || ret == STOP_ANONYMOUS)
		ret = error_set(RV_ENOTFOUND, "no credentials for \"%s\"", registry);
	if (ret)
		creds_release(out);
	strlist_release(&paths);
	strlist_release(&lk.keys);
	return ret;
}
