/*
 * usage.h — what a registry stores, per repository, and what a prune
 * plan would give back.
 *
 * usage_compute reads the registry as it is now: every repository it
 * lists, every tag resolved to its digest, the untagged manifests the
 * catalog remembers in each repository (a tag named them once, or a
 * backup or plan recorded them) that are still there, every manifest an
 * index names, and any manifest a plan names. Manifests come from the
 * catalog when it has them (they never change under a digest), else from
 * the registry, and are then cached in the catalog when it is writable.
 *
 * A manifest's own bytes, its config and its layers are each a blob.
 * distribution stores a blob once per registry and links it into every
 * repository that uses it, so:
 *
 *   a repository's bytes   every distinct blob its manifests name, once;
 *   shared                 those of them another repository names too;
 *   unique                 the rest: what deleting the repository frees;
 *   the registry's bytes   every distinct blob once (not the sum of rows).
 *
 * Untagged manifests that regvault never saw are invisible: registries
 * such as distribution cannot list them, so they are not counted. Foreign
 * layers (stored elsewhere, named by URL) are not counted either.
 *
 * With a plan, reclaimable bytes are those of the blobs that only
 * manifests the plan deletes name: a blob that any remaining manifest in
 * any repository names — in the policy's scope or not — stays. The
 * registry frees them when its garbage collection runs.
 */
#ifndef RV_USAGE_USAGE_H
#define RV_USAGE_USAGE_H

#include <stddef.h>
#include <stdint.h>
#include "catalog/catalog.h"
#include "oci/digest.h"
#include "registry/registry.h"

/* One manifest of a plan: present when the plan was made, and whether the
 * plan deletes it. */
struct usage_plan_item {
	const char *repository;
	const char *digest;
	int deleted;
};

struct usage_options {
	registry_session *session;
	const char *registry;        /* HOST[:PORT] */
	catalog *cat;                /* NULL: no cache, no remembered untagged manifests */
	int cache;                   /* cat is writable: record manifests read from the registry */
	int jobs;                    /* HEADs at once */
	const char *repo_glob;       /* rows to report (NULL: all); sharing still spans
	                                every repository */
	const struct usage_plan_item *plan;   /* NULL: no plan, nothing reclaimable */
	size_t n_plan;
};

struct usage_repo {
	char *name;
	size_t tags, manifests;
	size_t manifests_deleted;    /* by the plan */
	int64_t bytes, shared, unique;
	int64_t reclaimable;         /* bytes of freed blobs this repository names */
};

struct usage_report {
	char *registry;
	struct usage_repo *repos;    /* those matching repo_glob, sorted by name */
	size_t n_repos;
	/* The whole registry, whatever repo_glob selected: */
	size_t repositories, manifests, blobs;
	int64_t bytes;               /* every distinct blob once */
	int64_t shared;              /* of which named by more than one repository */
	int64_t reclaimable;         /* freed blobs, each once (0 without a plan) */
	size_t untagged;             /* untagged manifests found through the catalog or plan */
	size_t vanished;             /* manifests gone between listing and reading */
	int planned;
};

/* Reads the registry and counts. 0, or the first failure that stopped it
 * (the registry cannot be listed or read; RV_EUNSUPPORTED when it cannot
 * list its repositories). A tag or manifest that disappears while it is
 * read is not an error: it is counted in `vanished`. */
int usage_compute(const struct usage_options *o, struct usage_report *out);
void usage_report_release(struct usage_report *r);

#endif
