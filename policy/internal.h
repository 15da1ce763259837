/*
 * internal.h — what the .c files of policy/ share; not the module interface.
 *
 * Reading a policy is two passes. tree.c turns the YAML events into a
 * small tree of scalars, lists and mappings, refusing what the policy
 * language does not have (anchors, aliases, tags, several documents, deep
 * nesting) and every syntax error. policy.c then walks that tree in
 * document order against the schema, with the typed readers of value.c,
 * so the first schema problem in the file is the one reported.
 */
#ifndef RV_POLICY_INTERNAL_H
#define RV_POLICY_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include "util/xalloc.h"

#define POLICY_MAX_BYTES (1024 * 1024)
/* The schema needs 4 levels (root, deployed, entry, kubectl); anything far
 * deeper is refused before it costs stack. */
#define POLICY_MAX_DEPTH 16

enum policy_node_kind { POLICY_NODE_SCALAR = 1, POLICY_NODE_SEQ, POLICY_NODE_MAP };

struct policy_node {
	enum policy_node_kind kind;
	int plain;                 /* a scalar written without quotes or | > */
	int line, col;             /* 1-based, where the node starts */
	char *text;                /* scalar value, NUL-terminated */
	size_t len;                /* its length (text may hold a NUL before len) */
	struct policy_node *kids;  /* list items; mapping: key, value, key, value… */
	size_t n;
	size_t alloc;
};

/* Parses YAML text into *out: NULL for a stream with no document (empty or
 * comment-only). RV_EINVALID with "PATH:LINE:COL: problem" otherwise. */
int policy_tree_parse(struct policy_node **out, const char *text, size_t len, const char *path);
void policy_tree_free(struct policy_node *n);

/* What the typed readers need: the path for messages and the directory
 * that relative paths are resolved against (computed on first use). */
struct policy_ctx {
	const char *path;
	char *base_dir;
};

/* One key of a mapping and the function that reads its value into obj. */
struct policy_key {
	const char *name;
	int (*read)(struct policy_ctx *c, const struct policy_node *val, void *obj);
};

/* Sets RV_EINVALID with "PATH:LINE:COL: <message>" at node n. */
int policy_err(struct policy_ctx *c, const struct policy_node *n, const char *fmt, ...)
	RV_PRINTF(3, 4);
/* 1 for an empty plain scalar, "~" or "null" (YAML's ways to write nothing). */
int policy_node_is_null(const struct policy_node *n);
/* 1 when n is a scalar whose whole text is s. */
int policy_node_eq(const struct policy_node *n, const char *s);
/* For messages: "\"text\"" (printable, cut), "empty", "a list", "a mapping". */
const char *policy_node_describe(const struct policy_node *n, char *buf, size_t len);

/* The typed readers. `what` names the value in messages ("newest",
 * "safekeeping archive"). Each refuses with one message at the node. */
int policy_get_string(struct policy_ctx *c, const struct policy_node *n, const char *what,
                      char **out);
int policy_get_path(struct policy_ctx *c, const struct policy_node *n, const char *what,
                    char **out);
/* `want` completes "WHAT must be WANT" ("an integer >= 1"). */
int policy_get_int(struct policy_ctx *c, const struct policy_node *n, const char *what,
                   const char *want, int64_t min, int64_t max, int64_t *out);
int policy_get_bool(struct policy_ctx *c, const struct policy_node *n, const char *what,
                    int *out);
int policy_get_duration(struct policy_ctx *c, const struct policy_node *n, const char *what,
                        int64_t *out);
/* A non-empty list of strings; `empty_hint` ends the message for [] (" (…)"
 * or ""); `check` (may be NULL) vets each item. */
int policy_get_list(struct policy_ctx *c, const struct policy_node *n, const char *what,
                    const char *empty_hint,
                    int (*check)(struct policy_ctx *, const struct policy_node *),
                    char ***out, size_t *n_out);
void policy_strv_free(char **v, size_t n);
/* Strict decimal (optional '-', no leading zeros, no '+'); -1 otherwise.
 * Sets no message. */
int policy_parse_decimal(const char *s, size_t len, int64_t *out);

/* n must be a mapping; `what` names it ("safekeeping", "keep rule"). */
int policy_want_map(struct policy_ctx *c, const struct policy_node *n, const char *what);
/* Reads each key of map with the matching entry of keys, in document
 * order. Unknown keys (listing the known ones), duplicate keys and
 * non-scalar keys are refused. seen[i] is set to the key node of keys[i]
 * (the caller zeroes seen; n_keys entries). `where` ends messages about
 * keys: "" at the top level, " in keep rule". */
int policy_walk_map(struct policy_ctx *c, const struct policy_node *map,
                    const struct policy_key *keys, size_t n_keys, const char *where,
                    void *obj, const struct policy_node **seen);

#endif
