/*
 * value.c — typed reading of policy_node values, one message per refusal.
 *
 * Types follow the text, not YAML 1.1's guesses: a quoted scalar is always
 * a string, numbers and booleans are plain scalars only, integers are
 * strictly decimal and booleans are exactly true or false. A string value
 * is the scalar's text as written, plain or quoted, so a tag written 1.10
 * stays "1.10" (YAML 1.1 would make it the float 1.1).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "policy/internal.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/str.h"
#include "util/timeutil.h"
#include "util/banned.h"

int policy_err(struct policy_ctx *c, const struct policy_node *n, const char *fmt, ...)
{
	va_list ap;
	char *msg;
	int rc;

	va_start(ap, fmt);
	msg = xvasprintf(fmt, ap);
	va_end(ap);
	rc = error_set(RV_EINVALID, "%s:%d:%d: %s", c->path, n->line, n->col, msg);
	free(msg);
	return rc;
}

int policy_node_is_null(const struct policy_node *n)
{
	return n->kind == POLICY_NODE_SCALAR && n->plain &&
	       (n->len == 0 || strcmp(n->text, "~") == 0 || strcmp(n->text, "null") == 0 ||
	        strcmp(n->text, "Null") == 0 || strcmp(n->text, "NULL") == 0);
}

int policy_node_eq(const struct policy_node *n, const char *s)
{
	return n->kind == POLICY_NODE_SCALAR && strlen(s) == n->len && memcmp(n->text, s, n->len) == 0;
}

const char *policy_node_describe(const struct policy_node *n, char *buf, size_t len)
{
	char q[64];

	if (n->kind == POLICY_NODE_SEQ)
		return n->n ? "a list" : "an empty list";
	if (n->kind == POLICY_NODE_MAP)
		return n->n ? "a mapping" : "an empty mapping";
	if (policy_node_is_null(n))
		return "empty";
	if (strlen(n->text) != n->len)
		return "a string holding a NUL byte";
	snprintf(buf, len, "\"%s\"", str_printable(q, sizeof(q), n->text));
	return buf;
}

int policy_parse_decimal(const char *s, size_t len, int64_t *out)
{
	const char *d = s[0] == '-' ? s + 1 : s;

	if (strlen(s) != len || !*d)
		return -1;
	/* "010" is octal to YAML 1.1 readers and "-0" is no number anyone means. */
	if (d[0] == '0' && (d[1] || d != s))
		return -1;
	for (const char *p = d; *p; p++)
		if (*p < '0' || *p > '9')
			return -1;
	if (str_to_int64(s, out) < 0) {
		error_clear();   /* overflow: the caller says what was wanted */
		return -1;
	}
	return 0;
}

int policy_get_string(struct policy_ctx *c, const struct policy_node *n, const char *what,
                      char **out)
{
	char d[80];

	if (n->kind != POLICY_NODE_SCALAR)
		return policy_err(c, n, "%s must be a string, not %s", what,
		                  policy_node_describe(n, d, sizeof(d)));
	if (n->len == 0 || policy_node_is_null(n))
		return policy_err(c, n, "%s must not be empty", what);
	for (size_t i = 0; i < n->len; i++) {
		unsigned char ch = (unsigned char)n->text[i];

		if (ch < 0x20 || ch == 0x7f)
			return policy_err(c, n, "%s must not hold control characters", what);
	}
	*out = xstrdup(n->text);
	return 0;
}

/* The directory relative paths are resolved against: the policy file's,
 * made absolute with the working directory. Not canonicalised: the paths
 * need not exist yet (an archive store is created on first use). */
static int base_dir(struct policy_ctx *c, const struct policy_node *n, const char **out)
{
	const char *slash = strrchr(c->path, '/');
	char *dir, *cwd;

	if (!c->base_dir) {
		if (!slash)
			dir = xstrdup(".");
		else
			dir = xstrndup(c->path, slash == c->path ? 1 : (size_t)(slash - c->path));
		if (dir[0] != '/') {
			if (!(cwd = getcwd(NULL, 0))) {
				int e = errno;

				free(dir);
				return policy_err(c, n, "cannot resolve a relative path: %s", strerror(e));
			}
			c->base_dir = strcmp(dir, ".") == 0 ? xstrdup(cwd) : fs_path_join(cwd, dir);
			free(cwd);
			free(dir);
		} else {
			c->base_dir = dir;
		}
	}
	*out = c->base_dir;
	return 0;
}

int policy_get_path(struct policy_ctx *c, const struct policy_node *n, const char *what,
                    char **out)
{
	const char *dir = NULL, *rel;
	char *s;
	int rc;

	if ((rc = policy_get_string(c, n, what, &s)) < 0)
		return rc;
	/* Nothing expands "~" here; a directory named "~" would be a surprise. */
	if (s[0] == '~') {
		free(s);
		return policy_err(c, n, "%s: \"~\" is not expanded; write the full path", what);
	}
	if (s[0] == '/') {
		*out = s;
		return 0;
	}
	if ((rc = base_dir(c, n, &dir)) < 0) {
		free(s);
		return rc;
	}
	for (rel = s; rel[0] == '.' && rel[1] == '/';)
		for (rel += 2; *rel == '/'; rel++)
			;
	*out = fs_path_join(dir, rel);
	free(s);
	return 0;
}

int policy_get_int(struct policy_ctx *c, const struct policy_node *n, const char *what,
                   const char *want, int64_t min, int64_t max, int64_t *out)
{
	char d[80];
	int64_t v;
	int ok = n->kind == POLICY_NODE_SCALAR && policy_parse_decimal(n->text, n->len, &v) == 0;

	if (ok && !n->plain)
		return policy_err(c, n, "\"%s\" is a string: write %s without quotes", n->text,
		                  n->text);
	if (!ok || !n->plain || v < min || v > max)
		return policy_err(c, n, "%s must be %s, not %s", what, want,
		                  policy_node_describe(n, d, sizeof(d)));
	*out = v;
	return 0;
}

int policy_get_bool(struct policy_ctx *c, const struct policy_node *n, const char *what,
                    int *out)
{
	char d[80];

	if (policy_node_eq(n, "true") || policy_node_eq(n, "false")) {
		if (!n->plain)
			return policy_err(c, n, "\"%s\" is a string: write %s without quotes",
			                  n->text, n->text);
		*out = n->text[0] == 't';
		return 0;
	}
	/* yes/no/on/off/True… are YAML 1.1 booleans elsewhere: refused, not guessed. */
	return policy_err(c, n, "%s must be true or false, not %s", what,
	                  policy_node_describe(n, d, sizeof(d)));
}

int policy_get_duration(struct policy_ctx *c, const struct policy_node *n, const char *what,
                        int64_t *out)
{
	static const char want[] = "a duration with a unit: 90s, 15m, 12h, 30d or 2w";
	char d[80];
	char last = n->kind == POLICY_NODE_SCALAR && n->len ? n->text[n->len - 1] : '\0';

	/* A bare number is seconds to time_parse_duration(), and "30" meant as
	 * days would keep almost nothing: a unit is required. */
	if (n->kind != POLICY_NODE_SCALAR || policy_node_is_null(n) || !last || !strchr("smhdw", last) ||
	    strlen(n->text) != n->len || time_parse_duration(n->text, out) < 0)
		return policy_err(c, n, "%s must be %s, not %s", what, want,
		                  policy_node_describe(n, d, sizeof(d)));
	return 0;
}

void policy_strv_free(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

int policy_get_list(struct policy_ctx *c, const struct policy_node *n, const char *what,
                    const char *empty_hint,
                    int (*check)(struct policy_ctx *, const struct policy_node *),
                    char ***out, size_t *n_out)
{
	char d[80], **v;
	int rc;

	if (n->kind == POLICY_NODE_SCALAR && !policy_node_is_null(n))
		return policy_err(c, n, "%s must be a list, not %s (write [%s])", what,
		                  policy_node_describe(n, d, sizeof(d)), d);
	if (n->kind != POLICY_NODE_SEQ)
		return policy_err(c, n, "%s must be a list, not %s", what,
		                  policy_node_describe(n, d, sizeof(d)));
	if (n->n == 0)
		return policy_err(c, n, "%s is an empty list%s", what, empty_hint);
	v = xcalloc(n->n, sizeof(*v));
	for (size_t i = 0; i < n->n; i++) {
		char *item_what = xasprintf("%s entry", what);

		rc = policy_get_string(c, &n->kids[i], item_what, &v[i]);
		free(item_what);
		if (rc == 0 && check)
			rc = check(c, &n->kids[i]);
		if (rc < 0) {
			policy_strv_free(v, n->n);
			return rc;
		}
	}
	*out = v;
	*n_out = n->n;
	return 0;
}

int policy_want_map(struct policy_ctx *c, const struct policy_node *n, const char *what)
{
	char d[80];

	if (n->kind == POLICY_NODE_MAP)
		return 0;
	return policy_err(c, n, "%s must be a mapping of keys, not %s", what,
	                  policy_node_describe(n, d, sizeof(d)));
}

static int unknown_key(struct policy_ctx *c, const struct policy_node *k,
                       const struct policy_key *keys, size_t n_keys, const char *where)
{
	struct buf known = BUF_INIT;
	char q[64];
	int rc;

	for (size_t i = 0; i < n_keys; i++)
		buf_addf(&known, "%s%s", i ? ", " : "", keys[i].name);
	rc = policy_err(c, k, "unknown key \"%s\"%s (known: %s)", str_printable(q, sizeof(q), k->text),
	                where, buf_cstr(&known));
	buf_release(&known);
	return rc;
}

int policy_walk_map(struct policy_ctx *c, const struct policy_node *map,
                    const struct policy_key *keys, size_t n_keys, const char *where,
                    void *obj, const struct policy_node **seen)
{
	char d[80];
	size_t j;
	int rc;

	for (size_t i = 0; i + 1 < map->n; i += 2) {
		const struct policy_node *k = &map->kids[i];

		if (k->kind != POLICY_NODE_SCALAR)
			return policy_err(c, k, "a key must be a word, not %s",
			                  policy_node_describe(k, d, sizeof(d)));
		for (j = 0; j < n_keys; j++)
			if (policy_node_eq(k, keys[j].name))
				break;
		if (j == n_keys)
			return unknown_key(c, k, keys, n_keys, where);
		if (seen[j])
			return policy_err(c, k, "duplicate key \"%s\"%s (first at %d:%d)", keys[j].name,
			                  where, seen[j]->line, seen[j]->col);
		seen[j] = k;
		if ((rc = keys[j].read(c, &map->kids[i + 1], obj)) < 0)
			return rc;
	}
	return 0;
}
