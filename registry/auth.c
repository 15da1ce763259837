/*
 * auth.c — WWW-Authenticate challenges, scopes and token responses.
 *
 * Everything here parses what a registry or token server sent us, so it
 * is written for hostile input (fuzz/fuzz_www_authenticate.c) and never
 * puts a response body into an error message: it may hold a token.
 */
#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "registry/auth.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/strlist.h"
#include "util/xalloc.h"
#include "util/banned.h"

/* A token server answer is a few KiB; containers/image reads at most 1 MiB. */
#define TOKEN_BODY_MAX (1024 * 1024)
/* distribution token.md: "at least 60 seconds"; older servers omit it. */
#define TOKEN_DEFAULT_LIFETIME 60
/* Keeps now + expires_in far from int64 overflow in the caller. */
#define TOKEN_MAX_LIFETIME INT32_MAX

/* --- Challenges --------------------------------------------------------- */

/* RFC 7230 §3.2.6 tchar. */
static int is_tchar(unsigned char c)
{
	return isalnum(c) || (c && strchr("!#$%&'*+-.^_`|~", c));
}

/* RFC 7235 §2.1 token68 characters, before the trailing '='s. */
static int is_token68_char(unsigned char c)
{
	return isalnum(c) || (c && strchr("-._~+/", c));
}

static int is_ows(unsigned char c)
{
	return c == ' ' || c == '\t';
}

static const char *skip_ows(const char *p)
{
	while (is_ows((unsigned char)*p))
		p++;
	return p;
}

static const char *skip_token(const char *p)
{
	while (is_tchar((unsigned char)*p))
		p++;
	return p;
}

/*
 * Error recovery: skips to the next ',' that is not inside a quoted
 * string, so one malformed parameter costs only itself.
 */
static const char *skip_element(const char *p)
{
	int quoted = 0;

	for (; *p; p++) {
		if (quoted && *p == '\\' && p[1])
			p++;
		else if (*p == '"')
			quoted = !quoted;
		else if (!quoted && *p == ',')
			break;
	}
	return p;
}

/*
 * 1 when p starts a token68 that fills the rest of its list element
 * ("Negotiate YIIG...==", "Basic dXNlcjpw"): 1*token68-char *"=" OWS
 * then ',' or the end. We accept it and ignore it: registries do not use it.
 */
static int at_token68(const char *p, const char **end)
{
	const char *q = p;

	while (is_token68_char((unsigned char)*q))
		q++;
	if (q == p)
		return 0;
	while (*q == '=')
		q++;
	q = skip_ows(q);
	if (*q && *q != ',')
		return 0;
	*end = q;
	return 1;
}

/*
 * Parses a quoted-string at p (which points at the opening '"') into a new
 * string. NULL on an unterminated string or a control character (qdtext
 * excludes CTLs; a CR/LF in a realm would be a header-injection attempt).
 */
static char *parse_quoted(const char *p, const char **end)
{
	struct buf b = BUF_INIT;

	for (p++; *p && *p != '"'; p++) {
		unsigned char c;

		if (*p == '\\' && p[1])
			p++;
		c = (unsigned char)*p;
		if ((c < 0x20 && c != '\t') || c == 0x7f) {
			buf_release(&b);
			return NULL;
		}
		buf_addch(&b, (char)c);
	}
	if (*p != '"') {
		buf_release(&b);
		return NULL;
	}
	*end = p + 1;
	return buf_detach(&b, NULL);
}

/*
 * An unquoted value. RFC 7235 says token, but some servers send URLs bare
 * (realm=https://host/token), so we take any run of visible characters
 * other than ',' and '"' rather than stop at the ':' and keep "https".
 */
static char *parse_bare(const char *p, const char **end)
{
	const char *q = p;

	while ((unsigned char)*q > 0x20 && (unsigned char)*q != 0x7f && *q != ',' &&
	       *q != '"')
		q++;
	if (q == p)
		return NULL;
	*end = q;
	return xstrndup(p, (size_t)(q - p));
}

static char **param_slot(struct auth_challenge *c, const char *name, size_t len)
{
	static const struct {
		const char *name;
		size_t off;
	} known[] = {
		{ "realm", offsetof(struct auth_challenge, realm) },
		{ "service", offsetof(struct auth_challenge, service) },
		{ "scope", offsetof(struct auth_challenge, scope) },
		{ "error", offsetof(struct auth_challenge, error) },
	};

	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
		if (strlen(known[i].name) == len && !strncasecmp(known[i].name, name, len))
			return (char **)(void *)((char *)c + known[i].off);
	return NULL;
}

/*
 * One auth-param at p: token BWS "=" BWS (token / quoted-string), then OWS
 * up to ',' or the end. Stores it in c when c knows the name and does not
 * have it yet (duplicates: first wins, as Go's and curl's parsers do).
 * Returns where parsing stopped, or NULL on a syntax error.
 */
static const char *parse_param(struct auth_challenge *c, const char *p)
{
	const char *name = p, *name_end = skip_token(p);
	char *value, **slot;

	if (name_end == name)
		return NULL;
	p = skip_ows(name_end);
	if (*p != '=')
		return NULL;
	p = skip_ows(p + 1);
	value = *p == '"' ? parse_quoted(p, &p) : parse_bare(p, &p);
	if (!value)
		return NULL;
	slot = c ? param_slot(c, name, (size_t)(name_end - name)) : NULL;
	if (slot && !*slot)
		*slot = value;
	else
		free(value);
	/* Junk after a complete value ('realm="a" b'): keep the value, let the
	 * caller resynchronise at the next comma. */
	p = skip_ows(p);
	return *p && *p != ',' ? NULL : p;
}

static struct auth_challenge *add_challenge(struct auth_challenge **v, size_t *n,
                                            size_t *alloc, const char *scheme, size_t len)
{
	struct auth_challenge *c;

	*v = xgrow(*v, sizeof(**v), *n + 1, alloc);
	c = &(*v)[(*n)++];
	memset(c, 0, sizeof(*c));
	c->scheme = xstrndup(scheme, len);
	for (char *s = c->scheme; *s; s++)
		*s = (char)tolower((unsigned char)*s);
	return c;
}

/*
 * One element of the comma-separated list at p (not at ',' or the end).
 * RFC 7235 §4.1 lets a comma separate both challenges and the parameters of
 * one challenge; an element is a parameter when its token is followed by
 * BWS "=", else it starts a new challenge (scheme, then optionally one
 * parameter or a token68 after whitespace). A bare "abc==" is a token68.
 */
static const char *parse_element(struct auth_challenge **v, size_t *n, size_t *alloc,
                                 struct auth_challenge **cur, const char *p)
{
	const char *tok_end = skip_token(p), *q, *end;

	if (tok_end == p)
		return NULL;
	q = skip_ows(tok_end);
	if (*q == '=') {
		if (at_token68(p, &end))
			return end;
		return *cur ? parse_param(*cur, p) : NULL;
	}
	*cur = add_challenge(v, n, alloc, p, (size_t)(tok_end - p));
	if (!*q || *q == ',')
		return q;
	if (q == tok_end)   /* "Bearer\"x\"": the scheme must end in whitespace */
		return NULL;
	if (at_token68(q, &end))
		return end;
	return parse_param(*cur, q);
}

int auth_challenge_parse(struct auth_challenge **out, size_t *n, const char *value)
{
	struct auth_challenge *v = NULL, *cur = NULL;
	size_t count = 0, alloc = 0;
	const char *p = value ? value : "";

	*out = NULL;
	*n = 0;
	for (;;) {
		const char *next;

		while (*p == ',' || is_ows((unsigned char)*p))
			p++;
		if (!*p)
			break;
		next = parse_element(&v, &count, &alloc, &cur, p);
		p = next ? next : skip_element(p);
		if (*p && *p != ',') /* parse_element stops only at ',' or the end */
			p = skip_element(p);
	}
	if (!count) {
		free(v);
		return error_set(RV_EINVALID, "WWW-Authenticate header holds no challenge");
	}
	*out = v;
	*n = count;
	return 0;
}

void auth_challenge_release(struct auth_challenge *c)
{
	if (!c)
		return;
	free(c->scheme);
	free(c->realm);
	free(c->service);
	free(c->scope);
	free(c->error);
	memset(c, 0, sizeof(*c));
}

/* --- Scopes ------------------------------------------------------------- */

char *auth_scope_repository(const char *repo, const char *actions)
{
	return xasprintf("repository:%s:%s", repo, actions);
}

/*
 * One scope of a set, split for merging. scope.md: resourcetype ":"
 * resourcename ":" actions, where the name may hold "host:port/", so the
 * resource runs up to the last ':'. A scope with fewer than two colons is
 * kept verbatim (opaque): we pass on what we cannot read.
 */
struct scope_item {
	char *resource;       /* "repository:host:5000/app", or the opaque scope */
	const char *actions;  /* points into resource's allocation; NULL if opaque */
};

struct scope_items {
	struct scope_item *v;
	size_t n, alloc;
};

static void scope_add_one(struct scope_items *s, const char *start, size_t len)
{
	struct scope_item *it;
	char *first, *last;

	s->v = xgrow(s->v, sizeof(*s->v), s->n + 1, &s->alloc);
	it = &s->v[s->n++];
	it->resource = xstrndup(start, len);
	it->actions = NULL;
	first = strchr(it->resource, ':');
	last = strrchr(it->resource, ':');
	if (first && first != last) {
		*last = '\0';
		it->actions = last + 1;
	}
}

/* The next whitespace-separated word of a scope list: its start and
 * length, advancing *p past it; NULL at the end. */
static const char *next_word(const char **p, size_t *len)
{
	const char *q = *p, *start;

	while (*q && isspace((unsigned char)*q))
		q++;
	if (!*q)
		return NULL;
	start = q;
	while (*q && !isspace((unsigned char)*q))
		q++;
	*len = (size_t)(q - start);
	*p = q;
	return start;
}

static void scope_add_list(struct scope_items *s, const char *list)
{
	const char *p = list ? list : "", *w;
	size_t n;

	while ((w = next_word(&p, &n)))
		scope_add_one(s, w, n);
}

/* Parsed scopes first by resource, opaque ones apart: groups are adjacent. */
static int scope_item_cmp(const void *a, const void *b)
{
	const struct scope_item *x = a, *y = b;
	int c = strcmp(x->resource, y->resource);

	if (c)
		return c;
	return (x->actions == NULL) - (y->actions == NULL);
}

/* Appends the union of the actions of items [i, j) to l, sorted, unique. */
static void scope_union_actions(struct strlist *l, const struct scope_item *v, size_t i,
                                size_t j)
{
	struct strlist all = STRLIST_INIT;

	for (; i < j; i++) {
		const char *p = v[i].actions;

		while (*p) {
			size_t len = strcspn(p, ",");

			if (len)
				strlist_add_owned(&all, xstrndup(p, len));
			p += len + (p[len] ? 1 : 0);
		}
	}
	strlist_sort(&all);
	for (size_t k = 0; k < all.n; k++)
		if (!k || strcmp(all.v[k], all.v[k - 1]))
			strlist_add(l, all.v[k]);
	strlist_release(&all);
}

/*
 * Merges items with the same resource, actions unioned and sorted, then
 * sorts the scopes: equal sets give equal strings (token cache keys).
 * Sorting first keeps this O(n log n) on a hostile 100 KiB scope list.
 */
static char *scope_format(struct scope_items *s)
{
	struct strlist out = STRLIST_INIT;
	struct buf b = BUF_INIT;
	size_t i = 0;

	if (s->n)
		qsort(s->v, s->n, sizeof(*s->v), scope_item_cmp);
	while (i < s->n) {
		struct strlist actions = STRLIST_INIT;
		size_t j = i + 1;

		while (j < s->n && !scope_item_cmp(&s->v[i], &s->v[j]))
			j++;
		if (!s->v[i].actions) {
			strlist_add(&out, s->v[i].resource);
			i = j;
			continue;
		}
		scope_union_actions(&actions, s->v, i, j);
		if (actions.n) { /* "repository:a:" grants nothing: drop it */
			buf_addstr(&b, s->v[i].resource);
			for (size_t k = 0; k < actions.n; k++)
				buf_addf(&b, "%c%s", k ? ',' : ':', actions.v[k]);
			strlist_add_owned(&out, buf_detach(&b, NULL));
		}
		strlist_release(&actions);
		i = j;
	}
	strlist_sort(&out);
	for (i = 0; i < out.n; i++)
		buf_addf(&b, "%s%s", i ? " " : "", out.v[i]);
	strlist_release(&out);
	return buf_detach(&b, NULL);
}

int auth_scope_merge(struct buf *set, const char *add)
{
	struct scope_items s = { NULL, 0, 0 };
	char *merged;
	int ret;

	scope_add_list(&s, buf_cstr(set));
	scope_add_list(&s, add);
	merged = scope_format(&s);
	for (size_t i = 0; i < s.n; i++)
		free(s.v[i].resource);
	free(s.v);

	/* Leave set unchanged when the result does not fit its cap. */
	if (set->max && strlen(merged) > set->max) {
		free(merged);
		return error_set(RV_ETOOBIG, "token scope list over %zu bytes", set->max);
	}
	buf_reset(set);
	ret = buf_addstr(set, merged);
	free(merged);
	return ret;
}

/* --- Tokens ------------------------------------------------------------- */

static char *json_nonempty_string(json_t *obj, const char *key)
{
	const char *s = json_string_value(json_object_get(obj, key));

	return s && *s ? xstrdup(s) : NULL;
}

/* A token goes into "Authorization: Bearer <token>" as it is: a CR or LF
 * in it would start a header of the token server's choosing. */
static int has_control(const char *s)
{
	for (; s && *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return 1;
	return 0;
}

/* token.md: expires_in defaults to 60 s when absent. A smaller positive
 * value is honoured, not raised to 60 as some clients do: a token used past
 * its real expiry costs a 401 and, mid-upload, a re-sent blob. */
static int64_t token_lifetime(json_t *v)
{
	double d;

	if (json_is_integer(v))
		d = (double)json_integer_value(v);
	else if (json_is_real(v))
		d = json_real_value(v);
	else
		return TOKEN_DEFAULT_LIFETIME;
	if (!(d >= 1))   /* zero, negative, NaN: the default */
		return TOKEN_DEFAULT_LIFETIME;
	if (d > TOKEN_MAX_LIFETIME)
		return TOKEN_MAX_LIFETIME;
	return (int64_t)d;
}

int auth_token_parse(struct auth_token *out, const char *body, size_t len)
{
	json_error_t jerr;
	json_t *root;

	memset(out, 0, sizeof(*out));
	if (len > TOKEN_BODY_MAX)
		return error_set(RV_ETOOBIG, "token response over %d bytes", TOKEN_BODY_MAX);
	root = json_loadb(body ? body : "", len, 0, &jerr);
	/* jerr.text quotes the input ("near '…'"): give only the position. */
	if (!root)
		return error_set(RV_EINVALID, "token response is not JSON (line %d, column %d)",
		                 jerr.line, jerr.column);
	if (!json_is_object(root)) {
		json_decref(root);
		return error_set(RV_EINVALID, "token response is not a JSON object");
	}
	out->token = json_nonempty_string(root, "token");
	if (!out->token)
		out->token = json_nonempty_string(root, "access_token");
	if (!out->token) {
		json_decref(root);
		return error_set(RV_EINVALID,
		                 "token response holds neither \"token\" nor \"access_token\"");
	}
	out->refresh_token = json_nonempty_string(root, "refresh_token");
	out->expires_in = token_lifetime(json_object_get(root, "expires_in"));
	json_decref(root);
	if (has_control(out->token) || has_control(out->refresh_token)) {
		auth_token_release(out);
		return error_set(RV_EINVALID, "token response: a token holds a control character");
	}
	return 0;
}

void auth_token_release(struct auth_token *t)
{
	if (!t)
		return;
	free(t->token);
	free(t->refresh_token);
	memset(t, 0, sizeof(*t));
}

/* RFC 3986 §2.3: only unreserved characters stay as they are. */
static void url_encode(struct buf *b, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";

	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
			buf_addch(b, (char)c);
		} else {
			buf_addch(b, '%');
			buf_addch(b, hex[c >> 4]);
			buf_addch(b, hex[c & 15]);
		}
	}
}

static void add_query_param(struct buf *b, char *sep, const char *name, const char *value)
{
	if (*sep)
		buf_addch(b, *sep);
	*sep = '&';
	buf_addstr(b, name);
	buf_addch(b, '=');
	url_encode(b, value);
}

char *auth_token_url(const char *realm, const char *service, const char *scopes)
{
	struct buf b = BUF_INIT;
	const char *p = scopes ? scopes : "", *w;
	size_t n;
	char sep;

	buf_addstr(&b, realm);
	/* The realm may carry its own query ("…/token?account=x"). */
	if (!strchr(realm, '?'))
		sep = '?';
	else if (b.len && (b.ptr[b.len - 1] == '?' || b.ptr[b.len - 1] == '&'))
		sep = 0;
	else
		sep = '&';
	if (service && *service)
		add_query_param(&b, &sep, "service", service);
	/* token.md: one scope parameter per scope, not one space-joined list. */
	while ((w = next_word(&p, &n))) {
		char *one = xstrndup(w, n);
		add_query_param(&b, &sep, "scope", one);
		free(one);
	}
	return buf_detach(&b, NULL);
}

/* "a  b\tc" → "a b c": the form's scope is one space-separated field. */
static char *join_scopes(const char *scopes)
{
	struct buf b = BUF_INIT;
	const char *p = scopes ? scopes : "", *w;
	size_t n;

	while ((w = next_word(&p, &n))) {
		if (b.len)
			buf_addch(&b, ' ');
		buf_add(&b, w, n);
	}
	return buf_detach(&b, NULL);
}

/*
 * oauth.md: grant_type=refresh_token with client_id and service required,
 * scope a single space-separated field. Spaces are sent as %20, which
 * every form decoder reads the same as '+'.
 */
char *auth_token_form(const char *service, const char *scopes, const char *refresh_token)
{
	struct buf b = BUF_INIT;
	char sep = 0;
	char *joined = join_scopes(scopes);

	add_query_param(&b, &sep, "grant_type", "refresh_token");
	if (service && *service)
		add_query_param(&b, &sep, "service", service);
	add_query_param(&b, &sep, "client_id", "regvault");
	add_query_param(&b, &sep, "refresh_token", refresh_token ? refresh_token : "");
	if (*joined)
		add_query_param(&b, &sep, "scope", joined);
	free(joined);
	return buf_detach(&b, NULL);
}
