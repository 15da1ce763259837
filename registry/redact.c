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
