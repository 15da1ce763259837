/*
 * listing.c — tags/list and _catalog pages parsed as they arrive.
 *
 * A registry decides how big a listing is: distribution v2.8 ignores `n`
 * on tags/list and sends every tag in one page (oci-notes §1.3), and a
 * lying one can send millions. A JSON tree costs ~85 bytes per entry
 * (jansson: 5M short tags took 470 MB), so pages are not loaded whole:
 * this incremental parser keeps one string token at a time and appends the
 * entries of the one array it wants to the caller's list, failing as soon
 * as the list would pass its cap. Everything else in the page is checked
 * for JSON structure and skipped.
 *
 * Accepted: {"<key>": [ "…", … ] | null, any other members}. Entries may
 * use every JSON escape; an entry holding a control character or NUL, or
 * longer than LISTING_STR_MAX, is a lie (no tag or repository name can).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "registry/internal.h"
#include "util/error.h"
#include "util/banned.h"

enum {
	X_VALUE,         /* a value must come */
	X_VALUE_OR_END,  /* after '[' */
	X_KEY_OR_END,    /* after '{' */
	X_KEY,           /* after ',' in an object */
	X_COLON,         /* after a key */
	X_COMMA_OR_END,  /* after a value inside a container */
	X_DONE,          /* after the top-level object: only whitespace */
};

enum { T_NONE, T_STRING, T_LITERAL };

static int fail(struct listing_parser *p, int code, const char *why)
{
	p->failed = code;
	return error_set(code, "%s: invalid JSON answer (%s)", p->what, why);
}

void listing_init(struct listing_parser *p, const char *key, const char *what,
                  struct strlist *out, size_t max_entries)
{
	memset(p, 0, sizeof(*p));
	p->key = key;
	p->what = what;
	p->out = out;
	p->max_entries = max_entries;
	p->expect = X_VALUE;
}

/* Where the value now starting sits: 1 when it is an entry to collect. */
static int in_wanted_array(const struct listing_parser *p)
{
	return p->depth == 2 && p->stack[1] == '[' && p->collecting;
}

/* A value (of any kind) starts. Checks the shapes the caller cares about. */
static int value_starts(struct listing_parser *p, char kind)
{
	if (p->expect != X_VALUE && p->expect != X_VALUE_OR_END)
		return fail(p, RV_EINVALID, "a value where none belongs");
	if (p->depth == 0 && kind != '{')
		return fail(p, RV_EINVALID, "not an object");
	if (p->depth == 1 && p->key_is_wanted && kind != '[' && kind != 'n')
		return fail(p, RV_EINVALID, "unexpected shape");
	if (in_wanted_array(p) && kind != '"')
		return error_set(p->failed = RV_EINVALID, "%s: non-string entry in \"%s\"", p->what,
		                 p->key);
	return 0;
}

/* A value ended: what may follow. */
static void value_ends(struct listing_parser *p)
{
	p->expect = p->depth == 0 ? X_DONE : X_COMMA_OR_END;
}

static int open_container(struct listing_parser *p, char c)
{
	int rc = value_starts(p, c);

	if (rc)
		return rc;
	if (p->depth >= LISTING_DEPTH_MAX)
		return fail(p, RV_EINVALID, "nested too deep");
	if (p->depth == 1 && p->key_is_wanted) {
		if (p->seen_key)
			return error_set(p->failed = RV_EINVALID, "%s: \"%s\" appears twice", p->what,
			                 p->key);
		p->seen_key = 1;
		p->collecting = 1;
	}
	p->stack[p->depth++] = c;
	p->expect = c == '{' ? X_KEY_OR_END : X_VALUE_OR_END;
	return 0;
}

static int close_container(struct listing_parser *p, char c)
{
	char open = c == '}' ? '{' : '[';

	if (p->depth == 0 || p->stack[p->depth - 1] != open)
		return fail(p, RV_EINVALID, "unbalanced brackets");
	if (p->expect != X_COMMA_OR_END &&
	    !(p->expect == X_KEY_OR_END && c == '}') && !(p->expect == X_VALUE_OR_END && c == ']'))
		return fail(p, RV_EINVALID, "a misplaced bracket");
	if (p->depth == 2 && c == ']')
		p->collecting = 0;
	p->depth--;
	value_ends(p);
	return 0;
}

/* A string token is complete: a key, an entry, or a value to skip. */
static int string_done(struct listing_parser *p)
{
	p->str[p->slen] = '\0';
	if (p->expect == X_KEY_OR_END || p->expect == X_KEY) {
		if (p->depth == 1)
			p->key_is_wanted = !p->str_over && strcmp(p->str, p->key) == 0;
		p->expect = X_COLON;
		return 0;
	}
	if (in_wanted_array(p)) {
		if (p->str_over)
			return error_set(p->failed = RV_EINVALID, "%s: an entry longer than %d bytes",
			                 p->what, LISTING_STR_MAX);
		if (p->str_ctl)
			return error_set(p->failed = RV_EINVALID, "%s: an entry with a control "
			                 "character", p->what);
		if (p->out->n >= p->max_entries)
			return error_set(p->failed = RV_ETOOBIG, "%s: more than %zu entries; refusing "
			                 "to go on", p->what, p->max_entries);
		strlist_add(p->out, p->str);
	}
	value_ends(p);
	return 0;
}

static void str_put(struct listing_parser *p, unsigned char c)
{
	if (c < 0x20 || c == 0x7f)
		p->str_ctl = 1;
	if (p->slen < LISTING_STR_MAX)
		p->str[p->slen++] = (char)c;
	else
		p->str_over = 1;
}

/* A code point from \uXXXX as UTF-8. */
static void str_put_cp(struct listing_parser *p, unsigned cp)
{
	if (cp < 0x80) {
		str_put(p, (unsigned char)cp);
	} else if (cp < 0x800) {
		str_put(p, (unsigned char)(0xc0 | (cp >> 6)));
		str_put(p, (unsigned char)(0x80 | (cp & 0x3f)));
	} else if (cp < 0x10000) {
		str_put(p, (unsigned char)(0xe0 | (cp >> 12)));
		str_put(p, (unsigned char)(0x80 | ((cp >> 6) & 0x3f)));
		str_put(p, (unsigned char)(0x80 | (cp & 0x3f)));
	} else {
		str_put(p, (unsigned char)(0xf0 | (cp >> 18)));
		str_put(p, (unsigned char)(0x80 | ((cp >> 12) & 0x3f)));
		str_put(p, (unsigned char)(0x80 | ((cp >> 6) & 0x3f)));
		str_put(p, (unsigned char)(0x80 | (cp & 0x3f)));
	}
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* One \uXXXX done: a BMP character, or half of a surrogate pair. */
static int unicode_done(struct listing_parser *p)
{
	unsigned u = p->uval;

	if (p->hi_surrogate) {
		unsigned hi = p->hi_surrogate;
		p->hi_surrogate = 0;
		if (u < 0xdc00 || u > 0xdfff)
			return fail(p, RV_EINVALID, "a broken surrogate pair");
		str_put_cp(p, 0x10000 + ((hi - 0xd800) << 10) + (u - 0xdc00));
		return 0;
	}
	if (u >= 0xd800 && u <= 0xdbff) {
		p->hi_surrogate = u;
		return 0;
	}
	if (u >= 0xdc00 && u <= 0xdfff)
		return fail(p, RV_EINVALID, "a lone surrogate");
	str_put_cp(p, u);
	return 0;
}

static int string_byte(struct listing_parser *p, char c)
{
	static const char esc_in[] = "\"\\/bfnrt", esc_out[] = "\"\\/\b\f\n\r\t";
	const char *e;

	if (p->uhex) {
		int v = hexval(c);
		if (v < 0)
			return fail(p, RV_EINVALID, "a bad \\u escape");
		p->uval = (p->uval << 4) | (unsigned)v;
		if (--p->uhex == 0)
			return unicode_done(p);
		return 0;
	}
	if (p->escape) {
		p->escape = 0;
		if (c == 'u') {
			p->uhex = 4;
			p->uval = 0;
			return 0;
		}
		if (p->hi_surrogate && c != 'u')
			return fail(p, RV_EINVALID, "a lone surrogate");
		if (c == '\0' || !(e = strchr(esc_in, c)))
			return fail(p, RV_EINVALID, "a bad escape");
		str_put(p, (unsigned char)esc_out[e - esc_in]);
		return 0;
	}
	/* After a high surrogate only "\u" (its low half) may follow. */
	if (p->hi_surrogate && c != '\\')
		return fail(p, RV_EINVALID, "a lone surrogate");
	if (c == '\\') {
		p->escape = 1;
		return 0;
	}
	if (c == '"') {
		p->token = T_NONE;
		return string_done(p);
	}
	if ((unsigned char)c < 0x20)
		return fail(p, RV_EINVALID, "a raw control character in a string");
	str_put(p, (unsigned char)c);
	return 0;
}

/* A literal (number, true, false, null) ended before c. */
static int literal_done(struct listing_parser *p)
{
	char *end = NULL;

	p->lit[p->llen] = '\0';
	p->token = T_NONE;
	if (!strcmp(p->lit, "null") || !strcmp(p->lit, "true") || !strcmp(p->lit, "false")) {
		value_ends(p);
		return 0;
	}
	/* JSON numbers are a subset of what strtod takes; keeping to their
	 * characters rules out "inf", "nan" and hex, which it would also take. */
	if (p->lit[strspn(p->lit, "0123456789+-.eE")] == '\0' && p->lit[0] != '+' &&
	    (strtod(p->lit, &end), end && *end == '\0')) {
		value_ends(p);
		return 0;
	}
	return fail(p, RV_EINVALID, "an unknown literal");
}

static int is_ws(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static int structural(struct listing_parser *p, char c)
{
	if (is_ws(c))
		return 0;
	if (p->expect == X_DONE)
		return fail(p, RV_EINVALID, "data after the object");
	switch (c) {
	case '{':
	case '[':
		return open_container(p, c);
	case '}':
	case ']':
		return close_container(p, c);
	case ':':
		if (p->expect != X_COLON)
			return fail(p, RV_EINVALID, "a misplaced ':'");
		p->expect = X_VALUE;
		return 0;
	case ',':
		if (p->expect != X_COMMA_OR_END)
			return fail(p, RV_EINVALID, "a misplaced ','");
		p->expect = p->stack[p->depth - 1] == '{' ? X_KEY : X_VALUE;
		return 0;
	case '"':
		if (p->expect != X_KEY && p->expect != X_KEY_OR_END) {
			int rc = value_starts(p, '"');
			if (rc)
				return rc;
		}
		p->token = T_STRING;
		p->slen = 0;
		p->str_over = p->str_ctl = 0;
		p->escape = p->uhex = 0;
		p->hi_surrogate = 0;
		return 0;
	default:
		if (p->expect == X_KEY || p->expect == X_KEY_OR_END)
			return fail(p, RV_EINVALID, "a key that is not a string");
		if (value_starts(p, c == 'n' ? 'n' : 'l'))
			return p->failed;
		p->token = T_LITERAL;
		p->llen = 0;
		p->lit[p->llen++] = c;
		return 0;
	}
}

int listing_feed(struct listing_parser *p, const void *data, size_t len)
{
	const char *s = data;

	if (p->failed)
		return p->failed;
	p->bytes += len;
	if (p->bytes > LISTING_PAGE_MAX)
		return error_set(p->failed = RV_ETOOBIG, "%s: a page of more than %lld bytes; "
		                 "refusing to go on", p->what, (long long)LISTING_PAGE_MAX);
	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		int rc;

		if (p->token == T_STRING) {
			rc = string_byte(p, c);
		} else if (p->token == T_LITERAL) {
			if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			    c == '+' || c == '-' || c == '.') {
				if (p->llen + 1 >= sizeof(p->lit))
					return fail(p, RV_EINVALID, "a literal too long");
				p->lit[p->llen++] = c;
				continue;
			}
			rc = literal_done(p);
			if (!rc)
				rc = structural(p, c);
		} else {
			rc = structural(p, c);
		}
		if (rc)
			return rc;
	}
	return 0;
}

int listing_finish(struct listing_parser *p)
{
	if (p->failed)
		return p->failed;
	if (p->expect != X_DONE || p->token != T_NONE)
		return fail(p, RV_EINVALID, p->bytes ? "the page ends inside the JSON" : "empty");
	return 0;
}
