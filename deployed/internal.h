/*
 * internal.h — what deployed/'s .c files share; not for other modules.
 *
 * deployed.c: sources, the set, deployed_read(); kubectl.c: running
 * kubectl; kubernetes.c: its JSON; refs.c: refs files.
 */
#ifndef RV_DEPLOYED_INTERNAL_H
#define RV_DEPLOYED_INTERNAL_H

#include <stddef.h>
#include "deployed/deployed.h"
#include "util/buf.h"

/* kubectl's stdout cap when the options give none, and the cap on files. */
#define DEPLOYED_MAX_JSON ((size_t)1 << 30)

/* Parses `text` (normalised as the header says) and appends it to s with
 * `why` and `where` (taken, freed on failure). RV_EINVALID with the
 * reference module's message ("invalid reference \"…\": …") on failure,
 * for the caller to prefix with the source and position. */
int deployed_set_add(struct deployed_set *s, const char *text, enum deployed_why why,
                     char *where);
/* Drops entries from index n on: undoes a failed source's partial work. */
void deployed_set_truncate(struct deployed_set *s, size_t n);

/* 1 when s is an image ID ("sha256:<64 hex>", "sha512:<128 hex>" or bare
 * 64 hex, as Docker, containerd and CRI-O print them): a local config
 * digest, not something a registry can be asked for. */
int deployed_is_image_id(const char *s);

/* The error for a source that named nothing (see deployed.h). */
int deployed_no_images(const char *origin);

/* Runs kubectl as deployed.h says and leaves its stdout in out (which must
 * be empty). `display` names the run in messages ("kubectl (context
 * \"prod\")"). RV_ENOTFOUND when the program is missing, RV_ETRANSIENT on
 * timeout, RV_ETOOBIG past the output cap, RV_ERROR on a failing exit. */
int deployed_kubectl_run(struct buf *out, const char *context, const char *display,
                         const struct deployed_options *o);

#endif
