/*
 * fuzz_token.c — libFuzzer target for auth_token_parse (what a token
 * server answers) and, on the same bytes, auth_redact_body (what a trace
 * logs of it).
 *
 * Beyond "no crash, no leak": an accepted answer gives the token jansson
 * reads under "token" (else "access_token"), a lifetime inside [1,
 * INT32_MAX], and values that can go into an Authorization header as they
 * are (no control character: no header injection); a refusal leaves the
 * struct zeroed and says one of the fixed lines, which never quote the
 * body. The redacted copy of a JSON answer is still JSON, and every secret
 * member in it, at any depth, reads "<redacted>".
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "registry/auth.h"
#include "util/error.h"
#include "util/banned.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_header_safe(const char *v)
{
	for (const char *p = v; p && *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			abort();
}

/* What the parser must have picked, read independently. */
static const char *expected_token(json_t *root)
{
	const char *t = json_string_value(json_object_get(root, "token"));

	if (t && *t)
		return t;
	t = json_string_value(json_object_get(root, "access_token"));
	return t && *t ? t : NULL;
}

static void check_ok(const struct auth_token *t, const uint8_t *data, size_t size)
{
	json_t *root = json_loadb((const char *)data, size, 0, NULL);
	const char *want, *refresh;

	if (!json_is_object(root) || !t->token || !*t->token)
		abort();
	want = expected_token(root);
	if (!want || strcmp(want, t->token) != 0)
		abort();
	refresh = json_string_value(json_object_get(root, "refresh_token"));
	if ((refresh && *refresh) ? !t->refresh_token || strcmp(refresh, t->refresh_token) != 0
	                          : t->refresh_token != NULL)
		abort();
	if (t->expires_in < 1 || t->expires_in > INT32_MAX)
		abort();
	check_header_safe(t->token);
	check_header_safe(t->refresh_token);
	json_decref(root);
}

/* The only lines a refusal may say: none quotes the body. */
static void check_refusal(int rc, const struct auth_token *t)
{
	const char *m = error_msg();
	int line, col, end = 0;

	if (t->token || t->refresh_token || t->expires_in)
		abort();
	if (rc == RV_ETOOBIG && !strcmp(m, "token response over 1048576 bytes"))
		return;
	if (rc != RV_EINVALID)
		abort();
	if (!strcmp(m, "token response is not a JSON object") ||
	    !strcmp(m, "token response holds neither \"token\" nor \"access_token\"") ||
	    !strcmp(m, "token response: a token holds a control character"))
		return;
	if (sscanf(m, "token response is not JSON (line %d, column %d)%n", &line, &col, &end) == 2 &&
	    m[end] == '\0')
		return;
	abort();
}

static int is_secret(const char *key)
{
	static const char *const names[] = { "token", "access_token", "refresh_token",
		                             "password", "identitytoken", "secret" };

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (!strcasecmp(key, names[i]))
			return 1;
	return 0;
}

static void check_redacted(json_t *v)
{
	const char *key;
	json_t *m;
	size_t i;

	if (json_is_object(v)) {
		json_object_foreach(v, key, m) {
			if (json_is_string(m) && is_secret(key) &&
			    strcmp(json_string_value(m), "<redacted>") != 0)
				abort();
			check_redacted(m);
		}
	} else if (json_is_array(v)) {
		json_array_foreach(v, i, m)
			check_redacted(m);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct auth_token t;
	json_t *root;
	char *r;
	int rc;

	memset(&t, 0xa5, sizeof(t));   /* the parser must set every field */
	rc = auth_token_parse(&t, (const char *)data, size);
	if (rc == 0)
		check_ok(&t, data, size);
	else if (rc > 0 || strchr(error_msg(), '\n'))
		abort();
	else
		check_refusal(rc, &t);
	auth_token_release(&t);

	r = auth_redact_body((const char *)data, size);
	if (!r)
		abort();
	/* JSON in, JSON out (the redactor keeps NUL-free input byte for byte
	 * outside secret values); secret members all hidden. jansson takes a
	 * NUL right after a number ("300\0"), which the redactor turns into
	 * '?' as it says: such input has no JSON to keep. */
	root = memchr(data, 0, size) ? NULL : json_loadb((const char *)data, size, 0, NULL);
	if (json_is_object(root) || json_is_array(root)) {
		json_t *red = json_loads(r, 0, NULL);

		if (!red)
			abort();
		check_redacted(red);
		json_decref(red);
	}
	json_decref(root);
	free(r);
	return 0;
}
