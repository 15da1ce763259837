/*
 * inspect.c — gathering and showing what one reference names.
 *
 * Everything is read through struct oci_store, so the same code will
 * inspect an archive copy once ocitar/ implements the interface.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli/inspect.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/log.h"
#include "util/str.h"
#include "util/timeutil.h"
#include "util/banned.h"

#define ANNOTATION_CREATED "org.opencontainers.image.created"

/* --- Gathering ------------------------------------------------------------- */

/* Media type without parameters equals want. */
static int media_type_is(const char *mt, const char *want)
{
	size_t n = strlen(want);

	return mt && !strncmp(mt, want, n) && (mt[n] == '\0' || mt[n] == ';');
}

static int gather_image(struct inspect_node *n, struct oci_store *s, const char *repo)
{
	const struct oci_manifest *m = n->manifest;
	struct buf raw = BUF_INIT;
	const char *ann;
	int64_t t;
	size_t i;
	int rc = 0;

	for (i = 0; i < m->n_layers; i++)
		n->layers_size += m->layers[i].size;
	/* Artifacts (signatures, SBOMs) carry configs that are not image
	 * configs; only an image config has created/os/architecture. */
	if (media_type_is(m->config.media_type, OCI_MT_IMAGE_CONFIG) ||
	    media_type_is(m->config.media_type, OCI_MT_DOCKER_CONFIG)) {
		rc = oci_store_blob_read(s, repo, &m->config, &raw, OCI_CONFIG_MAX);
		if (rc == 0)
			rc = oci_config_parse(&n->config, raw.ptr, raw.len);
		if (rc != 0)
			goto done;
		n->has_config = 1;
		n->created = n->config.created;
	}
	ann = oci_annotation_get(m->annotations, m->n_annotations, ANNOTATION_CREATED);
	if (!n->created && ann && time_parse_rfc3339(ann, &t) == 0)
		n->created = t;
done:
	buf_release(&raw);
	return rc;
}

/* Takes ownership of m. Index children are read one level deep. */
static int gather_node(struct inspect_node *n, struct oci_store *s, const char *repo,
                       struct oci_manifest *m)
{
	size_t i;
	int rc;

	n->manifest = m;
	if (m->kind == OCI_KIND_IMAGE)
		return gather_image(n, s, repo);
	if (m->kind != OCI_KIND_INDEX || !m->n_manifests)
		return 0;
	n->children = xcalloc(m->n_manifests, sizeof(*n->children));
	n->n_children = m->n_manifests;
	for (i = 0; i < m->n_manifests; i++) {
		struct inspect_node *c = &n->children[i];
		struct oci_manifest *cm = NULL;

		c->desc = &m->manifests[i];
		rc = oci_store_manifest_get(s, repo, c->desc->digest, &cm);
		if (rc == RV_ENOTFOUND) {
			/* A partial copy of an index is worth showing, not hiding. */
			log_warn("%s", error_msg());
			continue;
		}
		if (rc != 0)
			return rc;
		c->manifest = cm;
		if (cm->kind == OCI_KIND_IMAGE && (rc = gather_image(c, s, repo)) != 0)
			return rc;
	}
	return 0;
}

/* Splits "os/arch[/variant]" into a copy whose parts *os, *arch, *variant
 * point into; returns the copy (caller frees) or NULL when malformed. */
static char *split_platform(const char *s, char **os, char **arch, char **variant)
{
	char *copy = xstrdup(s), *p;

	*os = copy;
	*variant = NULL;
	p = strchr(copy, '/');
	if (!p)
		goto bad;
	*p++ = '\0';
	*arch = p;
	p = strchr(p, '/');
	if (p) {
		*p++ = '\0';
		*variant = p;
		if (!*p || strchr(p, '/'))
			goto bad;
	}
	if (**os && **arch)
		return copy;
bad:
	free(copy);
	return NULL;
}

int inspect_platform_valid(const char *s)
{
	char *os, *arch, *variant, *copy = split_platform(s, &os, &arch, &variant);

	free(copy);
	return copy != NULL;
}

static int platform_matches(const char *want, const char *os, const char *arch,
                            const char *variant, int *exact)
{
	char *wos, *warch, *wvariant, *copy = split_platform(want, &wos, &warch, &wvariant);
	int ok = copy && os && arch && !strcmp(os, wos) && !strcmp(arch, warch);

	if (ok && wvariant)
		ok = variant && !strcmp(variant, wvariant);
	*exact = ok && (wvariant || !variant);
	free(copy);
	return ok;
}

/* The child for platform: an exact match, else (no variant asked) the
 * first child of that os/arch whatever its variant. */
static const struct oci_descriptor *pick_child(const struct oci_manifest *idx, const char *want)
{
	const struct oci_descriptor *first = NULL;
	size_t i;
	int exact;

	for (i = 0; i < idx->n_manifests; i++) {
		const struct oci_platform *p = idx->manifests[i].platform;

		if (!p || !platform_matches(want, p->os, p->architecture, p->variant, &exact))
			continue;
		if (exact)
			return &idx->manifests[i];
		if (!first)
			first = &idx->manifests[i];
	}
	return first;
}

int inspect_run(struct inspect_result *out, struct oci_store *store,
                const struct oci_ref *ref, const struct inspect_options *opts)
{
	const char *repo = ref->repository;
	const struct oci_descriptor *d;
	struct oci_manifest *m = NULL;
	int rc, exact;

	out->reference = oci_ref_string(ref);
	out->registry = xstrdup(ref->registry);
	/* A digest names the bytes; a tag beside it is only a label (Docker). */
	rc = oci_store_manifest_get(store, repo, ref->digest ? ref->digest : ref->tag, &m);
	if (rc != 0)
		return rc;
	if (opts->platform && m->kind == OCI_KIND_INDEX) {
		out->index = m;
		m = NULL;
		d = pick_child(out->index, opts->platform);
		if (!d)
			return error_set(RV_ENOTFOUND, "index \"%s\" has no manifest for platform \"%s\"",
			                 out->reference, opts->platform);
		out->root.desc = d;
		rc = oci_store_manifest_get(store, repo, d->digest, &m);
		if (rc != 0)
			return rc;
	}
	rc = gather_node(&out->root, store, repo, m);
	if (rc != 0 || !opts->platform || out->index)
		return rc;
	if (!out->root.has_config ||
	    !platform_matches(opts->platform, out->root.config.os, out->root.config.architecture,
	                      out->root.config.variant, &exact))
		return error_set(RV_ENOTFOUND, "image \"%s\" is not for platform \"%s\"",
		                 out->reference, opts->platform);
	return 0;
}

static void node_release(struct inspect_node *n)
{
	size_t i;

	for (i = 0; i < n->n_children; i++)
		node_release(&n->children[i]);
	free(n->children);
	oci_config_release(&n->config);
	oci_manifest_free(n->manifest);
}

void inspect_result_release(struct inspect_result *r)
{
	node_release(&r->root);
	oci_manifest_free(r->index);
	free(r->reference);
	free(r->registry);
}

/* --- Shared by both renderings --------------------------------------------- */

static const char *kind_name(enum oci_kind k)
{
	switch (k) {
	case OCI_KIND_IMAGE: return "image";
	case OCI_KIND_INDEX: return "index";
	case OCI_KIND_SCHEMA1: return "schema1";
	case OCI_KIND_UNKNOWN: break;
	}
	return "unknown";
}

/* The platform from the index entry, else from the config. 0 when neither
 * says (cosign and other artifacts write configs with empty os/arch). */
static int node_platform_parts(const struct inspect_node *n, const char **os,
                               const char **arch, const char **variant)
{
	*os = *arch = *variant = NULL;
	if (n->desc && n->desc->platform) {
		*os = n->desc->platform->os;
		*arch = n->desc->platform->architecture;
		*variant = n->desc->platform->variant;
	} else if (n->has_config) {
		*os = n->config.os;
		*arch = n->config.architecture;
		*variant = n->config.variant;
	}
	return *os && **os && *arch && **arch;
}

/* "os/arch[/variant]", or NULL when unknown. Caller frees. */
static char *node_platform(const struct inspect_node *n)
{
	const char *os, *arch, *variant;

	if (!node_platform_parts(n, &os, &arch, &variant))
		return NULL;
	return xasprintf("%s/%s%s%s", os, arch, variant ? "/" : "", variant ? variant : "");
}

/* --- Text ------------------------------------------------------------------ */

static void field(int indent, const char *label, const char *fmt, ...) RV_PRINTF(3, 4);

/* "  Label:      value" with values aligned per indentation level. */
static void field(int indent, const char *label, const char *fmt, ...)
{
	va_list ap;

	printf("%*s%s:%*s", indent, "", label, (int)(12 - strlen(label)), "");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
}

static const char *human(int64_t n, char *out, size_t len)
{
	return str_human_bytes(n, out, len);
}

static void print_descriptor_line(int indent, const struct oci_descriptor *d)
{
	char sz[32];

	printf("%*s%s  %8s  %s\n", indent, "", d->digest, human(d->size, sz, sizeof(sz)),
	       d->media_type);
}

static void print_image(int indent, const struct inspect_node *n)
{
	const struct oci_manifest *m = n->manifest;
	char sz[32], ts[32];
	size_t i;

	field(indent, "Config", "%s (%s)", m->config.digest, human(m->config.size, sz, sizeof(sz)));
	if (n->created)
		field(indent, "Created", "%s", time_format_rfc3339(n->created, ts, sizeof(ts)));
	field(indent, "Layers", "%zu (%s)", m->n_layers, human(n->layers_size, sz, sizeof(sz)));
	for (i = 0; i < m->n_layers; i++)
		print_descriptor_line(indent + 2, &m->layers[i]);
}

static void print_annotations(int indent, const struct oci_manifest *m)
{
	size_t i;

	if (!m->n_annotations)
		return;
	printf("%*sAnnotations:\n", indent, "");
	for (i = 0; i < m->n_annotations; i++)
		printf("%*s%s=%s\n", indent + 2, "", m->annotations[i].key, m->annotations[i].value);
}

static void print_child(const struct inspect_node *c)
{
	char *plat = node_platform(c);
	char sz[32];

	printf("  %-14s %s  %8s  %s\n", plat ? plat : "-", c->desc->digest,
	       human(c->desc->size, sz, sizeof(sz)), c->desc->media_type);
	free(plat);
	if (!c->manifest)
		field(4, "Missing", "%s", "the registry does not have this manifest");
	else if (c->manifest->kind == OCI_KIND_IMAGE)
		print_image(4, c);
}

void inspect_print_text(const struct inspect_result *r)
{
	const struct inspect_node *n = &r->root;
	const struct oci_manifest *m = n->manifest;
	char *plat = node_platform(n);
	char sz[32];
	size_t i;

	field(0, "Reference", "%s", r->reference);
	if (r->index)
		field(0, "Index", "%s (%s)", r->index->digest, r->index->media_type);
	field(0, "Digest", "%s", m->digest);
	field(0, "Media type", "%s", m->media_type);
	if (m->artifact_type)
		field(0, "Artifact", "%s", m->artifact_type);
	field(0, "Size", "%s", human((int64_t)m->raw_len, sz, sizeof(sz)));
	if (plat)
		field(0, "Platform", "%s", plat);
	free(plat);
	if (m->kind == OCI_KIND_IMAGE)
		print_image(0, n);
	if (m->kind == OCI_KIND_INDEX) {
		field(0, "Manifests", "%zu", n->n_children);
		for (i = 0; i < n->n_children; i++)
			print_child(&n->children[i]);
	}
	print_annotations(0, m);
	if (m->subject)
		field(0, "Subject", "%s (%s)", m->subject->digest, m->subject->media_type);
}

/* --- JSON ------------------------------------------------------------------ */

static json_t *descriptor_json(const struct oci_descriptor *d)
{
	return json_pack("{s:s,s:s,s:I}", "digest", d->digest, "mediaType", d->media_type,
	                 "size", (json_int_t)d->size);
}

static json_t *platform_json(const struct inspect_node *n)
{
	const char *os, *arch, *variant;
	json_t *o;

	if (!node_platform_parts(n, &os, &arch, &variant))
		return NULL;
	o = json_pack("{s:s,s:s}", "os", os, "architecture", arch);
	if (variant)
		json_object_set_new(o, "variant", json_string(variant));
	return o;
}

static json_t *annotations_json(const struct oci_kv *kv, size_t n)
{
	json_t *o = json_object();
	size_t i;

	for (i = 0; i < n; i++)
		json_object_set_new(o, kv[i].key, json_string(kv[i].value));
	return o;
}

static void add_image_json(json_t *o, const struct inspect_node *n)
{
	const struct oci_manifest *m = n->manifest;
	json_t *layers = json_array();
	char ts[32];
	size_t i;

	json_object_set_new(o, "config", descriptor_json(&m->config));
	if (n->created)
		json_object_set_new(o, "created",
		                    json_string(time_format_rfc3339(n->created, ts, sizeof(ts))));
	for (i = 0; i < m->n_layers; i++)
		json_array_append_new(layers, descriptor_json(&m->layers[i]));
	json_object_set_new(o, "layers", layers);
	json_object_set_new(o, "layersSize", json_integer(n->layers_size));
}

static json_t *node_json(const struct inspect_node *n)
{
	const struct oci_manifest *m = n->manifest;
	json_t *o, *plat = platform_json(n), *children;
	size_t i;

	if (!m) {
		o = descriptor_json(n->desc);
		json_object_set_new(o, "missing", json_true());
		if (plat)
			json_object_set_new(o, "platform", plat);
		return o;
	}
	o = json_pack("{s:s,s:s,s:I,s:s}", "digest", m->digest, "mediaType", m->media_type,
	              "size", (json_int_t)m->raw_len, "kind", kind_name(m->kind));
	if (plat)
		json_object_set_new(o, "platform", plat);
	if (m->artifact_type)
		json_object_set_new(o, "artifactType", json_string(m->artifact_type));
	if (m->kind == OCI_KIND_IMAGE)
		add_image_json(o, n);
	if (m->kind == OCI_KIND_INDEX) {
		children = json_array();
		for (i = 0; i < n->n_children; i++)
			json_array_append_new(children, node_json(&n->children[i]));
		json_object_set_new(o, "manifests", children);
	}
	json_object_set_new(o, "annotations", annotations_json(m->annotations, m->n_annotations));
	if (m->subject)
		json_object_set_new(o, "subject", descriptor_json(m->subject));
	return o;
}

json_t *inspect_to_json(const struct inspect_result *r)
{
	json_t *o = node_json(&r->root);

	json_object_set_new(o, "reference", json_string(r->reference));
	json_object_set_new(o, "registry", json_string(r->registry));
	if (r->index)
		json_object_set_new(o, "index", json_pack("{s:s,s:s,s:I}", "digest", r->index->digest,
		                    "mediaType", r->index->media_type,
		                    "size", (json_int_t)r->index->raw_len));
	return o;
}
