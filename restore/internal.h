/*
 * internal.h — private to restore/.
 */
#ifndef RV_RESTORE_INTERNAL_H
#define RV_RESTORE_INTERNAL_H

#include "restore/restore.h"
#include "util/xalloc.h"

/* A store holding a verified copy, as the catalog names it. */
struct candidate {
	int64_t store_id;
	int archive;
	char *location;      /* archive directory, or "host[/prefix]" */
	char *registry;      /* the primary's names the image is held under */
	char *repository;
};

struct candidates {
	struct candidate *v;
	size_t n;
};

/* An opened candidate. */
struct source {
	struct oci_store *store;
	char *repo;                /* the image's repository inside the store */
	char *name;                /* "archive DIR" / "registry HOST/PREFIX" */
};

/* Where the image goes. */
struct target {
	char *registry, *repo;
	struct oci_store *store;
};

void restore_note(struct restore_report *r, const char *fmt, ...) RV_PRINTF(2, 3);

/* Every store holding digest, best first (see restore.h). RV_ENOTFOUND
 * when none does. */
int restore_candidates(catalog *cat, const char *digest, enum restore_prefer prefer,
                       struct candidates *out);
void restore_candidates_release(struct candidates *cs);
void restore_source_close(struct source *src);

int restore_target_open(struct target *t, registry_session *s, const char *registry,
                        const char *repo);
void restore_target_close(struct target *t);

/* Copies digest from src to t (tag last, NULL = by digest only), reads it
 * back, and adds the counts to out. */
int restore_push(const struct source *src, const char *digest, struct target *t,
                 const char *tag, const struct xfer_options *xo, struct restore_report *out);
/* restore_push from each candidate in turn until one works; out->source
 * names the one used, out->notes every one that failed and why. */
int restore_from_candidates(const struct candidates *cs, registry_session *s,
                            const char *digest, struct target *t, const char *tag,
                            const struct xfer_options *xo, struct restore_report *out);

/* "HOST[:PORT][/REPO]" for --to: no Docker Hub "library/" rule. */
int restore_parse_target(const char *to, char **registry, char **repo);

#endif
