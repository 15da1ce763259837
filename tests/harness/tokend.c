/*
 * rv-tokend — a Docker registry token server for the live tests.
 *
 * Implements the two token endpoints of distribution's auth spec (D28
 * docs/spec/auth/token.md GET, oauth.md POST) closely enough that
 * docker-registry 2.8 accepts the tokens and clients can be tested against
 * both flows, refresh tokens and expiry. Tokens are real JWTs signed ES256
 * with a P-256 key; the header names the key by its libtrust fingerprint
 * ("kid"), which D28 matches against the certificates of its rootcertbundle
 * (oci-notes §7.4).
 *
 * Plain HTTP/1.1 on 127.0.0.1 only, one thread, poll() over up to MAX_CONN
 * keep-alive connections (Go clients keep idle connections open, so a
 * blocking one-connection-at-a-time loop would stall everyone else).
 *
 * Users file: one "user:password:actions[:repo-glob[:expires_in]]" per line,
 * '#' comments; no ':' inside fields. actions is a comma list of pull, push,
 * delete, catalog or '*'; catalog (or '*') grants registry:catalog:*. The
 * optional expires_in gives that user's tokens their own lifetime (tests of
 * token refresh), else --expires-in applies. Anonymous requests get a token
 * with no access at all.
 *
 * Log: one line per token request, never a password or token:
 *   <unix-time> <METHOD> grant=<anonymous|basic|password|refresh_token>
 *   user=<name|-> client=<id|-> status=<code> scopes=<scope> <scope>...
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <jansson.h>
#include <netinet/in.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define MAX_CONN 64
#define MAX_REQUEST (256 * 1024)
#define MAX_USERS 64
#define MAX_REFRESH 1024
#define MAX_SCOPES 32
#define IDLE_SECONDS 60

struct user {
	char name[128];
	char pass[256];
	char actions[256]; /* comma list */
	char glob[256];    /* repositories this user may touch */
	long expires_in;   /* token lifetime for this user; 0 = --expires-in */
};

struct refresh {
	char token[65];
	int user; /* index into users */
};

struct conn {
	int fd;
	char *in;
	size_t len;
	time_t last;
	int continued; /* sent "100 Continue" for the current request */
};

/* A parsed request; pointers into the connection buffer (NUL-terminated). */
struct request {
	char *method, *target, *version;
	const char *authorization, *content_type, *expect;
	const char *connection, *transfer_encoding;
	long content_length;
	char *body;
	size_t body_len;
	int keep_alive;
};

struct params {
	size_t n;
	char *key[64];
	char *val[64];
};

static struct {
	EVP_PKEY *key;
	char kid[64];
	const char *issuer, *service, *log_path;
	long expires_in;
	struct user users[MAX_USERS];
	int nusers;
	struct refresh refresh[MAX_REFRESH];
	int nrefresh;
	FILE *log;
} g = {.expires_in = 300};

static volatile sig_atomic_t stopping;

static void die(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("rv-tokend: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(1);
}

static void on_signal(int sig)
{
	(void)sig;
	stopping = 1;
}

static void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (!p)
		die("out of memory");
	return p;
}

/* ---- encodings ---------------------------------------------------------- */

/* base64url without padding (RFC 7515 §2). `out` needs 4*ceil(n/3)+1. */
static void b64url(const unsigned char *in, size_t n, char *out)
{
	int len = EVP_EncodeBlock((unsigned char *)out, in, (int)n);
	while (len > 0 && out[len - 1] == '=')
		len--;
	out[len] = '\0';
	for (char *p = out; *p; p++) {
		if (*p == '+')
			*p = '-';
		else if (*p == '/')
			*p = '_';
	}
}

static char *b64url_alloc(const void *in, size_t n)
{
	char *out = xmalloc(4 * (n / 3 + 1) + 1);
	b64url(in, n, out);
	return out;
}

/* Percent-decoding in place; '+' is a space in query strings and forms. */
static void url_decode(char *s)
{
	char *w = s;
	for (char *r = s; *r; r++) {
		if (*r == '+') {
			*w++ = ' ';
		} else if (*r == '%' && r[1] && r[2]) {
			char hex[3] = {r[1], r[2], 0};
			char *end;
			long v = strtol(hex, &end, 16);
			if (*end) {
				*w++ = *r;
				continue;
			}
			*w++ = (char)v;
			r += 2;
		} else {
			*w++ = *r;
		}
	}
	*w = '\0';
}

/* Split "a=1&b=2" in place. */
static void parse_params(char *s, struct params *p)
{
	p->n = 0;
	while (s && *s && p->n < 64) {
		char *amp = strchr(s, '&'), *eq;
		if (amp)
			*amp = '\0';
		eq = strchr(s, '=');
		if (eq)
			*eq = '\0';
		url_decode(s);
		if (eq)
			url_decode(eq + 1);
		p->key[p->n] = s;
		p->val[p->n] = eq ? eq + 1 : s + strlen(s);
		p->n++;
		s = amp ? amp + 1 : NULL;
	}
}

static const char *param(const struct params *p, const char *key)
{
	for (size_t i = 0; i < p->n; i++)
		if (!strcmp(p->key[i], key))
			return p->val[i];
	return NULL;
}

/* ---- signing key ---------------------------------------------------------- */

/*
 * libtrust key ID: base32 of the first 240 bits of SHA-256 over the DER
 * SubjectPublicKeyInfo, in 12 colon-separated groups of 4 (docker/libtrust
 * util.go keyIDFromCryptoKey). 30 bytes are exactly 48 base32 characters, so
 * there is never padding to strip.
 */
static void libtrust_kid(EVP_PKEY *key, char out[64])
{
	static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
	unsigned char *der = NULL, md[32];
	unsigned int mdlen = 0;
	char b32[49];
	int derlen = i2d_PUBKEY(key, &der);
	size_t o = 0;

	if (derlen <= 0 || !EVP_Digest(der, (size_t)derlen, md, &mdlen, EVP_sha256(), NULL))
		die("cannot fingerprint the signing key");
	OPENSSL_free(der);
	for (size_t i = 0; i < 30; i += 5) {
		unsigned long long v = 0;
		for (size_t k = 0; k < 5; k++)
			v = v << 8 | md[i + k];
		for (int k = 7; k >= 0; k--)
			b32[o++] = alphabet[(v >> (5 * k)) & 31];
	}
	b32[48] = '\0';
	o = 0;
	for (size_t i = 0; i < 48; i += 4) {
		if (i)
			out[o++] = ':';
		memcpy(out + o, b32 + i, 4);
		o += 4;
	}
	out[o] = '\0';
}

static void load_key(const char *path)
{
	FILE *f = fopen(path, "r");
	char curve[64];
	size_t clen = 0;
	if (!f)
		die("cannot open key \"%s\": %s", path, strerror(errno));
	g.key = PEM_read_PrivateKey(f, NULL, NULL, NULL);
	fclose(f);
	if (!g.key)
		die("\"%s\" holds no private key", path);
	if (EVP_PKEY_get_base_id(g.key) != EVP_PKEY_EC ||
	    !EVP_PKEY_get_utf8_string_param(g.key, "group", curve, sizeof curve, &clen) ||
	    strcmp(curve, "prime256v1") != 0)
		die("\"%s\" is not a P-256 EC key (ES256 needs one)", path);
	libtrust_kid(g.key, g.kid);
}

/* ES256: ECDSA P-256 over SHA-256, signature as raw r||s (RFC 7518 §3.4). */
static char *sign_es256(const char *input)
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	unsigned char der[128], raw[64];
	const unsigned char *p = der;
	size_t derlen = sizeof der;
	ECDSA_SIG *sig = NULL;
	const BIGNUM *r, *s;

	if (!md || EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, g.key) != 1 ||
	    EVP_DigestSign(md, der, &derlen, (const unsigned char *)input, strlen(input)) != 1)
		die("signing failed");
	EVP_MD_CTX_free(md);
	sig = d2i_ECDSA_SIG(NULL, &p, (long)derlen);
	if (!sig)
		die("bad ECDSA signature");
	ECDSA_SIG_get0(sig, &r, &s);
	if (BN_bn2binpad(r, raw, 32) != 32 || BN_bn2binpad(s, raw + 32, 32) != 32)
		die("bad ECDSA signature size");
	ECDSA_SIG_free(sig);
	return b64url_alloc(raw, sizeof raw);
}

static void random_hex(char *out, size_t bytes)
{
	unsigned char r[64];
	static const char hex[] = "0123456789abcdef";
	if (bytes > sizeof r || RAND_bytes(r, (int)bytes) != 1)
		die("RAND_bytes failed");
	for (size_t i = 0; i < bytes; i++) {
		out[2 * i] = hex[r[i] >> 4];
		out[2 * i + 1] = hex[r[i] & 15];
	}
	out[2 * bytes] = '\0';
}

/* A signed token for `sub` (may be ""); takes ownership of `access`. */
static char *make_jwt(const char *sub, json_t *access, long lifetime)
{
	time_t now = time(NULL);
	char jti[33];
	json_t *hdr, *claims;
	char *h, *c, *hb, *cb, *input, *sig, *jwt;
	size_t n;

	random_hex(jti, 16);
	hdr = json_pack("{s:s, s:s, s:s}", "typ", "JWT", "alg", "ES256", "kid", g.kid);
	/* aud is a string: D28 ClaimSet.Audience is a string, an array is rejected */
	claims = json_pack("{s:s, s:s, s:s, s:I, s:I, s:I, s:s, s:o}", "iss", g.issuer, "sub",
			   sub, "aud", g.service, "exp", (json_int_t)(now + lifetime), "nbf",
			   (json_int_t)now, "iat", (json_int_t)now, "jti", jti, "access", access);
	h = json_dumps(hdr, JSON_COMPACT | JSON_PRESERVE_ORDER);
	c = json_dumps(claims, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(hdr);
	json_decref(claims);
	hb = b64url_alloc(h, strlen(h));
	cb = b64url_alloc(c, strlen(c));
	free(h);
	free(c);
	n = strlen(hb) + strlen(cb) + 2;
	input = xmalloc(n);
	snprintf(input, n, "%s.%s", hb, cb);
	sig = sign_es256(input);
	n += strlen(sig) + 1;
	jwt = xmalloc(n);
	snprintf(jwt, n, "%s.%s", input, sig);
	free(hb);
	free(cb);
	free(input);
	free(sig);
	return jwt;
}

/* ---- users and grants -------------------------------------------------------- */

static void copy_field(char *dst, size_t dstsz, const char *src, size_t n, int lineno)
{
	if (n >= dstsz)
		die("users file line %d: field too long", lineno);
	memcpy(dst, src, n);
	dst[n] = '\0';
}

/* Split one users-file line in place: user:password:actions[:glob[:expires]]. */
static void parse_user(char *line, int lineno, struct user *u)
{
	char *f[5] = {line, NULL, NULL, NULL, NULL};
	size_t nf = 1;
	for (char *p = line; *p && nf < 5; p++) {
		if (*p == ':') {
			*p = '\0';
			f[nf++] = p + 1;
		}
	}
	if (nf < 3)
		die("users file line %d: want user:password:actions[:glob[:expires_in]]", lineno);
	copy_field(u->name, sizeof u->name, f[0], strlen(f[0]), lineno);
	copy_field(u->pass, sizeof u->pass, f[1], strlen(f[1]), lineno);
	copy_field(u->actions, sizeof u->actions, f[2], strlen(f[2]), lineno);
	copy_field(u->glob, sizeof u->glob, nf > 3 && *f[3] ? f[3] : "*",
		   nf > 3 && *f[3] ? strlen(f[3]) : 1, lineno);
	u->expires_in = 0;
	if (nf > 4) {
		char *end;
		u->expires_in = strtol(f[4], &end, 10);
		if (*end || u->expires_in < 1 || u->expires_in > 86400)
			die("users file line %d: expires_in wants 1..86400 seconds", lineno);
	}
}

static void load_users(const char *path)
{
	FILE *f = fopen(path, "r");
	char line[1024];
	int lineno = 0;
	if (!f)
		die("cannot open users file \"%s\": %s", path, strerror(errno));
	while (fgets(line, sizeof line, f)) {
		lineno++;
		line[strcspn(line, "\r\n")] = '\0';
		if (!line[0] || line[0] == '#')
			continue;
		if (g.nusers == MAX_USERS)
			die("users file: more than %d users", MAX_USERS);
		parse_user(line, lineno, &g.users[g.nusers++]);
	}
	fclose(f);
}

/* Constant-time-ish compare; it is a test server, but habits matter. */
static int secret_eq(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	unsigned char d = la != lb;
	for (size_t i = 0; i < la && i < lb; i++)
		d |= (unsigned char)(a[i] ^ b[i]);
	return d == 0;
}

/* Returns the user index, -1 unknown user or wrong password. */
static int check_password(const char *name, const char *pass)
{
	for (int i = 0; i < g.nusers; i++)
		if (!strcmp(g.users[i].name, name))
			return secret_eq(g.users[i].pass, pass) ? i : -1;
	return -1;
}

static int has_action(const char *list, const char *action, size_t alen)
{
	const char *p = list;
	while (*p) {
		size_t n = strcspn(p, ",");
		if ((n == 1 && *p == '*') || (n == alen && !strncmp(p, action, alen)))
			return 1;
		p += n;
		if (*p == ',')
			p++;
	}
	return 0;
}

/*
 * One requested scope "type:name:actions" → an access entry with the granted
 * subset, or NULL if nothing is granted. The name may itself contain ':'
 * (host:port/repo), so split on the first and the last colon (scope.md).
 */
static json_t *grant_scope(int user, const char *scope)
{
	const char *c1 = strchr(scope, ':'), *c2 = strrchr(scope, ':');
	const struct user *u;
	json_t *granted;
	char type[64], name[512];

	if (user < 0 || !c1 || c1 == c2)
		return NULL;
	u = &g.users[user];
	if ((size_t)(c1 - scope) >= sizeof type || (size_t)(c2 - c1 - 1) >= sizeof name)
		return NULL;
	memcpy(type, scope, (size_t)(c1 - scope));
	type[c1 - scope] = '\0';
	memcpy(name, c1 + 1, (size_t)(c2 - c1 - 1));
	name[c2 - c1 - 1] = '\0';

	granted = json_array();
	for (const char *p = c2 + 1; *p;) {
		size_t n = strcspn(p, ",");
		int ok;
		if (!strcmp(type, "registry"))
			ok = !strcmp(name, "catalog") && has_action(u->actions, "catalog", 7);
		else
			ok = !strncmp(type, "repository", 10) &&
			     fnmatch(u->glob, name, 0) == 0 && has_action(u->actions, p, n);
		if (ok && n)
			json_array_append_new(granted, json_stringn(p, n));
		p += n;
		if (*p == ',')
			p++;
	}
	if (json_array_size(granted) == 0) {
		json_decref(granted);
		return NULL;
	}
	return json_pack("{s:s, s:s, s:o}", "type", type, "name", name, "actions", granted);
}

/* Scopes come as several values, each possibly space-separated (oauth.md). */
static size_t split_scopes(char **values, size_t nvalues, char **out, size_t max)
{
	size_t n = 0;
	for (size_t i = 0; i < nvalues; i++) {
		char *save = NULL;
		for (char *t = strtok_r(values[i], " ", &save); t && n < max;
		     t = strtok_r(NULL, " ", &save))
			out[n++] = t;
	}
	return n;
}

static json_t *grant_all(int user, char **scopes, size_t n)
{
	json_t *access = json_array();
	for (size_t i = 0; i < n; i++) {
		json_t *a = grant_scope(user, scopes[i]);
		if (a)
			json_array_append_new(access, a);
	}
	return access;
}

static const char *new_refresh_token(int user)
{
	struct refresh *r;
	if (g.nrefresh == MAX_REFRESH) { /* forget the oldest */
		memmove(g.refresh, g.refresh + 1, sizeof g.refresh[0] * (MAX_REFRESH - 1));
		g.nrefresh--;
	}
	r = &g.refresh[g.nrefresh++];
	random_hex(r->token, 32);
	r->user = user;
	return r->token;
}

static int lookup_refresh(const char *token)
{
	for (int i = 0; i < g.nrefresh; i++)
		if (secret_eq(g.refresh[i].token, token))
			return g.refresh[i].user;
	return -1;
}

/* ---- HTTP ---------------------------------------------------------------------- */

static int send_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static const char *reason(int status)
{
	switch (status) {
	case 200: return "OK";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 413: return "Payload Too Large";
	case 501: return "Not Implemented";
	default: return "Error";
	}
}

static int respond(int fd, int status, const char *extra_headers, json_t *body, int keep_alive)
{
	char *b = json_dumps(body, JSON_COMPACT | JSON_PRESERVE_ORDER);
	char head[1024];
	int n, rc;
	json_decref(body);
	if (!b)
		die("json_dumps failed");
	n = snprintf(head, sizeof head,
		     "HTTP/1.1 %d %s\r\nContent-Type: application/json\r\n"
		     "Content-Length: %zu\r\nCache-Control: no-store\r\n%s%s\r\n",
		     status, reason(status), strlen(b), extra_headers ? extra_headers : "",
		     keep_alive ? "" : "Connection: close\r\n");
	rc = (n > 0 && (size_t)n < sizeof head) ? send_all(fd, head, (size_t)n) : -1;
	if (rc == 0)
		rc = send_all(fd, b, strlen(b));
	free(b);
	return rc;
}

static int error_json(int fd, int status, const char *err, const char *desc, int keep_alive)
{
	const char *hdr = status == 401 ? "WWW-Authenticate: Basic realm=\"rv-tokend\"\r\n" : NULL;
	return respond(fd, status, hdr,
		       json_pack("{s:s, s:s}", "error", err, "error_description", desc),
		       keep_alive);
}

static void log_request(const char *method, const char *grant, const char *user,
			const char *client, int status, char **scopes, size_t n)
{
	if (!g.log)
		return;
	fprintf(g.log, "%lld %s grant=%s user=%s client=%s status=%d scopes=", (long long)time(NULL),
		method, grant, user && *user ? user : "-", client && *client ? client : "-", status);
	for (size_t i = 0; i < n; i++)
		fprintf(g.log, "%s%s", i ? " " : "", scopes[i]);
	fputc('\n', g.log);
	fflush(g.log);
}

/* Decode "Basic <b64>" into user and password; 0 on success. */
static int basic_credentials(const char *auth, char *user, size_t usz, char *pass, size_t psz)
{
	unsigned char dec[768];
	const char *b64;
	size_t len, pad = 0;
	int n;
	char *colon;

	if (strncasecmp(auth, "Basic ", 6) != 0)
		return -1;
	b64 = auth + 6;
	while (*b64 == ' ')
		b64++;
	len = strlen(b64);
	if (len == 0 || len % 4 || len / 4 * 3 >= sizeof dec)
		return -1;
	n = EVP_DecodeBlock(dec, (const unsigned char *)b64, (int)len);
	if (n < 0)
		return -1;
	while (pad < 2 && b64[len - 1 - pad] == '=')
		pad++;
	n -= (int)pad;
	dec[n] = '\0';
	colon = strchr((char *)dec, ':');
	if (!colon || (size_t)(colon - (char *)dec) >= usz || strlen(colon + 1) >= psz)
		return -1;
	*colon = '\0';
	memcpy(user, dec, (size_t)(colon - (char *)dec) + 1);
	memcpy(pass, colon + 1, strlen(colon + 1) + 1);
	return 0;
}

static long lifetime_of(int uid)
{
	return uid >= 0 && g.users[uid].expires_in ? g.users[uid].expires_in : g.expires_in;
}

static int check_service(const char *service)
{
	return !service || !strcmp(service, g.service);
}

/* GET /token?service=..&scope=..&scope=..[&offline_token=true] (token.md) */
static int handle_get(int fd, const struct request *rq, struct params *q)
{
	char user[128] = "", pass[256] = "";
	char *values[64], *scopes[MAX_SCOPES];
	size_t nv = 0, ns;
	int uid = -1, rc;
	const char *grant = "anonymous";
	const char *offline = param(q, "offline_token"), *client = param(q, "client_id");
	json_t *body;

	for (size_t i = 0; i < q->n; i++)
		if (!strcmp(q->key[i], "scope"))
			values[nv++] = q->val[i];
	ns = split_scopes(values, nv, scopes, MAX_SCOPES);
	if (rq->authorization) {
		grant = "basic";
		if (basic_credentials(rq->authorization, user, sizeof user, pass, sizeof pass) != 0 ||
		    (uid = check_password(user, pass)) < 0) {
			log_request("GET", grant, user, client, 401, scopes, ns);
			return error_json(fd, 401, "invalid_grant", "bad credentials",
					  rq->keep_alive);
		}
	}
	if (!check_service(param(q, "service"))) {
		log_request("GET", grant, user, client, 400, scopes, ns);
		return error_json(fd, 400, "invalid_request", "unknown service", rq->keep_alive);
	}
	long lifetime = lifetime_of(uid);
	char *jwt = make_jwt(uid >= 0 ? g.users[uid].name : "", grant_all(uid, scopes, ns),
			     lifetime);
	char issued[32];
	time_t now = time(NULL);
	struct tm tm;
	gmtime_r(&now, &tm);
	strftime(issued, sizeof issued, "%Y-%m-%dT%H:%M:%SZ", &tm);
	body = json_pack("{s:s, s:s, s:I, s:s}", "token", jwt, "access_token", jwt, "expires_in",
			 (json_int_t)lifetime, "issued_at", issued);
	if (uid >= 0 && offline && !strcmp(offline, "true"))
		json_object_set_new(body, "refresh_token", json_string(new_refresh_token(uid)));
	free(jwt);
	log_request("GET", grant, user, client, 200, scopes, ns);
	rc = respond(fd, 200, NULL, body, rq->keep_alive);
	return rc;
}

/* POST /token, OAuth2 form: grant_type=password|refresh_token (oauth.md) */
static int handle_post(int fd, const struct request *rq, struct params *f)
{
	const char *gt = param(f, "grant_type"), *client = param(f, "client_id");
	const char *access_type = param(f, "access_type");
	char *scope = (char *)param(f, "scope");
	char *scopes[MAX_SCOPES], scope_echo[2048];
	size_t ns = 0;
	int uid = -1, refresh = 0;
	const char *name = NULL;
	json_t *body;

	snprintf(scope_echo, sizeof scope_echo, "%s", scope ? scope : "");
	if (scope)
		ns = split_scopes(&scope, 1, scopes, MAX_SCOPES);
	if (!rq->content_type || strncasecmp(rq->content_type,
					     "application/x-www-form-urlencoded", 33) != 0) {
		log_request("POST", "-", NULL, client, 400, scopes, ns);
		return error_json(fd, 400, "invalid_request", "want a form body", rq->keep_alive);
	}
	if (gt && !strcmp(gt, "password")) {
		const char *u = param(f, "username"), *p = param(f, "password");
		name = u;
		uid = (u && p) ? check_password(u, p) : -1;
	} else if (gt && !strcmp(gt, "refresh_token")) {
		const char *t = param(f, "refresh_token");
		refresh = 1;
		uid = t ? lookup_refresh(t) : -1;
		name = uid >= 0 ? g.users[uid].name : NULL;
	} else {
		log_request("POST", gt ? gt : "-", NULL, client, 400, scopes, ns);
		return error_json(fd, 400, "unsupported_grant_type", "grant_type", rq->keep_alive);
	}
	if (uid < 0) {
		log_request("POST", gt, name, client, 401, scopes, ns);
		return error_json(fd, 401, "invalid_grant", "bad credentials", rq->keep_alive);
	}
	if (!param(f, "service") || !check_service(param(f, "service"))) {
		log_request("POST", gt, name, client, 400, scopes, ns);
		return error_json(fd, 400, "invalid_request", "service", rq->keep_alive);
	}
	char *jwt = make_jwt(g.users[uid].name, grant_all(uid, scopes, ns), lifetime_of(uid));
	body = json_pack("{s:s, s:s, s:I}", "access_token", jwt, "scope", scope_echo, "expires_in",
			 (json_int_t)lifetime_of(uid));
	free(jwt);
	if (refresh)
		json_object_set_new(body, "refresh_token", json_string(param(f, "refresh_token")));
	else if (access_type && !strcmp(access_type, "offline"))
		json_object_set_new(body, "refresh_token", json_string(new_refresh_token(uid)));
	log_request("POST", gt, name, client, 200, scopes, ns);
	return respond(fd, 200, NULL, body, rq->keep_alive);
}

static int route(int fd, struct request *rq)
{
	char *query = strchr(rq->target, '?');
	struct params p;
	if (query)
		*query++ = '\0';
	if (strcmp(rq->target, "/token") != 0)
		return error_json(fd, 404, "not_found", "only /token here", rq->keep_alive);
	if (!strcmp(rq->method, "GET")) {
		parse_params(query, &p);
		return handle_get(fd, rq, &p);
	}
	if (!strcmp(rq->method, "POST")) {
		parse_params(rq->body, &p);
		return handle_post(fd, rq, &p);
	}
	return error_json(fd, 405, "invalid_request", "GET or POST", rq->keep_alive);
}

/*
 * Parse the head at c->in (already NUL-terminated at the blank line).
 * Returns 0, or -1 for a malformed request.
 */
static int parse_head(char *head, struct request *rq)
{
	char *save = NULL, *line = strtok_r(head, "\r\n", &save);
	char *sp1, *sp2;
	memset(rq, 0, sizeof *rq);
	if (!line || !(sp1 = strchr(line, ' ')) || !(sp2 = strchr(sp1 + 1, ' ')))
		return -1;
	*sp1 = *sp2 = '\0';
	rq->method = line;
	rq->target = sp1 + 1;
	rq->version = sp2 + 1;
	while ((line = strtok_r(NULL, "\r\n", &save))) {
		char *colon = strchr(line, ':'), *v;
		if (!colon)
			return -1;
		*colon = '\0';
		for (v = colon + 1; *v == ' ' || *v == '\t'; v++)
			;
		if (!strcasecmp(line, "Authorization"))
			rq->authorization = v;
		else if (!strcasecmp(line, "Content-Type"))
			rq->content_type = v;
		else if (!strcasecmp(line, "Content-Length")) {
			char *end;
			rq->content_length = strtol(v, &end, 10);
			if (*end || rq->content_length < 0)
				return -1;
		} else if (!strcasecmp(line, "Connection"))
			rq->connection = v;
		else if (!strcasecmp(line, "Transfer-Encoding"))
			rq->transfer_encoding = v;
		else if (!strcasecmp(line, "Expect"))
			rq->expect = v;
	}
	if (!strcmp(rq->version, "HTTP/1.1"))
		rq->keep_alive = !(rq->connection && !strcasecmp(rq->connection, "close"));
	else
		rq->keep_alive = rq->connection && !strcasecmp(rq->connection, "keep-alive");
	return 0;
}

/* Handle every complete request in the buffer. Returns -1 to close. */
static int serve_buffer(struct conn *c)
{
	for (;;) {
		struct request rq;
		char *end;
		size_t head_len, total;
		int rc;

		if (c->len == 0)
			return 0;
		c->in[c->len] = '\0';
		end = strstr(c->in, "\r\n\r\n");
		if (!end)
			return c->len >= MAX_REQUEST ? -1 : 0;
		head_len = (size_t)(end - c->in) + 4;
		/* parse a copy: strtok_r writes NULs into the head */
		char *head = xmalloc(head_len + 1);
		memcpy(head, c->in, head_len);
		head[head_len - 2] = '\0';
		if (parse_head(head, &rq) != 0) {
			free(head);
			error_json(c->fd, 400, "invalid_request", "malformed request", 0);
			return -1;
		}
		if (rq.transfer_encoding) {
			free(head);
			error_json(c->fd, 501, "invalid_request", "no chunked bodies here", 0);
			return -1;
		}
		if ((size_t)rq.content_length > MAX_REQUEST - head_len) {
			free(head);
			error_json(c->fd, 413, "invalid_request", "body too large", 0);
			return -1;
		}
		total = head_len + (size_t)rq.content_length;
		if (c->len < total) {
			if (rq.expect && !strcasecmp(rq.expect, "100-continue") && !c->continued) {
				static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";
				c->continued = 1;
				if (send_all(c->fd, cont, sizeof cont - 1) != 0) {
					free(head);
					return -1;
				}
			}
			free(head);
			return 0;
		}
		rq.body = xmalloc((size_t)rq.content_length + 1);
		memcpy(rq.body, c->in + head_len, (size_t)rq.content_length);
		rq.body[rq.content_length] = '\0';
		rq.body_len = (size_t)rq.content_length;
		rc = route(c->fd, &rq);
		free(rq.body);
		free(head);
		memmove(c->in, c->in + total, c->len - total);
		c->len -= total;
		c->continued = 0;
		if (rc != 0 || !rq.keep_alive)
			return -1;
	}
}

static void conn_close(struct conn *c)
{
	close(c->fd);
	free(c->in);
	memset(c, 0, sizeof *c);
	c->fd = -1;
}

static int listen_loopback(int *port)
{
	struct sockaddr_in a;
	socklen_t alen = sizeof a;
	int one = 1, fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		die("socket: %s", strerror(errno));
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	memset(&a, 0, sizeof a);
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	a.sin_port = 0;
	if (bind(fd, (struct sockaddr *)&a, sizeof a) != 0 || listen(fd, 64) != 0 ||
	    getsockname(fd, (struct sockaddr *)&a, &alen) != 0)
		die("listen on 127.0.0.1: %s", strerror(errno));
	*port = ntohs(a.sin_port);
	return fd;
}

/* Write the port via a temporary file and rename, so readers never see half. */
static void write_port_file(const char *path, int port)
{
	char tmp[4096];
	FILE *f;
	snprintf(tmp, sizeof tmp, "%s.tmp", path);
	f = fopen(tmp, "w");
	if (!f || fprintf(f, "%d\n", port) < 0 || fclose(f) != 0 || rename(tmp, path) != 0)
		die("cannot write port file \"%s\": %s", path, strerror(errno));
}

static void accept_one(int lfd, struct conn *conns)
{
	struct timeval tv = {5, 0};
	int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	if (fd < 0)
		return;
	/* a client that stops reading must not wedge the loop */
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
	for (int i = 0; i < MAX_CONN; i++) {
		if (conns[i].fd < 0) {
			conns[i].fd = fd;
			conns[i].in = xmalloc(MAX_REQUEST + 1);
			conns[i].len = 0;
			conns[i].last = time(NULL);
			return;
		}
	}
	close(fd); /* full: the client retries */
}

static void read_one(struct conn *c)
{
	ssize_t r = recv(c->fd, c->in + c->len, MAX_REQUEST - c->len, 0);
	if (r < 0 && errno == EINTR)
		return;
	if (r <= 0) {
		conn_close(c);
		return;
	}
	c->len += (size_t)r;
	c->last = time(NULL);
	if (serve_buffer(c) != 0)
		conn_close(c);
}

static void serve(int lfd)
{
	struct conn conns[MAX_CONN];
	struct pollfd pfd[MAX_CONN + 1];
	for (int i = 0; i < MAX_CONN; i++)
		conns[i].fd = -1;
	while (!stopping) {
		int idx[MAX_CONN + 1], n = 1;
		time_t now = time(NULL);
		pfd[0].fd = lfd;
		pfd[0].events = POLLIN;
		for (int i = 0; i < MAX_CONN; i++) {
			if (conns[i].fd < 0)
				continue;
			if (now - conns[i].last > IDLE_SECONDS) {
				conn_close(&conns[i]);
				continue;
			}
			pfd[n].fd = conns[i].fd;
			pfd[n].events = POLLIN;
			idx[n++] = i;
		}
		if (poll(pfd, (nfds_t)n, 1000) <= 0)
			continue; /* timeout or EINTR: re-check `stopping` */
		for (int k = 1; k < n; k++)
			if (pfd[k].revents)
				read_one(&conns[idx[k]]);
		if (pfd[0].revents & POLLIN)
			accept_one(lfd, conns);
	}
	for (int i = 0; i < MAX_CONN; i++)
		if (conns[i].fd >= 0)
			conn_close(&conns[i]);
}

static void usage(void)
{
	fputs("usage: rv-tokend --key EC_P256.pem --users FILE --port-file FILE\n"
	      "                 --issuer ISSUER --service SERVICE [--log FILE] [--expires-in SEC]\n",
	      stderr);
	exit(2);
}

int main(int argc, char **argv)
{
	const char *key = NULL, *users = NULL, *port_file = NULL;
	struct sigaction sa;
	int lfd, port;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (i + 1 >= argc)
			usage();
		if (!strcmp(a, "--key"))
			key = argv[++i];
		else if (!strcmp(a, "--users"))
			users = argv[++i];
		else if (!strcmp(a, "--port-file"))
			port_file = argv[++i];
		else if (!strcmp(a, "--issuer"))
			g.issuer = argv[++i];
		else if (!strcmp(a, "--service"))
			g.service = argv[++i];
		else if (!strcmp(a, "--log"))
			g.log_path = argv[++i];
		else if (!strcmp(a, "--expires-in")) {
			char *end;
			g.expires_in = strtol(argv[++i], &end, 10);
			if (*end || g.expires_in < 1 || g.expires_in > 86400)
				die("--expires-in: want 1..86400 seconds");
		} else
			usage();
	}
	if (!key || !users || !port_file || !g.issuer || !g.service)
		usage();
	load_key(key);
	load_users(users);
	if (g.log_path && !(g.log = fopen(g.log_path, "a")))
		die("cannot open log \"%s\": %s", g.log_path, strerror(errno));

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	lfd = listen_loopback(&port);
	write_port_file(port_file, port);
	fprintf(stderr, "rv-tokend: listening on 127.0.0.1:%d kid=%s\n", port, g.kid);
	serve(lfd);
	close(lfd);
	if (g.log)
		fclose(g.log);
	EVP_PKEY_free(g.key);
	return 0;
}
