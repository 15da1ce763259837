/*
 * fuzz_www_authenticate.c — libFuzzer target for the registry auth
 * parsers that see what a server sent: auth_challenge_parse, and what the
 * client does with a challenge next (auth_scope_merge, auth_token_url), plus
 * the trace redactors on the same bytes.
 *
 * Beyond "no crash, no leak": a refusal leaves no output; every challenge
 * has a lowercase token scheme; no parsed value holds CR or LF (header
 * injection into the token request); merged scopes are a normal form
 * (merging again changes nothing); the token URL adds only URL-safe bytes
 * to the realm; a redacted Authorization line ends in "<redacted>".
 */
#include <ctype.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "registry/auth.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/xalloc.h"
#include "util/banned.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_value(const char *v)
{
	if (v && strpbrk(v, "\r\n"))
		abort();
}

static void check_scheme(const char *s)
{
	if (!s || !*s)
		abort();
	for (; *s; s++)
		if (isupper((unsigned char)*s) || isspace((unsigned char)*s) || *s == ',' ||
		    *s == '=' || *s == '"')
			abort();
}

static void check_scope(const char *scope)
{
	struct buf set = BUF_INIT, again = BUF_INIT;

	if (auth_scope_merge(&set, scope) != 0)
		abort();
	buf_addstr(&again, buf_cstr(&set));
	if (auth_scope_merge(&again, buf_cstr(&set)) != 0 ||
	    strcmp(buf_cstr(&again), buf_cstr(&set)) != 0)
		abort();
	buf_release(&again);
	buf_release(&set);
}

static void check_url(const struct auth_challenge *c)
{
	char *url;
	size_t rl;

	if (!c->realm)
		return;
	url = auth_token_url(c->realm, c->service, c->scope);
	rl = strlen(c->realm);
	if (strncmp(url, c->realm, rl) != 0)
		abort();
	for (const char *p = url + rl; *p; p++)
		if (!isalnum((unsigned char)*p) && !strchr("-._~%&=?", *p))
			abort();
	free(url);
}

static void check_redaction(const char *s)
{
	char *line = xasprintf("Authorization: Bearer %s", s);
	char *r = auth_redact_header(line);
	size_t n = strlen(r);

	/* s holds no line break here: one line in, one redacted line out. */
	if (*s && (n < 10 || strcmp(r + n - 10, "<redacted>") != 0))
		abort();
	free(r);
	free(line);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = xstrndup((const char *)data, size);
	struct auth_challenge *c = (struct auth_challenge *)1;
	size_t n = 7;
	char *r;

	if (auth_challenge_parse(&c, &n, s) == 0) {
		if (!n || !c)
			abort();
		for (size_t i = 0; i < n; i++) {
			check_scheme(c[i].scheme);
			check_value(c[i].realm);
			check_value(c[i].service);
			check_value(c[i].scope);
			check_value(c[i].error);
			if (c[i].scope)
				check_scope(c[i].scope);
			check_url(&c[i]);
			auth_challenge_release(&c[i]);
		}
		free(c);
	} else if (c || n) {
		abort();
	}
	if (!strpbrk(s, "\r\n"))
		check_redaction(s);
	r = auth_redact_body((const char *)data, size);
	free(r);
	free(s);
	return 0;
}
