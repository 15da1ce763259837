/*
 * client.c — one registry host: scheme, TLS trust, credentials, tokens.
 *
 * The /v2/ ping and token fetches run on their own easy handle, outside
 * the multi loop: they happen once per client (or once per scope every few
 * minutes), and doing them in line keeps every op's attach step a plain
 * function call instead of a chain of callbacks.
 */
#include <ctype.h>
#include <arpa/inet.h>
#include <dirent.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "oci/reference.h"
#include "registry/internal.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/log.h"
#include "util/str.h"
#include "util/timeutil.h"
#include "util/banned.h"

#define TOKEN_BODY_MAX ((size_t)1 << 20)

void client_host_of(const char *name, char *out, size_t outlen)
{
	const char *end;
	const char *start = name;

	if (name[0] == '[') {
		start = name + 1;
		end = strchr(name, ']');
		if (!end)
			end = name + strlen(name);
	} else {
		end = strrchr(name, ':');
		if (!end)
			end = name + strlen(name);
	}
	size_t n = (size_t)(end - start);
	if (n >= outlen)
		n = outlen - 1;
	memcpy(out, start, n);
	out[n] = '\0';
}

/* Docker treats 127.0.0.0/8 and ::1 as insecure by default; "localhost"
 * resolves there on every sane system. */
int registry_is_loopback(const char *name)
{
	char host[256];
	struct in_addr a4;
	struct in6_addr a6;

	client_host_of(name, host, sizeof(host));
	if (strcasecmp(host, "localhost") == 0)   /* host names ignore case */
		return 1;
	if (inet_pton(AF_INET, host, &a4) == 1)
		return (ntohl(a4.s_addr) >> 24) == 127;
	if (inet_pton(AF_INET6, host, &a6) == 1)
		return IN6_IS_ADDR_LOOPBACK(&a6);
	return 0;
}

/* containers-certificates.d(5) and Docker's certs.d: a per-registry CA
 * users already have in place for podman/docker. */
static char *certs_d_ca(const char *name)
{
	static const char *const roots[] = { "/etc/containers/certs.d", "/etc/docker/certs.d" };

	for (size_t i = 0; i < sizeof(roots) / sizeof(roots[0]); i++) {
		char *dir = fs_path_join(roots[i], name);
		DIR *d = opendir(dir);
		struct dirent *de;
		char *found = NULL;
		while (d && !found && (de = readdir(d)))
			if (str_has_suffix(de->d_name, ".crt"))
				found = fs_path_join(dir, de->d_name);
		if (d)
			closedir(d);
		free(dir);
		if (found)
			return found;
	}
	return NULL;
}

int registry_client_open(registry_client **out, registry_session *s, const char *registry)
{
	if (!registry || !*registry || strchr(registry, '/') || strchr(registry, ' '))
		return error_set(RV_EINVALID, "invalid registry name \"%s\"", registry ? registry : "");
	registry_client *c = xcalloc(1, sizeof(*c));
	c->s = s;
	c->name = xstrdup(registry);
	c->host = xstrdup(oci_ref_api_host(registry));
	c->insecure = session_is_insecure(s, registry);
	c->loopback = registry_is_loopback(registry);
	c->ca_file = certs_d_ca(registry);
	*out = c;
	return 0;
}

void registry_client_close(registry_client *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->n_tokens; i++) {
		free(c->tokens[i].scope);
		free(c->tokens[i].token);
	}
	free(c->tokens);
	creds_release(&c->creds);
	free(c->basic);
	free(c->realm);
	free(c->service);
	free(c->ca_file);
	free(c->base);
	free(c->host);
	free(c->name);
	free(c);
}

const char *registry_client_name(const registry_client *c)
{
	return c->name;
}

registry_session *registry_client_session(const registry_client *c)
{
	return c->s;
}

void registry_client_set_credentials(registry_client *c, const char *user, const char *secret)
{
	creds_release(&c->creds);
	c->creds.username = xstrdup_or_null(user);
	c->creds.password = xstrdup_or_null(secret);
	c->creds_state = user ? 1 : 2;
	free(c->basic);
	c->basic = NULL;
}

void client_tls_setup(registry_client *c, CURL *e)
{
	const char *ca = c->s->ca_cert ? c->s->ca_cert : c->ca_file;

	if (c->insecure) {
		curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 0L);
		curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 0L);
	}
	if (ca) {
		/* The extra CA is trusted beside the system store, not instead. */
		curl_easy_setopt(e, CURLOPT_CAINFO, ca);
		curl_easy_setopt(e, CURLOPT_CAPATH, "/etc/ssl/certs");
	}
}

char *client_url(registry_client *c, const char *fmt, ...)
{
	va_list ap;
	char *path, *url;

	va_start(ap, fmt);
	path = xvasprintf(fmt, ap);
	va_end(ap);
	url = xasprintf("%s/v2/%s", c->base ? c->base : "", path);
	free(path);
	return url;
}

char *client_resolve(const char *base_url, const char *ref)
{
	CURLU *u = curl_url();
	char *full = NULL, *res = NULL;

	if (!u)
		xdie("out of memory");
	if (curl_url_set(u, CURLUPART_URL, base_url, 0) == CURLUE_OK &&
	    curl_url_set(u, CURLUPART_URL, ref, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_URL, &full, 0) == CURLUE_OK) {
		res = xstrdup(full);
		curl_free(full);
	}
	curl_url_cleanup(u);
	return res;
}

/* One part of a URL, lowercased; NULL when it has none. */
static char *url_part(CURLU *u, CURLUPart what)
{
	char *v = NULL, *res = NULL;

	if (curl_url_get(u, what, &v, CURLU_DEFAULT_PORT) == CURLUE_OK && v) {
		res = xstrdup(v);
		for (char *p = res; *p; p++)
			*p = (char)tolower((unsigned char)*p);
	}
	curl_free(v);
	return res;
}

static int url_origin(const char *url, char **scheme, char **host, char **port)
{
	CURLU *u = curl_url();

	if (!u)
		xdie("out of memory");
	*scheme = *host = *port = NULL;
	if (curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK) {
		*scheme = url_part(u, CURLUPART_SCHEME);
		*host = url_part(u, CURLUPART_HOST);
		*port = url_part(u, CURLUPART_PORT);
	}
	curl_url_cleanup(u);
	return *scheme && *host && *port ? 0 : -1;
}

int client_same_origin(const char *a, const char *b)
{
	char *s1 = NULL, *h1 = NULL, *p1 = NULL, *s2 = NULL, *h2 = NULL, *p2 = NULL;
	int same = url_origin(a, &s1, &h1, &p1) == 0 && url_origin(b, &s2, &h2, &p2) == 0 &&
	           strcmp(s1, s2) == 0 && strcmp(h1, h2) == 0 && strcmp(p1, p2) == 0;

	free(s1), free(h1), free(p1), free(s2), free(h2), free(p2);
	return same;
}

/* --- Rate limit --------------------------------------------------------------- */

/* A token bucket per host: rate tokens a second, at most one second's
 * worth saved up. A request that finds it empty takes a token on credit
 * and waits until that token would have arrived, so waiting requests are
 * spaced 1/rate apart whatever order they come in. */
int64_t client_rate_wait(registry_client *c)
{
	double rate = c->s->opts.max_rps;
	int64_t now = time_mono_ms();

	if (rate <= 0)
		return 0;
	if (c->rate_at == 0) {
		c->rate_tokens = rate < 1 ? 1 : rate;
		c->rate_at = now;
	}
	c->rate_tokens += (double)(now - c->rate_at) * rate / 1000.0;
	if (c->rate_tokens > (rate < 1 ? 1 : rate))
		c->rate_tokens = rate < 1 ? 1 : rate;
	c->rate_at = now;
	c->rate_tokens -= 1;
	if (c->rate_tokens >= 0)
		return 0;
	return (int64_t)(-c->rate_tokens * 1000.0 / rate) + 1;
}

/* --- One blocking exchange, for the ping and token fetches --------------- */

struct simple {
	long status;
	struct strlist challenges;
	struct buf body;
	CURLcode cc;
	char err[CURL_ERROR_SIZE];
};

static size_t simple_header(char *data, size_t size, size_t n, void *ctx)
{
	struct simple *r = ctx;
	size_t len = size * n;
	char *line = xstrndup(data, len);

	str_trim(line);
	if (str_has_prefix(line, "HTTP/")) {
		strlist_release(&r->challenges);
		buf_reset(&r->body);
	} else if (str_has_prefix_ci(line, "www-authenticate:")) {
		strlist_add(&r->challenges, str_trim(line + strlen("www-authenticate:")));
	}
	free(line);
	return len;
}

static size_t simple_write(char *data, size_t size, size_t n, void *ctx)
{
	struct simple *r = ctx;
	if (buf_add(&r->body, data, size * n) < 0)
		return 0;   /* over the cap: curl reports a write error */
	return size * n;
}

static void simple_release(struct simple *r)
{
	strlist_release(&r->challenges);
	buf_release(&r->body);
}

static int simple_retryable(const struct simple *r)
{
	if (r->cc != CURLE_OK)
		return r->cc == CURLE_OPERATION_TIMEDOUT || r->cc == CURLE_RECV_ERROR ||
		       r->cc == CURLE_SEND_ERROR || r->cc == CURLE_GOT_NOTHING ||
		       r->cc == CURLE_PARTIAL_FILE;
	return r->status == 429 || r->status >= 500;
}

/* GET url (or POST form) with optional basic credentials; retried like an op. */
static void simple_request(registry_client *c, const char *url, const char *form,
                           const struct creds *basic, struct simple *r)
{
	registry_session *s = c->s;

	for (int attempt = 0;; attempt++) {
		int64_t turn = client_rate_wait(c);
		if (turn > 0)
			usleep((useconds_t)(turn * 1000));
		CURL *e = session_easy_get(s);
		simple_release(r);
		buf_init(&r->body, TOKEN_BODY_MAX);
		r->err[0] = '\0';
		r->status = 0;
		curl_easy_setopt(e, CURLOPT_URL, url);
		curl_easy_setopt(e, CURLOPT_ERRORBUFFER, r->err);
		curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, simple_header);
		curl_easy_setopt(e, CURLOPT_HEADERDATA, r);
		curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, simple_write);
		curl_easy_setopt(e, CURLOPT_WRITEDATA, r);
		curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 1L);
		curl_easy_setopt(e, CURLOPT_MAXREDIRS, 5L);
		curl_easy_setopt(e, CURLOPT_TIMEOUT, 120L);
		client_tls_setup(c, e);
		/* A form carries a refresh token: libcurl re-posts the body on a
		 * 307/308, to any host, so a token POST follows no redirect. */
		if (form) {
			curl_easy_setopt(e, CURLOPT_POSTFIELDS, form);
			curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
		}
		if (basic && basic->username) {
			curl_easy_setopt(e, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
			curl_easy_setopt(e, CURLOPT_USERNAME, basic->username);
			curl_easy_setopt(e, CURLOPT_PASSWORD, basic->password ? basic->password : "");
		}
		r->cc = curl_easy_perform(e);
		curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &r->status);
		session_easy_put(s, e);
		if (!simple_retryable(r) || attempt >= s->opts.max_retries)
			return;
		int64_t wait = session_backoff_ms(s, attempt);
		log_debug("retrying %s in %lld ms", url, (long long)wait);
		usleep((useconds_t)(wait * 1000));
	}
}

/* --- Ping ------------------------------------------------------------------ */

static int tls_verify_error(CURLcode cc)
{
	return cc == CURLE_PEER_FAILED_VERIFICATION || cc == CURLE_SSL_CACERT_BADFILE ||
	       cc == CURLE_SSL_ISSUER_ERROR || cc == CURLE_SSL_PINNEDPUBKEYNOTMATCH;
}

/* What a plain-HTTP server answering a TLS hello looks like to curl. */
static int not_tls_error(CURLcode cc)
{
	return cc == CURLE_SSL_CONNECT_ERROR || cc == CURLE_RECV_ERROR ||
	       cc == CURLE_GOT_NOTHING || cc == CURLE_WEIRD_SERVER_REPLY;
}

static int learn_challenge(registry_client *c, const struct strlist *values)
{
	int rc = RV_ENOTFOUND;

	for (size_t i = 0; i < values->n && rc != 0; i++) {
		struct auth_challenge *ch = NULL;
		size_t n = 0;
		if (auth_challenge_parse(&ch, &n, values->v[i]) < 0)
			continue;
		for (size_t j = 0; j < n; j++) {
			if (rc != 0 && strcmp(ch[j].scheme, "bearer") == 0 && ch[j].realm) {
				free(c->realm);
				free(c->service);
				c->realm = xstrdup(ch[j].realm);
				c->service = xstrdup_or_null(ch[j].service);
				c->auth = AUTH_BEARER;
				rc = 0;
			}
		}
		for (size_t j = 0; j < n && rc != 0; j++) {
			if (strcmp(ch[j].scheme, "basic") == 0) {
				c->auth = AUTH_BASIC;
				rc = 0;
			}
		}
		for (size_t j = 0; j < n; j++)
			auth_challenge_release(&ch[j]);
		free(ch);
	}
	return rc;
}

static int ping_scheme(registry_client *c, const char *scheme, struct simple *r)
{
	char *url = xasprintf("%s://%s/v2/", scheme, c->host);
	simple_request(c, url, NULL, NULL, r);
	free(url);
	return r->cc == CURLE_OK ? 0 : -1;
}

static int ping_result(registry_client *c, struct simple *r, const char *scheme)
{
	if (r->status == 200) {
		c->auth = AUTH_NONE;
	} else if (r->status == 401) {
		if (learn_challenge(c, &r->challenges) < 0)
			return error_set(RV_EAUTH, "registry \"%s\" answered 401 without a usable "
			                 "WWW-Authenticate challenge", c->name);
	} else {
		return error_set(r->status >= 500 ? RV_ETRANSIENT : RV_ERROR,
		                 "registry \"%s\": GET %s://%s/v2/ answered %ld; is this a registry?",
		                 c->name, scheme, c->host, r->status);
	}
	c->base = xasprintf("%s://%s", scheme, c->host);
	c->pinged = 1;
	log_debug("registry \"%s\" speaks %s, auth %s", c->name, scheme,
	          c->auth == AUTH_BEARER ? "bearer" : c->auth == AUTH_BASIC ? "basic" : "none");
	return 0;
}

int registry_ping(registry_client *c)
{
	struct simple r = { 0 };
	int rc;

	if (c->pinged)
		return 0;
	if (ping_scheme(c, "https", &r) == 0) {
		rc = ping_result(c, &r, "https");
	} else if (tls_verify_error(r.cc) && !c->insecure) {
		rc = error_set(RV_ETLS, "TLS certificate of registry \"%s\" is not trusted: %s "
		               "(pass --ca-cert FILE, or --insecure-registry %s to skip verification)",
		               c->name, r.err[0] ? r.err : curl_easy_strerror(r.cc), c->name);
	} else if ((c->insecure || c->loopback) && not_tls_error(r.cc)) {
		if (ping_scheme(c, "http", &r) == 0)
			rc = ping_result(c, &r, "http");
		else
			rc = error_set(RV_ETRANSIENT, "cannot reach registry \"%s\": %s", c->name,
			               r.err[0] ? r.err : curl_easy_strerror(r.cc));
	} else if (!c->insecure && r.cc == CURLE_SSL_CONNECT_ERROR) {
		/* The usual cause: a registry that speaks plain HTTP under a name
		 * that is not loopback ("registry:5000" in Compose, a name in
		 * /etc/hosts). It is refused, as Docker refuses it; say how to
		 * allow it instead of only OpenSSL's "wrong version number". */
		rc = error_set(RV_ETLS, "cannot reach registry \"%s\" over TLS: %s (if it speaks "
		               "plain HTTP, pass --insecure-registry %s to allow that)", c->name,
		               r.err[0] ? r.err : curl_easy_strerror(r.cc), c->name);
	} else {
		rc = error_set(r.cc == CURLE_SSL_CONNECT_ERROR ? RV_ETLS : RV_ETRANSIENT,
		               "cannot reach registry \"%s\": %s", c->name,
		               r.err[0] ? r.err : curl_easy_strerror(r.cc));
	}
	simple_release(&r);
	return rc;
}

int client_ready(registry_client *c)
{
	return c->pinged ? 0 : registry_ping(c);
}

/* --- Credentials and tokens ------------------------------------------------ */

static int load_creds(registry_client *c)
{
	if (c->creds_state)
		return 0;
	int rc = creds_lookup(&c->creds, c->s->authfile, c->name, NULL);
	if (rc == RV_ENOTFOUND) {
		c->creds_state = 2;
		return 0;
	}
	if (rc < 0)
		return rc;
	c->creds_state = 1;
	return 0;
}

static const char *basic_header(registry_client *c)
{
	if (!c->basic && c->creds.username) {
		char *pair = xasprintf("%s:%s", c->creds.username,
		                       c->creds.password ? c->creds.password : "");
		char *b64 = str_base64_encode(pair, strlen(pair));
		c->basic = xasprintf("Authorization: Basic %s", b64);
		explicit_bzero(pair, strlen(pair));
		free(pair);
		free(b64);
	}
	return c->basic;
}

static struct token_entry *token_find(registry_client *c, const char *scope)
{
	for (size_t i = 0; i < c->n_tokens; i++)
		if (strcmp(c->tokens[i].scope, scope) == 0)
			return &c->tokens[i];
	return NULL;
}

static void token_store(registry_client *c, const char *scope, const struct auth_token *t)
{
	struct token_entry *e = token_find(c, scope);

	if (!e) {
		c->tokens = xgrow(c->tokens, sizeof(*c->tokens), c->n_tokens + 1, &c->alloc_tokens);
		e = &c->tokens[c->n_tokens++];
		e->scope = xstrdup(scope);
		e->token = NULL;
	}
	free(e->token);
	e->token = xstrdup(t->token);
	/* Renew a little early: a token that expires in flight costs a 401. */
	int64_t life_ms = t->expires_in * 1000;
	e->expires_ms = time_mono_ms() + life_ms - (life_ms > 60000 ? 30000 : life_ms / 4);
}

/* A plain-HTTP token endpoint gets a request (and our credentials) only
 * on loopback, on the registry's own host when the registry was named
 * insecure, or when its own host was named with --insecure-registry: a
 * registry cannot send what we hold for it in clear text to a host of its
 * choosing. */
static int realm_allowed(registry_client *c)
{
	if (str_has_prefix(c->realm, "https://"))
		return 0;
	if (!str_has_prefix(c->realm, "http://"))
		return error_set(RV_EAUTH, "registry \"%s\": token realm \"%s\" is not an http(s) URL",
		                 c->name, c->realm);
	char hostport[256], host[256], reg_host[256];
	const char *h = c->realm + strlen("http://");
	size_t n = strcspn(h, "/?#");
	const char *at = memchr(h, '@', n);   /* userinfo is no part of the host */
	if (at) {
		n -= (size_t)(at + 1 - h);
		h = at + 1;
	}
	if (n >= sizeof(hostport))
		n = sizeof(hostport) - 1;
	memcpy(hostport, h, n);
	hostport[n] = '\0';
	client_host_of(hostport, host, sizeof(host));
	client_host_of(c->name, reg_host, sizeof(reg_host));
	if (registry_is_loopback(hostport) || session_is_insecure(c->s, hostport) ||
	    (c->insecure && strcasecmp(host, reg_host) == 0))
		return 0;
	return error_set(RV_EAUTH, "registry \"%s\": refusing plain-HTTP token endpoint \"%s\" "
	                 "(pass --insecure-registry %s to allow it)", c->name, c->realm, host);
}

static int token_fetch(registry_client *c, const char *scope)
{
	struct simple r = { 0 };
	struct auth_token t = { 0 };
	int rc = realm_allowed(c);

	if (rc < 0)
		return rc;
	c->token_fetches++;
	if (c->creds.identity_token) {
		char *form = auth_token_form(c->service, scope, c->creds.identity_token);
		simple_request(c, c->realm, form, NULL, &r);
		free(form);
	}
	if (!c->creds.identity_token || r.status == 404 || r.status == 405) {
		char *url = auth_token_url(c->realm, c->service, scope);
		simple_request(c, url, NULL, &c->creds, &r);
		free(url);
	}
	if (r.cc != CURLE_OK)
		rc = error_set(RV_ETRANSIENT, "token server \"%s\" for registry \"%s\": %s", c->realm,
		               c->name, r.err[0] ? r.err : curl_easy_strerror(r.cc));
	else if (r.status == 401)
		rc = error_set(RV_EAUTH, "registry \"%s\": %s rejected by token server \"%s\" (401)",
		               c->name, c->creds.username ? "credentials" : "anonymous access",
		               c->realm);
	else if (r.status == 403)
		rc = error_set(RV_EDENIED, "registry \"%s\": token server \"%s\" denied scope \"%s\"",
		               c->name, c->realm, scope);
	else if (r.status != 200)
		rc = error_set(r.status >= 500 || r.status == 429 ? RV_ETRANSIENT : RV_EAUTH,
		               "registry \"%s\": token server \"%s\" answered %ld", c->name, c->realm,
		               r.status);
	else if ((rc = auth_token_parse(&t, buf_cstr(&r.body), r.body.len)) < 0)
		rc = error_wrap(rc, "registry \"%s\": token server \"%s\"", c->name, c->realm);
	else
		token_store(c, scope, &t);
	auth_token_release(&t);
	simple_release(&r);
	return rc;
}

int client_auth_header(registry_client *c, const char *scope, char **out)
{
	int rc;

	*out = NULL;
	if (c->auth == AUTH_NONE || c->auth == AUTH_UNKNOWN)
		return 0;
	if ((rc = load_creds(c)) < 0)
		return rc;
	if (c->auth == AUTH_BASIC) {
		const char *h = basic_header(c);
		*out = h ? xstrdup(h) : NULL;
		return 0;
	}
	if (c->creds.registry_token) {
		*out = xasprintf("Authorization: Bearer %s", c->creds.registry_token);
		return 0;
	}
	const char *key = scope ? scope : "";
	struct token_entry *e = token_find(c, key);
	if (!e || !e->token || e->expires_ms <= time_mono_ms()) {
		if ((rc = token_fetch(c, key)) < 0)
			return rc;
		e = token_find(c, key);
	}
	*out = xasprintf("Authorization: Bearer %s", e->token);
	return 0;
}

int client_auth_failed(registry_client *c, const struct strlist *challenges,
                       const char *scope, char **scope_out)
{
	enum client_auth before = c->auth;
	struct token_entry *e = token_find(c, scope ? scope : "");
	struct buf merged = BUF_INIT;

	*scope_out = NULL;
	if (e) {
		free(e->token);
		e->token = NULL;
	}
	if (learn_challenge(c, challenges) < 0)
		return RV_EAUTH;
	if (c->auth == AUTH_BASIC)
		return before == AUTH_BASIC ? RV_EAUTH : 0;
	/* A Bearer challenge on a request may name the scope it wants; ask for
	 * ours and that together. */
	buf_addstr(&merged, scope ? scope : "");
	for (size_t i = 0; i < challenges->n; i++) {
		struct auth_challenge *ch = NULL;
		size_t n = 0;
		if (auth_challenge_parse(&ch, &n, challenges->v[i]) < 0)
			continue;
		for (size_t j = 0; j < n; j++) {
			if (strcmp(ch[j].scheme, "bearer") == 0 && ch[j].scope)
				auth_scope_merge(&merged, ch[j].scope);
			auth_challenge_release(&ch[j]);
		}
		free(ch);
	}
	*scope_out = buf_detach(&merged, NULL);
	return 0;
}
