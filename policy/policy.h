/*
 * policy.h — the prune policy file (ARCHITECTURE.md "The policy file"),
 * read strictly.
 *
 * A policy decides what may be deleted, so a policy that is not exactly
 * what its author meant must stop everything (invariant 1): unknown keys,
 * duplicate keys, wrong types (a quoted "5" is a string, not a number),
 * missing required keys, `newest: 0`, an empty `keep`, an empty rule, an
 * empty or comment-only file, aliases, several documents, an unreadable
 * file — each is RV_EINVALID with one line "FILE:LINE:COLUMN: message"
 * (LINE and COLUMN 1-based, pointing at the offending node), and nothing
 * is contacted.
 *
 *   version: 1                             # required, must be 1
 *   registry: registry.example.com         # required: the primary to prune
 *   repositories: ["*"]                    # required, non-empty list of globs
 *   safekeeping:                           # required, at least one of:
 *     archive: /var/backups/regvault       #   archive store directory
 *     registry: standby.example.com/mirror #   standby HOST[:PORT][/PREFIX]
 *   deployed:                              # required: a non-empty list, or exactly `none`
 *     - kubectl: {context: prod}           #   or `kubectl: {}` for the current context
 *     - kubernetes-json: cluster.json      #   relative paths are relative to the policy file
 *     - refs-file: deployed.txt
 *   rollback: 1                            # default 1; 0..100
 *   protect_base_images: true              # default true
 *   protect: ["base/*:*"]                  # repo:tag globs never deleted; default none
 *   keep:                                  # required, non-empty; a union of rules
 *     - tags: ["latest"]                   # tag globs (non-empty list)
 *       exclude_tags: ["*-rc*"]            # optional
 *       newest: 5                          # optional, >= 1: per repository, by created time
 *     - younger_than: 30d                  # a duration: 90s 15m 12h 30d 2w
 *   untagged: keep                         # keep (default) | delete
 *   max_delete: 50%                        # a count (>= 1) or a percentage (0% < p <= 100%)
 *                                          # of the manifests in scope; default 10%
 */
#ifndef RV_POLICY_POLICY_H
#define RV_POLICY_POLICY_H

#include <stddef.h>
#include <stdint.h>
#include "deployed/deployed.h"

struct policy_rule {
	char **tags;              /* NULL (n_tags 0) when the rule has no tag list */
	size_t n_tags;
	char **exclude_tags;
	size_t n_exclude_tags;
	int newest;               /* 0 = no count limit */
	int64_t younger_than;     /* seconds; 0 = no age rule */
	int line;                 /* where the rule starts, for "rule N (line L)" */
};

enum policy_untagged { POLICY_UNTAGGED_KEEP = 0, POLICY_UNTAGGED_DELETE };

struct policy {
	char *path;
	char *registry;
	char **repositories;
	size_t n_repositories;
	char *safekeeping_archive;        /* NULL when not given */
	char *safekeeping_registry;       /* NULL when not given */
	struct deployed_source *deployed; /* empty when deployed_none */
	size_t n_deployed;
	int deployed_none;
	int rollback;
	int protect_base_images;
	char **protect;                   /* "repo-glob:tag-glob" */
	size_t n_protect;
	struct policy_rule *keep;
	size_t n_keep;
	enum policy_untagged untagged;
	int max_delete_percent;           /* 1: max_delete is a percentage */
	double max_delete;                /* the count, or the percentage */
};

/* Reads and checks the policy at path. *out owned by the caller. */
int policy_load(struct policy **out, const char *path);
/* The same from text (path names it in messages and anchors relative
 * paths). For tests and fuzzing. */
int policy_parse(struct policy **out, const char *text, size_t len, const char *path);
void policy_free(struct policy *p);

/* How many manifests a plan may delete out of `in_scope`. */
size_t policy_max_delete(const struct policy *p, size_t in_scope);

#endif
