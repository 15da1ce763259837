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
 *   protect: ["base/?*:*"]                 # repo:tag globs never deleted; default none
 *   keep:                                  # required, non-empty; a union of rules
 *     - tags: ["latest"]                   # tag globs (non-empty list)
 *       exclude_tags: ["*-rc*"]            # optional
 *       newest: 5                          # optional, >= 1: per repository, by created time
 *     - younger_than: 30d                  # a duration: 90s 15m 12h 30d 2w
 *   untagged: keep                         # keep (default) | delete
 *   max_delete: 50%                        # a count (>= 1) or a percentage (0% < p <= 100%)
 *                                          # of the manifests in scope; default 10%
 *
 * How values are read (decisions; each refusal names the node):
 *  - Strings are the scalar's text as written, plain or quoted ("1.10"
 *    stays 1.10); empty, `~` and `null` are "empty"; no control characters.
 *  - Numbers and booleans are plain scalars only: a quoted "5" or "true" is
 *    a string and is refused with a hint. Integers are strictly decimal (no
 *    '+', no leading zeros: YAML 1.1 reads 010 as octal). Booleans are
 *    exactly true/false; yes/no/on/off/True are refused.
 *  - younger_than needs a unit (a bare 30 would be seconds, not days).
 *  - max_delete: a count >= 1 or a whole percentage 1%..100% ("12.5%" and
 *    0 / 0% are refused). policy_max_delete() rounds down.
 *  - Lists may be flow or block, and every list must be non-empty, the
 *    optional ones too (protect: [] is refused: leave the key out).
 *  - A rule with exclude_tags but no tags applies to every tag: the model
 *    then holds tags = ["*"], so n_exclude_tags > 0 implies n_tags > 0.
 *  - `deployed: none` only as the plain scalar none; `deployed: []` is
 *    refused. Each entry is a one-key mapping; kubectl takes a mapping
 *    ({} or {context: NAME}), the file sources a path.
 *  - Paths (deployed files, safekeeping.archive) are made absolute against
 *    the policy file's directory (itself made absolute with the working
 *    directory; nothing is canonicalised); a leading "~" is refused.
 *  - registry is stored normalised (oci_ref_parse_location, no path);
 *    safekeeping.registry is stored as written after the same check. A
 *    standby on the primary itself, or under a prefix a repositories glob
 *    covers (e.g. "*"), is refused — a best-effort check: prune must still
 *    leave the standby prefix out of scope. repositories entries holding
 *    ':' or '@' are refused (tags belong in keep rules).
 *  - protect entries: exactly one ':' with a glob on each side.
 *  - Order of reports: YAML-level problems first (syntax with libyaml's
 *    text, anchors, aliases, tags, a second document, nesting deeper than
 *    16), then the schema in document order, then missing required keys
 *    (at the top mapping's position), then the standby check.
 *  - An empty, blank, comment-only or `---`-only file: "FILE: the policy is
 *    empty". A UTF-8 BOM and CRLF line ends are accepted. Files over 1 MiB
 *    are refused. An unreadable file: cannot read policy "FILE": reason.
 *  All refusals are RV_EINVALID and leave *out NULL.
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

/* Reads and checks the policy at path. *out owned by the caller (policy_free). */
int policy_load(struct policy **out, const char *path);
/* The same from text (path names it in messages and anchors relative
 * paths). For tests and fuzzing. */
int policy_parse(struct policy **out, const char *text, size_t len, const char *path);
void policy_free(struct policy *p);

/* How many manifests a plan may delete out of `in_scope`: a count is
 * min(count, in_scope); a percentage is floor(in_scope * p / 100), so 10% of
 * 9 is 0 and a plan that deletes anything is refused (the safe side). */
size_t policy_max_delete(const struct policy *p, size_t in_scope);

#endif
