/*
 * policy.c — the policy schema (policy.h), walked over the tree of tree.c.
 *
 * Keys are read in document order and every reader refuses at its own
 * node, so the first problem in the file is the one reported; required
 * keys are checked once the mapping is read. Nothing here guesses: a value
 * that is not exactly what the schema says stops the run (invariant 1).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "oci/reference.h"
#include "policy/internal.h"
#include "policy/policy.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/str.h"
#include "util/banned.h"

#define N_ELEMS(a) (sizeof(a) / sizeof((a)[0]))
/* An empty optional list is refused too (a generator that lost its data
 * writes [] as readily as a missing key): say how to mean "none". */
#define LEAVE_OUT " (leave the key out instead)"

/* What the top-level readers fill, and what the cross-checks need after. */
struct root {
	struct policy *p;
	const struct policy_node *sk_registry;
};

/* --- registry, repositories, safekeeping ---------------------------------- */

static int key_version(struct policy_ctx *c, const struct policy_node *v, void *obj)
{
	int64_t n;

	(void)obj;
	return policy_get_int(c, v, "version", "1", 1, 1, &n);
}

/* A location "HOST[:PORT][/PATH]" checked with oci_ref_parse_location();
 * *host (normalised) and *path are the caller's. */
static int read_location(struct policy_ctx *c, const struct policy_node *v, const char *what,
                         char **text, char **host, char **path)
{
	char *why;
	int rc;

	if ((rc = policy_get_string(c, v, what, text)) < 0)
		return rc;
	if (oci_ref_parse_location(*text, host, path) == 0)
		return 0;
	why = xstrdup(error_msg());   /* policy_err() replaces the message */
	rc = policy_err(c, v, "%s: %s", what, why);
	free(why);
	free(*text);
	*text = NULL;
	return rc;
}

static int key_registry(struct policy_ctx *c, const struct policy_node *v, void *obj)
{
	struct policy *p = ((struct root *)obj)->p;
	char *text, *host, *path, q[80];
	int rc;

	if ((rc = read_location(c, v, "registry", &text, &host, &path)) < 0)
		return rc;
	if (path)
		rc = policy_err(c, v, "registry must be a host[:port] without a path, not \"%s\" "
		                "(repositories go in \"repositories\")",
		                str_printable(q, sizeof(q), text));
	else
		p->registry = xstrdup(host);
	free(text);
	free(host);
	free(path);
	return rc;
}

/* Repository globs name repositories; a tag or digest here is a keep rule
 * written in the wrong place and would match nothing. */
static int check_repository(struct policy_ctx *c, const struct policy_node *n)
{
	char q[80];

	if (strpbrk(n->text, ":@"))
		return policy_err(c, n, "repositories entry \"%s\" is not a repository glob (no "
		                  "tags or digests here: tag rules go in \"keep\")",
		                  str_printable(q, sizeof(q), n->text));
	return 0;
}

static int key_repositories(struct policy_ctx *c, const struct policy_node *v, void *obj)
{
	struct policy *p = ((struct root *)obj)->p;

	return policy_get_list(c, v, "repositories", " (use [\"*\"] for every repository)",
	                       check_repository, &p->repositories,
	                       &p->n_repositories);
}

static int sk_archive(struct policy_ctx *c, const struct policy_node *v, void *obj)
{
	struct policy *p = ((struct root *)obj)->p;

	return policy_get_path(c, v, "safekeeping archive", &p->safekeeping_archive);
}

static int sk_registry(struct policy_ctx *c, const struct policy_node *v, void *obj)
{
	struct root *r = obj;
	char *host, *path;
	int rc;

	rc = read_location(c, v, "safekeeping registry", &r->p->safekeeping_registry, &host, &path);
	if (rc == 0) {
		r->sk_registry = v;
		free(host);
		free(path);
	}
	return rc;
}

static int key_safekeeping(struct policy_ctx *c, const struct policy_node *v, void *obj)
{
	static const struct policy_key keys[] = {
		{ "archive", sk_archive },
		{ "registry", sk_registry },
	};
	const struct policy_node *seen[N_ELEMS(keys)] = { NULL };
	char d[80];

	if (v->kind != POLICY_NODE_MAP || v->n == 0)
		return policy_err(c, v, "safekeeping must name an archive, a registry or both, "
		                  "not %s", policy_node_describe(v, d, sizeof(d)));
	return policy_walk_map(c, v, keys, N_ELEMS(keys), " in safekeeping", obj, seen);
}

/* --- deployed -------------------------------------------------------------- */

static int kubectl_context(struct policy_ctx *c, const struct policy_node *v, void *obj)
{
	return policy_get_string(c, v, "kubectl context", &((struct deployed_source *)obj)->arg);
}

static int read_kubectl(struct policy_ctx *c, const struct policy_node *v,
                        struct deployed_source *out)
{
	static const struct policy_key keys[] = { { "context", kubectl_context } };
	const struct policy_node *seen[N_ELEMS(keys)] = { NULL };
	char d[80], q[64];

	out->kind = DEPLOYED_KUBECTL;
	if (v->kind == POLICY_NODE_SCALAR && !policy_node_is_null(v))
		return policy_err(c, v, "kubectl must be a mapping, not %s (write kubectl: "
		                  "{context: %s})", policy_node_describe(v, d, sizeof(d)),
		                  str_printable(q, sizeof(q), v->text));
	if (v->kind != POLICY_NODE_MAP)
		return policy_err(c, v, "kubectl must be a mapping, not %s (write kubectl: {} "
		                  "for the current context)", policy_node_describe(v, d, sizeof(d)));
	return policy_walk_map(c, v, keys, N_ELEMS(keys), " in kubectl", out, seen);
}

/* One list item: a mapping with exactly one key naming the source. */
static int read_source(struct policy_ctx *c, const struct policy_node *e,
                       struct deployed_source *out)
{
	static const char known[] = "known: kubectl, kubernetes-json, refs-file";
	const struct policy_node *k, *v;
	char d[80], q[64];
	int rc;

	if (e->kind != POLICY_NODE_MAP || e->n == 0)
		return policy_err(c, e, "a deployed entry must be a mapping such as \"refs-file: "
		                  "FILE\" or \"kubectl: {}\", not %s",
		                  policy_node_describe(e, d, sizeof(d)));
	k = &e->kids[0];
	v = &e->kids[1];
	if (k->kind != POLICY_NODE_SCALAR)
		return policy_err(c, k, "a key must be a word, not %s",
		                  policy_node_describe(k, d, sizeof(d)));
	if (policy_node_eq(k, "kubectl")) {
		rc = read_kubectl(c, v, out);
	} else if (policy_node_eq(k, "kubernetes-json") || policy_node_eq(k, "refs-file")) {
		out->kind = k->text[0] == 'k' ? DEPLOYED_KUBERNETES_JSON : DEPLOYED_REFS_FILE;
		rc = policy_get_path(c, v, k->text, &out->arg);
	} else {
		return policy_err(c, k, "unknown deployed source \"%s\" (%s)",
		                  str_printable(q, sizeof(q), k->text), known);
	}
	if (rc == 0 && e->n > 2)
		rc = policy_err(c, &e->kids[2], "a deployed entry names one source: give %s its "
		                "own \"- \" list item", policy_node_describe(&e->kids[2], d, sizeof(d)));
	return rc;
}

static int key_deployed(struct policy_ctx *c, const struct policy_node *v, void *obj)
{
	static const char want[] = "a list of sources or none";
	struct policy *p = ((struct root *)obj)->p;
	char d[80];
	int rc;

	if (policy_node_eq(v, "none")) {
		if (!v->plain)
			return policy_err(c, v, "\"none\" is a string: write none without quotes");
		p->deployed_none = 1;
		return 0;
	}
	if (v->kind == POLICY_NODE_SEQ && v->n == 0)
		return policy_err(c, v, "deployed is an empty list: name a source, or write "
		                  "\"deployed: none\" for an empty cluster");
	if (v->kind == POLICY_NODE_MAP)
		return policy_err(c, v, "deployed must be %s, not a mapping (each source is a list "
		                  "item: \"- kubectl: {}\")", want);
	if (v->kind != POLICY_NODE_SEQ)
		return policy_err(c, v, "deployed must be %s, not %s", want,
		                  policy_node_describe(v, d, sizeof(d)));
	p->deployed = xcalloc(v->n, sizeof(*p->deployed));
	for (size_t i = 0; i < v->n; i++) {
		p->n_deployed++;
		if ((rc = read_source(c, &v->kids[i], &p->deployed[i])) < 0)
			return rc;
	}
	return 0;
}

/* --- protection ------------------------------------------------------------ */

static int key_rollback(struct policy_ctx *c, const struct policy_node *v, void *obj)
{
	int64_t n;
	int rc = policy_get_int(c, v, "rollback", "an integer from 0 to 100", 0, 100, &n);

	if (rc == 0)
		((struct root *)obj)->p->rollback = (int)n;
	return rc;
}

static int key_protect_base(struct policy_ctx *c, const struct policy_node *v, void *obj)
{
	return policy_get_bool(c, v, "protect_base_images", &((struct root *)obj)->p->protect_base_images);
}

/* "repo-glob:tag-glob": exactly one ':' with a glob on each side. */
static int check_protect(struct policy_ctx *c, const struct policy_node *n)
{
	const char *colon = strchr(n->text, ':');
	char q[80];

	str_printable(q, sizeof(q), n->text);
	if (!colon)
		return policy_err(c, n, "protect entry \"%s\" needs ':' between a repository glob "
		                  "and a tag glob (e.g. \"%s:*\")", q, q);
	if (strchr(colon + 1, ':'))
		return policy_err(c, n, "protect entry \"%s\" has more than one ':'", q);
	if (colon == n->text || !colon[1])
		return policy_err(c, n, "protect entry \"%s\" needs a glob on both sides of ':'", q);
	return 0;
}

static int key_protect(struct policy_ctx *c, const struct policy_node *v, void *obj)
{
	struct policy *p = ((struct root *)obj)->p;

	return policy_get_list(c, v, "protect", LEAVE_OUT, check_protect, &p->protect, &p->n_protect);
}

/* --- keep, untagged, max_delete -------------------------------------------- */

static int rule_tags(struct policy_ctx *c, const struct policy_node *v, void *obj)
{
	struct policy_rule *r = obj;

	return policy_get_list(c, v, "tags", LEAVE_OUT, NULL, &r->tags, &r->n_tags);
}

static int rule_exclude(struct policy_ctx *c, const struct policy_node *v, void *obj)
{
	struct policy_rule *r = obj;

	return policy_get_list(c, v, "exclude_tags", LEAVE_OUT, NULL, &r->exclude_tags,
	                       &r->n_exclude_tags);
}

static int rule_newest(struct policy_ctx *c, const struct policy_node *v, void *obj)
{
	int64_t n;
	int rc = policy_get_int(c, v, "newest", "an integer >= 1", 1, INT32_MAX, &n);

	if (rc == 0)
		((struct policy_rule *)obj)->newest = (int)n;
	return rc;
}

static int rule_younger(struct policy_ctx *c, const struct policy_node *v, void *obj)
{
	return policy_get_duration(c, v, "younger_than", &((struct policy_rule *)obj)->younger_than);
}

static int read_rule(struct policy_ctx *c, const struct policy_node *v, struct policy_rule *r)
{
	static const struct policy_key keys[] = {
		{ "tags", rule_tags },
		{ "exclude_tags", rule_exclude },
		{ "newest", rule_newest },
		{ "younger_than", rule_younger },
	};
	const struct policy_node *seen[N_ELEMS(keys)] = { NULL };
	char d[80];
	int rc;

	r->line = v->line;
	if (v->kind != POLICY_NODE_MAP || v->n == 0)
		return policy_err(c, v, "a keep rule must be a mapping with tags, exclude_tags, "
		                  "newest or younger_than, not %s",
		                  policy_node_describe(v, d, sizeof(d)));
	if ((rc = policy_walk_map(c, v, keys, N_ELEMS(keys), " in keep rule", r, seen)) < 0)
		return rc;
	/* exclude_tags alone means "every tag but these": say so in the model,
	 * so no reader of a rule has to know the convention. */
	if (r->n_exclude_tags && !r->n_tags) {
		r->tags = xcalloc(1, sizeof(*r->tags));
		r->tags[0] = xstrdup("*");
		r->n_tags = 1;
	}
	return 0;
}

static int key_keep(struct policy_ctx *c, const struct policy_node *v, void *obj)
{
	struct policy *p = ((struct root *)obj)->p;
	char d[80];
	int rc;

	if (v->kind != POLICY_NODE_SEQ)
		return policy_err(c, v, "keep must be a list of rules, not %s",
		                  policy_node_describe(v, d, sizeof(d)));
	if (v->n == 0)
		return policy_err(c, v, "keep is an empty list: with no rule nothing would be kept");
	p->keep = xcalloc(v->n, sizeof(*p->keep));
	for (size_t i = 0; i < v->n; i++) {
		p->n_keep++;
		if ((rc = read_rule(c, &v->kids[i], &p->keep[i])) < 0)
			return rc;
	}
	return 0;
}

static int key_untagged(struct policy_ctx *c, const struct policy_node *v, void *obj)
{
	struct policy *p = ((struct root *)obj)->p;
	char d[80];

	if (policy_node_eq(v, "keep"))
		p->untagged = POLICY_UNTAGGED_KEEP;
	else if (policy_node_eq(v, "delete"))
		p->untagged = POLICY_UNTAGGED_DELETE;
	else
		return policy_err(c, v, "untagged must be keep or delete, not %s",
		                  policy_node_describe(v, d, sizeof(d)));
	return 0;
}

/* A count >= 1, or a whole percentage 1%..100% (decimals are refused:
 * "12.5%" asks for a precision the floor in policy_max_delete() drops). */
static int key_max_delete(struct policy_ctx *c, const struct policy_node *v, void *obj)
{
	static const char want[] = "a count >= 1 or a percentage from 1% to 100%";
	struct policy *p = ((struct root *)obj)->p;
	int pct = v->kind == POLICY_NODE_SCALAR && v->len > 0 && v->text[v->len - 1] == '%';
	int64_t n = 0;
	int ok = 0;
	char d[80];

	if (v->kind == POLICY_NODE_SCALAR) {
		char *num = xstrndup(v->text, v->len - (size_t)pct);

		ok = strlen(v->text) == v->len && policy_parse_decimal(num, strlen(num), &n) == 0;
		free(num);
	}
	if (ok && !v->plain)
		return policy_err(c, v, "\"%s\" is a string: write %s without quotes", v->text,
		                  v->text);
	if (!ok || n < 1 || (pct && n > 100))
		return policy_err(c, v, "max_delete must be %s, not %s", want,
		                  policy_node_describe(v, d, sizeof(d)));
	p->max_delete_percent = pct;
	p->max_delete = (double)n;
	return 0;
}

/* --- the document ---------------------------------------------------------- */

static const struct policy_key root_keys[] = {
	{ "version", key_version },
	{ "registry", key_registry },
	{ "repositories", key_repositories },
	{ "safekeeping", key_safekeeping },
	{ "deployed", key_deployed },
	{ "rollback", key_rollback },
	{ "protect_base_images", key_protect_base },
	{ "protect", key_protect },
	{ "keep", key_keep },
	{ "untagged", key_untagged },
	{ "max_delete", key_max_delete },
};

/* Required keys, in the order they are reported, and what to write. */
static const struct { const char *name, *hint; } required[] = {
	{ "version", " (write \"version: 1\")" },
	{ "registry", " (the primary registry to prune, e.g. \"registry: registry.example.com\")" },
	{ "repositories", " (use [\"*\"] for every repository)" },
	{ "safekeeping", " (an archive directory, a standby registry or both)" },
	{ "deployed", " (use \"deployed: none\" for an empty cluster)" },
	{ "keep", " (at least one rule)" },
};

static int check_required(struct policy_ctx *c, const struct policy_node *map,
                          const struct policy_node **seen)
{
	for (size_t i = 0; i < N_ELEMS(required); i++) {
		size_t j = 0;

		while (strcmp(root_keys[j].name, required[i].name) != 0)
			j++;
		if (!seen[j])
			return policy_err(c, map, "required key \"%s\" is missing%s", required[i].name,
			                  required[i].hint);
	}
	return 0;
}

/* Copies that land where the prune deletes are no copies. This catches the
 * plain cases (the primary itself, or a prefix a repositories glob covers,
 * as "*" does); prune must still leave the standby prefix out of scope. */
static int check_standby(struct policy_ctx *c, const struct root *r)
{
	const struct policy *p = r->p;
	char *host, *path, *probe;
	int rc = 0;

	if (!r->sk_registry || oci_ref_parse_location(p->safekeeping_registry, &host, &path) < 0)
		return 0;   /* not given; or already refused by sk_registry() */
	if (strcasecmp(host, p->registry) == 0 && !path)
		rc = policy_err(c, r->sk_registry, "safekeeping registry \"%s\" is the registry "
		                "being pruned", p->safekeeping_registry);
	for (size_t i = 0; rc == 0 && path && strcasecmp(host, p->registry) == 0 &&
	                   i < p->n_repositories; i++) {
		probe = xasprintf("%s/x", path);
		if (str_glob_match(p->repositories[i], probe) || str_glob_match(p->repositories[i], path))
			rc = policy_err(c, r->sk_registry, "safekeeping registry \"%s\" is inside the "
			                "repositories being pruned (\"%s\")", p->safekeeping_registry,
			                p->repositories[i]);
		free(probe);
	}
	free(host);
	free(path);
	return rc;
}

static int read_root(struct policy_ctx *c, const struct policy_node *root, struct policy *p)
{
	const struct policy_node *seen[N_ELEMS(root_keys)] = { NULL };
	struct root r = { p, NULL };
	char d[80];
	int rc;

	if (!root || policy_node_is_null(root))
		return error_set(RV_EINVALID, "%s: the policy is empty", c->path);
	if (root->kind != POLICY_NODE_MAP)
		return policy_err(c, root, "the policy must be a mapping of keys, not %s",
		                  policy_node_describe(root, d, sizeof(d)));
	if ((rc = policy_walk_map(c, root, root_keys, N_ELEMS(root_keys), "", &r, seen)) < 0 ||
	    (rc = check_required(c, root, seen)) < 0)
		return rc;
	return check_standby(c, &r);
}

int policy_parse(struct policy **out, const char *text, size_t len, const char *path)
{
	struct policy_ctx c = { path, NULL };
	struct policy_node *root = NULL;
	struct policy *p;
	int rc;

	*out = NULL;
	if (len > POLICY_MAX_BYTES)
		return error_set(RV_EINVALID, "%s: the policy is larger than 1 MiB", path);
	if ((rc = policy_tree_parse(&root, text, len, path)) < 0)
		return rc;
	p = xcalloc(1, sizeof(*p));
	p->path = xstrdup(path);
	p->rollback = 1;
	p->protect_base_images = 1;
	p->untagged = POLICY_UNTAGGED_KEEP;
	p->max_delete_percent = 1;
	p->max_delete = 10;
	rc = read_root(&c, root, p);
	policy_tree_free(root);
	free(c.base_dir);
	if (rc < 0) {
		policy_free(p);
		return rc;
	}
	*out = p;
	return 0;
}

/* Reads the file with its own open/read so the message carries the errno
 * text once: cannot read policy "FILE": No such file or directory. */
static int read_file(struct buf *out, const char *path)
{
	char chunk[16384];
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return error_set(RV_EINVALID, "cannot read policy \"%s\": %s", path, strerror(errno));
	for (;;) {
		n = read(fd, chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		if (buf_add(out, chunk, (size_t)n) < 0) {
			close(fd);
			return error_set(RV_EINVALID, "cannot read policy \"%s\": larger than 1 MiB", path);
		}
	}
	if (n < 0) {
		int e = errno;

		close(fd);
		return error_set(RV_EINVALID, "cannot read policy \"%s\": %s", path, strerror(e));
	}
	close(fd);
	return 0;
}

int policy_load(struct policy **out, const char *path)
{
	struct buf text = BUF_INIT;
	int rc;

	*out = NULL;
	buf_init(&text, POLICY_MAX_BYTES);
	rc = read_file(&text, path);
	if (rc == 0)
		rc = policy_parse(out, text.ptr, text.len, path);
	buf_release(&text);
	return rc;
}

void policy_free(struct policy *p)
{
	if (!p)
		return;
	free(p->path);
	free(p->registry);
	policy_strv_free(p->repositories, p->n_repositories);
	free(p->safekeeping_archive);
	free(p->safekeeping_registry);
	for (size_t i = 0; i < p->n_deployed; i++)
		deployed_source_release(&p->deployed[i]);
	free(p->deployed);
	policy_strv_free(p->protect, p->n_protect);
	for (size_t i = 0; i < p->n_keep; i++) {
		policy_strv_free(p->keep[i].tags, p->keep[i].n_tags);
		policy_strv_free(p->keep[i].exclude_tags, p->keep[i].n_exclude_tags);
	}
	free(p->keep);
	free(p);
}

/* Percentages round down, in integers so 10% of 9 is exactly 0: a plan
 * that deletes anything is then refused, which is the safe side. */
size_t policy_max_delete(const struct policy *p, size_t in_scope)
{
	size_t pct;

	if (p->max_delete_percent) {
		pct = (size_t)p->max_delete;
		return in_scope / 100 * pct + in_scope % 100 * pct / 100;
	}
	if (p->max_delete >= (double)in_scope)
		return in_scope;
	return (size_t)p->max_delete;
}
