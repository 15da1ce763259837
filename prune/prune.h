/*
 * prune.h — retention that cannot delete what matters, and whose every
 * deletion is reversible.
 *
 * prune_plan reads the primary (repositories in scope, every tag resolved
 * to its digest, manifests from the catalog when known — they are
 * immutable — else from the registry), reads what is deployed, and decides
 * per image (one digest in one repository, with all its tags):
 *
 *   protected  deployed (containers, templates, status imageIDs), a kept
 *              rollback ReplicaSet, a `protect` glob, the base of a kept
 *              image (annotations, or a layer list that is a prefix of a
 *              kept image's), a child of a kept index, a referrer or
 *              signature of a kept image — transitively;
 *   kept       by a keep rule (a union: tags, newest N per repository by
 *              created time, younger_than), or untagged with `untagged: keep`;
 *   delete     everything else in scope. A digest is deleted only when none
 *              of its tags is kept (deleting a digest deletes every tag on
 *              it); an image's referrers, signature tags and index children
 *              go with it unless something keeps them.
 *
 * Every decision carries its reasons ("deployed: pod api/user-svc-7d8f9c",
 * "rule 3: newest 10", "base of team/api:v1.4.2"). A plan that deletes
 * more than max_delete is marked refused.
 *
 * prune_execute (only with --execute or --apply) first keeps safe, in every
 * safekeeping target of the policy, each image it will delete and each
 * protected image not yet verified there (safekeep/: copy, read back,
 * record); then deletes from the primary only digests with a verified copy,
 * re-resolving each image's tags right before its delete (a tag that moved,
 * or a new tag on the digest, cancels that delete); each delete is
 * journaled before it is sent and confirmed after, so `restore --run RUN`
 * undoes the run and a crash leaves nothing unaccounted.
 */
#ifndef RV_PRUNE_PRUNE_H
#define RV_PRUNE_PRUNE_H

#include <stddef.h>
#include <stdint.h>
#include "catalog/catalog.h"
#include "deployed/deployed.h"
#include "policy/policy.h"
#include "registry/registry.h"
#include "xfer/xfer.h"

enum prune_decision { PRUNE_KEEP = 0, PRUNE_DELETE };

/* How strongly an image is kept: protected images are never deleted,
 * whatever the rules; "kept" ones are kept by the rules. */
enum prune_keep { PRUNE_BY_RULE = 0, PRUNE_PROTECTED };

struct prune_image {
	char *repository;
	char digest[OCI_DIGEST_MAX];
	char **tags;                   /* every tag on the digest (attachment tags too), sorted */
	size_t n_tags;
	char *media_type;
	int64_t created;               /* epoch seconds; 0 unknown */
	int64_t size;                  /* manifest + blobs (+ children), bytes */
	enum prune_decision decision;
	enum prune_keep keep;          /* for KEEP */
	int top;                       /* tagged, or untagged in its own right (not a child or referrer) */
	char **reasons;
	size_t n_reasons;
};

struct prune_plan {
	char *registry;
	char *policy;                       /* the policy file's path, or NULL */
	int64_t planned_at;
	struct prune_image *images;
	size_t n_images;
	size_t protected_, kept, deleted;   /* top-level images */
	size_t in_scope;                    /* top-level images in scope */
	size_t max_delete;                  /* what the policy allows of in_scope */
	/* Bytes of blobs only deleted images use, among the images in scope:
	 * out-of-scope repositories are not read, so a blob only they share
	 * with a deleted image is counted too (an upper bound; usage/ counts
	 * across the whole registry). */
	int64_t reclaimable;
	int refused;                        /* deleted > max_delete */
	char *refusal;                      /* why, when refused */
};

struct prune_options {
	const struct policy *policy;
	catalog *cat;                  /* writable: manifests and tags seen are recorded */
	registry_session *session;
	struct xfer_options xfer;      /* jobs, progress for safekeeping */
	struct deployed_options deployed;   /* kubectl program, timeout (rollback from the policy) */
	int64_t now;                   /* 0 = time_now(); tests pin it */
	const char *args_json;
};

/* Builds the plan. Fails closed: a deployed source that fails or lists
 * nothing, a registry that cannot be listed, a manifest that cannot be
 * read — each is an error and no plan. A plan deleting more than
 * max_delete is returned with refused set (not an error here: the caller
 * shows it and refuses). */
int prune_plan(const struct prune_options *o, struct prune_plan *out);
void prune_plan_release(struct prune_plan *p);
/* qsort comparator for an array of `const struct prune_image *`: by
 * repository, then newest first, then digest — the order a plan is shown
 * in, as text and as a report page. */
int prune_image_order(const void *a, const void *b);

/* The plan document of ARCHITECTURE.md:
 * {"registry", "plannedAt", "images":[{"repository","digest","tags","created","size",
 *  "decision","protected","reasons"}], "summary":{…}}. Caller frees. */
char *prune_plan_json(const struct prune_plan *p);
/* Reads a saved plan back (for --apply). RV_EINVALID naming what is wrong. */
int prune_plan_parse(struct prune_plan *out, const char *json, size_t len, const char *origin);

/* --apply's promise: the saved plan, or nothing. A fresh plan is made
 * and every image the saved plan deletes must still be deleted by it, with
 * the same tags; otherwise RV_EDENIED, "the plan is stale: …" naming the
 * first difference (an image now deployed, now the base of a kept one, a
 * tag moved or added). */
int prune_plan_check(const struct prune_plan *saved, const struct prune_plan *fresh);

struct prune_deletion {
	char *repository;
	char digest[OCI_DIGEST_MAX];
	char **tags;
	size_t n_tags;
	int done;                      /* deleted and confirmed */
	int rc;                        /* why not, when not */
	char *why;                     /* "no verified copy", "tag v2 moved", … */
};

struct prune_report {
	int64_t run_id;
	struct prune_deletion *deletions;   /* every DELETE of the plan, in order */
	size_t n_deletions;
	size_t deleted, skipped;
	int64_t reclaimable;
	size_t safekept, safekeep_failed;   /* images copied/verified to safekeeping */
};

/* Executes plan (just made, or read back with --apply). A refused plan is
 * not executed (RV_EDENIED). Deployed state is read again first: an image
 * the plan deletes that is deployed now makes the whole run stop
 * (RV_EDENIED, "plan is stale: …") before anything is deleted. 0 when every
 * planned deletion happened; RV_ERROR when some were skipped (each with
 * why: no verified copy, a tag moved, a new tag appeared). */
int prune_execute(const struct prune_options *o, const struct prune_plan *plan,
                  struct prune_report *out);
void prune_report_release(struct prune_report *r);

#endif
