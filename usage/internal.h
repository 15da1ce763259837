/*
 * internal.h — private to usage/: the registry as read.
 */
#ifndef RV_USAGE_INTERNAL_H
#define RV_USAGE_INTERNAL_H

#include "oci/store.h"
#include "usage/usage.h"
#include "util/strlist.h"

/* One manifest in one repository. */
struct node {
	size_t repo;                  /* index into walk.repos */
	char digest[OCI_DIGEST_MAX];
	struct oci_manifest *m;       /* NULL: gone while being read */
	int tagged;                   /* a tag names it */
	int child;                    /* an index names it */
	int deleted;                  /* the plan deletes it */
};

struct walk {
	const struct usage_options *o;
	struct oci_store *reg;
	struct strlist repos;         /* sorted up to n_listed; a plan's strays after */
	size_t n_listed;
	size_t *tags;                 /* tags per repository */
	struct node *nodes;
	size_t n, alloc;
	size_t *buckets;              /* (repo, digest) → index + 1 */
	size_t n_buckets;
	size_t vanished;
};

/* walk.c: reads the registry into w (w->o set). */
int usage_walk(struct walk *w);
void usage_walk_release(struct walk *w);

#endif
