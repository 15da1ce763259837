/*
 * internal.h — private to backup/.
 */
#ifndef RV_BACKUP_INTERNAL_H
#define RV_BACKUP_INTERNAL_H

#include <stdint.h>
#include "catalog/catalog.h"
#include "oci/store.h"

/* The created time the catalog keeps for a manifest: the
 * org.opencontainers.image.created annotation, else the config's
 * "created" (read from store), else for an index its newest child's
 * (looked up in the catalog). 0 when none is known. */
int64_t backup_created(struct oci_store *store, const char *repo, const struct oci_manifest *m,
                       catalog *cat);

/* Splits an archive index name "<registry>/<repo>:<tag>" or
 * "<registry>/<repo>@<digest>" into its parts (caller frees each). */
int backup_split_name(const char *name, char **registry, char **repo, char **tag);

#endif
