/*
 * redact.c — makes HTTP trace output safe to log (git's GIT_TRACE_REDACT).
 *
 * Trace data is whatever curl hands us: header blocks, truncated bodies,
 * HTML error pages. Nothing here parses strictly; it scans, and errs on
 * the side of hiding too much.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "registry/auth.h"
#include "registry/registry.h"
#include "util/buf.h"
#include "util/xalloc.h"
#include "util/banned.h"

#define REDACTED "<redacted>"

/* JSON members and form fields whose values are secrets (compared ASCII
 * case-insensitively: "Secret" from credential helpers, "Password"…). */
static const char *const secret_names[] = {
	"token", "access_token", "refresh_token", "password", "identitytoken", "secret",
};

static int is_secret_name(const char *name, size_t len)
{
	for (size_t i = 0; i < sizeof(secret_names) / sizeof(secret_names[0]); i++)
		if (strlen(secret_names[i]) == len && !strncasecmp(secret_names[i], name, len))
			return 1;
	return 0;
}

/* --- Headers ------------------------------------------------------------ */

enum header_kind { HDR_OTHER, HDR_AUTH, HDR_COOKIE, HDR_URL };

static enum header_kind header_kind(const char *name, size_t len)
{
	if ((len == 13 && !strncasecmp(name, "authorization", len)) ||
	    (len == 19 && !strncasecmp(name, "proxy-authorization", len)))
		return HDR_AUTH;
	/* Cookies carry sessions as surely as Authorization does (git redacts them too). */
	if ((len == 6 && !strncasecmp(name, "cookie", len)) ||
	    (len == 10 && !strncasecmp(name, "set-cookie", len)))
		return HDR_COOKIE;
	/* Redirects to object storage carry pre-signed URLs: a signature
	 * is a credential for that blob while it lasts. */
	if ((len == 8 && !strncasecmp(name, "location", len)) ||
	    (len == 12 && !strncasecmp(name, "content-location", len)))
		return HDR_URL;
	return HDR_OTHER;
}

/* Query parameters that authorise a request by themselves: S3/GCS
 * pre-signed URLs (X-Amz-Signature, X-Goog-Credential…), Azure SAS (sig),
 * CloudFront (Signature, Policy, Key-Pair-Id), tokens in URLs. */
static int secret_param(const char *name, size_t len)
{
	static const char *const parts[] = { "signature", "credential", "token", "policy",
	                                     "key-pair-id" };
	char low[64];

	if (len == 0 || len >= sizeof(low))
		return len >= sizeof(low);
	for (size_t i = 0; i < len; i++)
		low[i] = (char)((name[i] >= 'A' && name[i] <= 'Z') ? name[i] + 32 : name[i]);
	low[len] = '\0';
	if (strcmp(low, "sig") == 0)
		return 1;
	for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++)
		if (strstr(low, parts[i]))
			return 1;
	return 0;
}

/* Appends a URL (or request target) with the values of secret query
 * parameters replaced; everything else, _state included, stays readable. */
static void redact_url(struct buf *out, const char *u, size_t len)
{
	const char *q = memchr(u, '?', len);
	size_t i;

	if (!q) {
		buf_add(out, u, len);
		return;
	}
	i = (size_t)(q - u) + 1;
	buf_add(out, u, i);
	while (i < len) {
		size_t end = i, eq;
		while (end < len && u[end] != '&' && u[end] != ' ' && u[end] != '#')
			end++;
		for (eq = i; eq < end && u[eq] != '='; eq++)
			;
		if (eq < end && secret_param(u + i, eq - i)) {
			buf_add(out, u + i, eq - i + 1);
			buf_addstr(out, REDACTED);
		} else {
			buf_add(out, u + i, end - i);
		}
		if (end < len && u[end] != '&') {   /* " HTTP/1.1" or a fragment: as is */
			buf_add(out, u + end, len - end);
			return;
		}
		if (end < len)
			buf_addch(out, '&');
		i = end + 1;
	}
}

/* "GET /path?X-Amz-Signature=… HTTP/1.1": a request line of a redirected
 * transfer carries the same pre-signed query. */
static int is_request_line(const char *line, size_t len)
{
	static const char *const methods[] = { "GET ", "HEAD ", "PUT ", "POST ", "PATCH ",
	                                       "DELETE " };
	for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++) {
		size_t m = strlen(methods[i]);
		if (len > m && strncmp(line, methods[i], m) == 0)
			return 1;
	}
	return 0;
}

/*
 * Appends the value part of a sensitive header: "Bearer eyJ…" becomes
 * "Bearer <redacted>" (the scheme helps debugging and is no secret), a
 * single word or a cookie becomes "<redacted>".
 */
static void redact_value(struct buf *out, const char *v, size_t len, enum header_kind kind)
{
	size_t word = 0, gap;

	if (!len)
		return;
	while (word < len && v[word] != ' ' && v[word] != '\t')
		word++;
	gap = word;
	while (gap < len && (v[gap] == ' ' || v[gap] == '\t'))
		gap++;
	if (kind == HDR_AUTH && gap < len)
		buf_add(out, v, gap);
	buf_addstr(out, REDACTED);
}

/*
 * One line (without its end). Returns 1 when it was redacted, so that an
 * obs-fold continuation line after it is hidden too.
 */
static int redact_line(struct buf *out, const char *line, size_t len, int prev_redacted)
{
	const char *colon = memchr(line, ':', len);
	size_t lead = 0, vstart;
	enum header_kind kind;

	if (prev_redacted && len && (line[0] == ' ' || line[0] == '\t')) {
		buf_addstr(out, " " REDACTED);
		return 1;
	}
	while (lead < len && (line[lead] == ' ' || line[lead] == '\t'))
		lead++;
	if (!lead && is_request_line(line, len)) {
		redact_url(out, line, len);
		return 0;
	}
	kind = colon ? header_kind(line + lead, (size_t)(colon - line) - lead) : HDR_OTHER;
	if (kind == HDR_OTHER) {
		buf_add(out, line, len);
		return 0;
	}
	vstart = (size_t)(colon - line) + 1;
	while (vstart < len && (line[vstart] == ' ' || line[vstart] == '\t'))
		vstart++;
	buf_add(out, line, vstart);
	if (kind == HDR_URL) {
		redact_url(out, line + vstart, len - vstart);
		return 0;
	}
	redact_value(out, line + vstart, len - vstart, kind);
	return 1;
}

/* Works line by line, so a whole header block (CURLINFO_HEADER_OUT) is safe too. */
char *auth_redact_header(const char *line)
{
	struct buf out = BUF_INIT;
	const char *p = line ? line : "";
	int prev = 0;

	while (*p) {
		size_t len = strcspn(p, "\r\n"), eol = len;

		while (p[eol] == '\r' || p[eol] == '\n') {
			eol++;
			if (p[eol - 1] == '\n')
				break;
		}
		prev = redact_line(&out, p, len, prev);
		buf_add(&out, p + len, eol - len);
		p += eol;
	}
	return buf_detach(&out, NULL);
}

/* --- Bodies ------------------------------------------------------------- */

/*
 * Index just past the JSON string starting at body[i] == '"'; len when the
 * input ends first (*closed = 0).
 */
static size_t string_end(const char *body, size_t len, size_t i, int *closed)
{
	for (i++; i < len; i++) {
		if (body[i] == '\\') {
			i++;
		} else if (body[i] == '"') {
			*closed = 1;
			return i + 1;
		}
	}
	*closed = 0;
	return len;
}

/*
 * 1 when the JSON string body[start, end) names a secret member. Decodes
 * the escapes a server could hide a name behind ("\u0074oken"); names
 * longer than any we look for cannot match.
 */
static int string_is_secret_name(const char *body, size_t start, size_t end)
{
	char name[32];
	size_t n = 0;

	for (size_t i = start + 1; i < end && body[i] != '"'; i++) {
		char c = body[i];

		if (c == '\\' && i + 1 < end) {
			c = body[++i];
			if (c == 'u' && i + 4 < end) {
				unsigned v = 0;

				for (int k = 1; k <= 4; k++) {
					int h = (unsigned char)body[i + k];

					v = v * 16 + (unsigned)(isdigit(h) ? h - '0' :
					                        isxdigit(h) ? (tolower(h) - 'a' + 10) : 99);
				}
				c = v < 0x80 ? (char)v : '?';
				i += 4;
			}
		}
		if (n == sizeof(name))
			return 0;
		name[n++] = c;
	}
	return is_secret_name(name, n);
}

static size_t skip_json_ws(const char *body, size_t len, size_t i)
{
	while (i < len && (body[i] == ' ' || body[i] == '\t' || body[i] == '\r' || body[i] == '\n'))
		i++;
	return i;
}

/* Bytes copied for logging; a NUL would cut the C string short. */
static void add_text(struct buf *out, const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		buf_addch(out, s[i] ? s[i] : '?');
}

/*
 * Tokenises strings (so a quote inside a value never desynchronises us)
 * and replaces the string after `"<secret name>" :` with "<redacted>",
 * keeping the closing quote only if the input had it.
 */
static void redact_json(struct buf *out, const char *body, size_t len)
{
	size_t i = 0;

	while (i < len) {
		size_t end, colon, value;
		int closed;

		if (body[i] != '"') {
			add_text(out, body + i, 1);
			i++;
			continue;
		}
		end = string_end(body, len, i, &closed);
		colon = skip_json_ws(body, len, end);
		value = colon < len && body[colon] == ':' ? skip_json_ws(body, len, colon + 1) : len;
		if (value < len && body[value] == '"' && string_is_secret_name(body, i, end)) {
			size_t vend = string_end(body, len, value, &closed);

			add_text(out, body + i, value - i);
			buf_addstr(out, "\"" REDACTED);
			if (closed)
				buf_addch(out, '"');
			i = vend;
			continue;
		}
		add_text(out, body + i, end - i);
		i = end;
	}
}

/*
 * x-www-form-urlencoded bodies (the refresh-token POST we send):
 * "…&refresh_token=<secret>&…" gets its value replaced.
 */
static char *redact_form(const char *s)
{
	struct buf out = BUF_INIT;

	while (*s) {
		size_t field = strcspn(s, "&"), name = strcspn(s, "=&");

		if (name < field && is_secret_name(s, name)) {
			buf_add(&out, s, name + 1);
			buf_addstr(&out, REDACTED);
		} else {
			buf_add(&out, s, field);
		}
		s += field;
		if (*s == '&')
			buf_addch(&out, *s++);
	}
	return buf_detach(&out, NULL);
}

char *auth_redact_body(const char *body, size_t len)
{
	struct buf out = BUF_INIT;
	size_t first;
	char *json, *form;

	if (!body)
		len = 0;
	redact_json(&out, body, len);
	json = buf_detach(&out, NULL);
	first = skip_json_ws(body, len, 0);
	if (first < len && (body[first] == '{' || body[first] == '['))
		return json;
	/* Not JSON-shaped: it may be a form. */
	form = redact_form(json);
	free(json);
	return form;
}

/* --- Free text ---------------------------------------------------------- */

/* Token68 (RFC 7235 §2.1) and JWT characters: what a credential is made of. */
static int cred_char(char c)
{
	return isalnum((unsigned char)c) || (c && strchr("-._~+/=", c));
}

static int word_char(char c)
{
	return isalnum((unsigned char)c) || c == '_' || c == '-';
}

static int word_is(const char *w, size_t n, const char *const *list, size_t count)
{
	for (size_t i = 0; i < count; i++)
		if (strlen(list[i]) == n && !strncasecmp(list[i], w, n))
			return 1;
	return 0;
}

static size_t skip_blanks(const char *s, size_t i)
{
	while (s[i] == ' ' || s[i] == '\t')
		i++;
	return i;
}

static size_t cred_run(const char *s, size_t i)
{
	size_t j = i;

	while (cred_char(s[j]))
		j++;
	return j - i;
}

static size_t b64url_run(const char *s)
{
	size_t n = 0;

	while (isalnum((unsigned char)s[n]) || s[n] == '-' || s[n] == '_')
		n++;
	return n;
}

/* "eyJ….….[…]": a JWT (base64url of '{"' first), with or without a scheme. */
static size_t jwt_len(const char *s)
{
	size_t i;

	if (strncmp(s, "eyJ", 3) != 0)
		return 0;
	i = 3 + b64url_run(s + 3);
	if (s[i] != '.' || !b64url_run(s + i + 1))
		return 0;
	i += 1 + b64url_run(s + i + 1);
	if (s[i] == '.')
		i += 1 + b64url_run(s + i + 1);
	return i;
}

/* A short all-lowercase word after "Basic" or "Bearer" is prose ("Basic
 * with user", "bearer token expired"), not a credential: base64 of
 * "user:password" and bearer tokens have capitals, digits or length. */
static int plain_word(const char *s, size_t n)
{
	if (n >= 12)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (s[i] < 'a' || s[i] > 'z')
			return 0;
	return 1;
}

/* `realm="…"`, `error="…"`: an auth-param after the scheme, not a credential. */
static int is_auth_param(const char *s, size_t i, size_t run)
{
	const char *eq = memchr(s + i, '=', run);

	return eq && eq > s + i && s[i + run] == '"' && (size_t)(eq - (s + i)) + 1 == run;
}

/*
 * After a word: "Basic <cred>", "Bearer <cred>"; "Authorization: [scheme]
 * <cred>" (also quoted, as JSON or a header echo); "<secret name>=<value>",
 * "<secret name>: <value>", "\"<secret name>\":\"<value>\"". Appends the
 * word with its value redacted and returns the index past it, or 0 when
 * the word starts nothing secret.
 */
static size_t redact_after_word(struct buf *out, const char *s, size_t i, size_t w)
{
	static const char *const schemes[] = { "basic", "bearer" };
	static const char *const headers[] = { "authorization", "proxy-authorization" };
	static const char *const names[] = { "token", "access_token", "refresh_token", "password",
		                             "passwd", "identitytoken", "registrytoken", "secret",
		                             "auth" };
	size_t j = i + w, run, v;

	if (word_is(s + i, w, schemes, 2)) {
		v = skip_blanks(s, j);
		run = v > j ? cred_run(s, v) : 0;
		if (!run || is_auth_param(s, v, run) || plain_word(s + v, run))
			return 0;
		buf_add(out, s + i, v - i);
		buf_addstr(out, REDACTED);
		return v + run;
	}
	if (!word_is(s + i, w, headers, 2) && !word_is(s + i, w, names, 9))
		return 0;
	/* "token": is a quoted name; …/token": (the end of a quoted URL) is not. */
	if (s[j] == '"' || s[j] == '\'') {
		if (i == 0 || s[i - 1] != s[j])
			return 0;
		j++;
	}
	j = skip_blanks(s, j);
	if (s[j] != ':' && s[j] != '=')
		return 0;
	v = skip_blanks(s, j + 1);
	if (s[v] == '"' || s[v] == '\'') {
		/* A quoted value: everything up to the closing quote. */
		const char *close = strchr(s + v + 1, s[v]);
		size_t end = close ? (size_t)(close - s) : strlen(s);

		buf_add(out, s + i, v + 1 - i);
		buf_addstr(out, REDACTED);
		return end;
	}
	run = cred_run(s, v);
	if (word_is(s + i, w, headers, 2)) {
		/* "Authorization: Digest <cred>": keep the scheme word. */
		size_t gap = skip_blanks(s, v + run);
		size_t run2 = gap > v + run ? cred_run(s, gap) : 0;

		if (run && gap > v + run) {
			if (!run2)
				return 0;   /* "Bearer <redacted>" */
			buf_add(out, s + i, gap - i);
			buf_addstr(out, REDACTED);
			return gap + run2;
		}
	} else {
		run = strcspn(s + v, " \t\r\n&,;)}]\"'");
	}
	if (!run)
		return 0;
	buf_add(out, s + i, v - i);
	buf_addstr(out, REDACTED);
	return v + run;
}

char *registry_redact_text(const char *text)
{
	struct buf out = BUF_INIT;
	const char *s = text ? text : "";
	size_t i = 0, n;

	while (s[i]) {
		int boundary = i == 0 || !word_char(s[i - 1]);

		if (boundary && (n = jwt_len(s + i))) {
			buf_addstr(&out, REDACTED);
			i += n;
			continue;
		}
		if (boundary && isalpha((unsigned char)s[i])) {
			size_t w = 0, next;

			while (word_char(s[i + w]))
				w++;
			next = redact_after_word(&out, s, i, w);
			if (!next) {
				buf_add(&out, s + i, w);
				next = i + w;
			}
			i = next;
			continue;
		}
		buf_addch(&out, s[i++]);
	}
	return buf_detach(&out, NULL);
}
