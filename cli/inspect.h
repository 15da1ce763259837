/*
 * inspect.h — what `regvault inspect` gathers about one reference, read
 * through the oci_store interface, and its text and JSON renderings.
 */
#ifndef RV_CLI_INSPECT_H
#define RV_CLI_INSPECT_H

#include <stdint.h>
#include <jansson.h>
#include "oci/config.h"
#include "oci/manifest.h"
#include "oci/reference.h"
#include "oci/store.h"

/* One manifest: an image with its config, or an index with its children. */
struct inspect_node {
	struct oci_manifest *manifest;      /* owned; NULL when missing */
	const struct oci_descriptor *desc;  /* in the parent index; NULL at the top */
	struct oci_config config;           /* images whose config is an image config */
	int has_config;
	int64_t created;                    /* config "created", else the manifest's
	                                     * org.opencontainers.image.created; 0: unknown */
	int64_t layers_size;                /* sum of the layers' sizes */
	struct inspect_node *children;      /* index: one per entry, same order */
	size_t n_children;
};

struct inspect_result {
	char *reference;                    /* canonical form of what was asked */
	char *registry;
	/* With a platform picked from an index: the index, whose child is root. */
	struct oci_manifest *index;
	struct inspect_node root;
};

#define INSPECT_RESULT_INIT { NULL, NULL, NULL, { NULL, NULL, OCI_CONFIG_INIT, 0, 0, 0, NULL, 0 } }

struct inspect_options {
	/* "os/arch[/variant]": pick that child of an index (and check that an
	 * image is that platform). NULL: show what the reference names. */
	const char *platform;
};

/* Reads the manifest ref names (by digest when it has one, else by tag),
 * and for an image its config; for an index every child manifest and its
 * config. A child missing from the registry is marked (manifest NULL) and
 * warned about; any other failure is returned. 0 or an RV_E* code with the
 * message set: RV_ENOTFOUND for an unknown manifest or no child of the
 * platform. */
int inspect_run(struct inspect_result *out, struct oci_store *store,
                const struct oci_ref *ref, const struct inspect_options *opts);
void inspect_result_release(struct inspect_result *r);

/* 1 when s is "os/arch" or "os/arch/variant" with non-empty parts. */
int inspect_platform_valid(const char *s);

/* Prints the result for people on stdout. */
void inspect_print_text(const struct inspect_result *r);
/* The JSON document; new reference. */
json_t *inspect_to_json(const struct inspect_result *r);

#endif
