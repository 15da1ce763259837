/*
 * internal.h — private to prune/: the planner's model of the registry.
 */
#ifndef RV_PRUNE_INTERNAL_H
#define RV_PRUNE_INTERNAL_H

#include "prune/prune.h"
#include "util/strlist.h"

/* Why an image is kept, strongest first. */
enum why {
	WHY_NONE = 0,
	WHY_RULE,        /* a keep rule, or untagged: keep */
	WHY_PROTECTED,   /* deployed, rollback, protect glob, base, child, referrer */
};

/* Created times before 1980 are not real (SOURCE_DATE_EPOCH=0 builds,
 * cosign's 0001-01-01): the time the catalog first saw the digest stands in. */
#define CREATED_PLAUSIBLE 315532800

/* One manifest in one repository. */
struct node {
	char *repo;
	char digest[OCI_DIGEST_MAX];
	struct oci_manifest *m;
	int64_t created;              /* see CREATED_PLAUSIBLE */
	int64_t first_seen;           /* by the catalog */
	struct strlist tags;          /* current tags on it (attachment tags too) */
	int top;                      /* tagged, or untagged on its own */
	int listed_child;             /* a child of some index in scope */
	int attachment;               /* named only by attachment tags (sig/fallback index) */
	int outside;                  /* deployed, in a repository out of scope: never planned */
	enum why why;
	struct strlist reasons;       /* the protecting ones first */
	size_t n_strong;              /* how many reasons protect */
	int deleted;                  /* decided: delete */
	char *subject;                /* digest its attachment tag or `subject` names, or NULL */
};

struct model {
	const struct prune_options *o;
	const struct policy *p;
	struct oci_store *reg;
	int64_t now;
	struct node *nodes;
	size_t n, alloc;
	size_t *buckets;              /* "repo@digest" → index + 1 */
	size_t n_buckets;
	struct deployed_set deployed; /* read before anything else */
};

struct node *model_find(struct model *md, const char *repo, const char *digest);
struct node *model_add(struct model *md, const char *repo, const char *digest);
/* The node a repo:tag names now, or NULL. */
struct node *model_tagged(struct model *md, const char *repo, const char *tag);
void model_release(struct model *md);
/* Appends repo:ref to a list for xfer_resolve/xfer_present. */
void found_add(struct xfer_found **v, size_t *n, size_t *alloc, const char *repo,
               const char *ref);

/* keep.c: marks what is kept and why (deployed, rules, closure). The
 * deployed sources are read first of all (keep_deployed_read: fail closed
 * before the registry is touched) and applied once the model is loaded. */
int keep_deployed_read(struct model *md);
int keep_deployed(struct model *md);
void keep_deployed_release(struct model *md);
/* The deployed digests of the primary's repo (appended): untagged ones
 * must be found even where the registry cannot list them. */
void keep_deployed_digests(const struct model *md, const char *repo, struct strlist *out);
/* 1 when a policy `repositories` glob covers repo. */
int keep_in_scope(const struct policy *p, const char *repo);
/* 1 when a deployed reference's registry is the policy's primary: the same
 * name, the same host in other letter case, or a loopback name (localhost,
 * 127.0.0.0/8, [::1]) for a loopback primary on the same port. */
int keep_on_primary(const struct model *md, const char *registry);
void keep_rules(struct model *md);
void keep_closure(struct model *md);
/* Adds a reason; the strongest `why` wins for the node. */
void keep_mark(struct node *nd, enum why why, const char *fmt, ...) RV_PRINTF(3, 4);

#endif
