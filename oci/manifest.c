/*
 * manifest.c — manifests and indexes parsed into a read-only view; the raw
 * bytes are kept and are what travels (image-spec descriptor.md "Digests",
 * distribution-spec "Pushing Manifests": the registry stores exact bytes).
 *
 * Refusals name the JSON path of the field at fault:
 *   manifest: layers[2].digest: invalid digest "sha256:zz"
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "oci/manifest.h"
#include "util/error.h"
#include "util/str.h"
#include "util/xalloc.h"
#include "util/banned.h"

#define MT_DOCKER_FOREIGN "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip"
#define MT_OCI_NONDIST_PREFIX "application/vnd.oci.image.layer.nondistributable."

/* "manifest: <path>.<field>: <what>", with either part optional. */
static int fail(int code, const char *path, const char *field, const char *fmt, ...)
	RV_PRINTF(4, 5);
static int fail(int code, const char *path, const char *field, const char *fmt, ...)
{
	char what[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	return error_set(code, "manifest: %s%s%s: %s", path, *path && field ? "." : "",
	                 field ? field : "", what);
}

static int schema1_refused(void)
{
	return error_set(RV_EUNSUPPORTED, "manifest: docker schema1 manifests are not supported");
}

/* Media types compare without parameters and case-insensitively
 * (RFC 6838 §4.2; distribution-spec: clients SHOULD ignore parameters). */
static int media_type_is(const char *mt, const char *want)
{
	size_t n = strcspn(mt, ";");

	while (n && (mt[n - 1] == ' ' || mt[n - 1] == '\t'))
		n--;
	return n == strlen(want) && strncasecmp(mt, want, n) == 0;
}

enum oci_kind oci_media_type_kind(const char *media_type)
{
	if (!media_type)
		return OCI_KIND_UNKNOWN;
	while (*media_type == ' ' || *media_type == '\t')
		media_type++;
	if (media_type_is(media_type, OCI_MT_IMAGE_MANIFEST) ||
	    media_type_is(media_type, OCI_MT_DOCKER_MANIFEST))
		return OCI_KIND_IMAGE;
	if (media_type_is(media_type, OCI_MT_IMAGE_INDEX) ||
	    media_type_is(media_type, OCI_MT_DOCKER_LIST))
		return OCI_KIND_INDEX;
	if (media_type_is(media_type, OCI_MT_DOCKER_SCHEMA1) ||
	    media_type_is(media_type, OCI_MT_DOCKER_SCHEMA1_SIGNED))
		return OCI_KIND_SCHEMA1;
	return OCI_KIND_UNKNOWN;
}

/* The media type alone, as the Content-Type header carried it. */
static char *strip_params(const char *ct)
{
	size_t n;

	while (*ct == ' ' || *ct == '\t')
		ct++;
	n = strcspn(ct, ";");
	while (n && (ct[n - 1] == ' ' || ct[n - 1] == '\t'))
		n--;
	return xstrndup(ct, n);
}

/* Optional fields that Go marshals as null when empty read as absent. */
static json_t *get(json_t *obj, const char *key)
{
	json_t *v = json_object_get(obj, key);

	return json_is_null(v) ? NULL : v;
}

static int get_string(char **out, json_t *obj, const char *path, const char *field,
                      int required)
{
	json_t *v = get(obj, field);

	if (!v)
		return required ? fail(RV_EINVALID, path, field, "missing") : 0;
	if (!json_is_string(v))
		return fail(RV_EINVALID, path, field, "not a string");
	*out = xstrdup(json_string_value(v));
	return 0;
}

/* Annotations are string→string (image-spec annotations.md). */
static int parse_annotations(struct oci_kv **out, size_t *n_out, json_t *obj, const char *path)
{
	json_t *ann = get(obj, "annotations"), *v;
	const char *key;
	char q[128], field[160];
	size_t i = 0;

	if (!ann)
		return 0;
	if (!json_is_object(ann))
		return fail(RV_EINVALID, path, "annotations", "not an object");
	*out = xcalloc(json_object_size(ann), sizeof(**out));
	json_object_foreach(ann, key, v) {
		if (!json_is_string(v)) {
			snprintf(field, sizeof(field), "annotations[\"%s\"]",
			         str_printable(q, sizeof(q), key));
			return fail(RV_EINVALID, path, field, "not a string");
		}
		(*out)[i].key = xstrdup(key);
		(*out)[i].value = xstrdup(json_string_value(v));
		*n_out = ++i;
	}
	return 0;
}

static int parse_urls(struct oci_descriptor *d, json_t *obj, const char *path)
{
	json_t *urls = get(obj, "urls"), *v;
	char field[32];
	size_t i;

	if (!urls)
		return 0;
	if (!json_is_array(urls))
		return fail(RV_EINVALID, path, "urls", "not an array");
	d->urls = xcalloc(json_array_size(urls), sizeof(*d->urls));
	json_array_foreach(urls, i, v) {
		if (!json_is_string(v)) {
			snprintf(field, sizeof(field), "urls[%zu]", i);
			return fail(RV_EINVALID, path, field, "not a string");
		}
		d->urls[i] = xstrdup(json_string_value(v));
		d->n_urls = i + 1;
	}
	return 0;
}

/* image-spec image-index.md: platform needs architecture and os. */
static int parse_platform(struct oci_descriptor *d, json_t *obj, const char *path)
{
	json_t *p = get(obj, "platform");
	char where[96];
	int rc;

	if (!p)
		return 0;
	snprintf(where, sizeof(where), "%s.platform", path);
	if (!json_is_object(p))
		return fail(RV_EINVALID, where, NULL, "not an object");
	d->platform = xcalloc(1, sizeof(*d->platform));
	rc = get_string(&d->platform->architecture, p, where, "architecture", 1);
	if (!rc)
		rc = get_string(&d->platform->os, p, where, "os", 1);
	if (!rc)
		rc = get_string(&d->platform->variant, p, where, "variant", 0);
	if (!rc)
		rc = get_string(&d->platform->os_version, p, where, "os.version", 0);
	return rc;
}

/* sha256/sha512 only: a digest we cannot verify cannot be copied safely,
 * so other grammatical algorithms are RV_EUNSUPPORTED, not skipped. */
static int parse_digest(char *out, json_t *obj, const char *path)
{
	json_t *v = get(obj, "digest");
	int rc;

	if (!v)
		return fail(RV_EINVALID, path, "digest", "missing");
	if (!json_is_string(v))
		return fail(RV_EINVALID, path, "digest", "not a string");
	rc = oci_digest_validate(json_string_value(v));
	if (rc)
		return error_wrap(rc, "manifest: %s%sdigest", path, *path ? "." : "");
	/* Valid digests are at most "sha512:" + 128 hex, which fits. */
	snprintf(out, OCI_DIGEST_MAX, "%s", json_string_value(v));
	return 0;
}

static int parse_size(int64_t *out, json_t *obj, const char *path)
{
	json_t *v = get(obj, "size");

	if (!v)
		return fail(RV_EINVALID, path, "size", "missing");
	if (!json_is_integer(v))
		return fail(RV_EINVALID, path, "size", "not an integer");
	if (json_integer_value(v) < 0)
		return fail(RV_EINVALID, path, "size", "negative");
	*out = (int64_t)json_integer_value(v);
	return 0;
}

/* image-spec descriptor.md: mediaType, digest and size are required;
 * unknown media types MUST NOT be an error (image-spec manifest.md). */
static int parse_descriptor(struct oci_descriptor *d, json_t *j, const char *path)
{
	int rc;

	if (!json_is_object(j))
		return fail(RV_EINVALID, path, NULL, "not an object");
	rc = get_string(&d->media_type, j, path, "mediaType", 1);
	if (!rc && !d->media_type[0])
		rc = fail(RV_EINVALID, path, "mediaType", "empty");
	if (!rc)
		rc = parse_digest(d->digest, j, path);
	if (!rc)
		rc = parse_size(&d->size, j, path);
	if (!rc)
		rc = get_string(&d->artifact_type, j, path, "artifactType", 0);
	if (!rc)
		rc = parse_urls(d, j, path);
	if (!rc)
		rc = parse_annotations(&d->annotations, &d->n_annotations, j, path);
	if (!rc)
		rc = parse_platform(d, j, path);
	return rc;
}

/* layers[] and manifests[]: required arrays, null read as empty. */
static int parse_descriptor_array(struct oci_descriptor **out, size_t *n_out, json_t *root,
                                  const char *field)
{
	json_t *arr = json_object_get(root, field), *v;
	char path[48];
	size_t i;
	int rc;

	if (!arr)
		return fail(RV_EINVALID, "", field, "missing");
	if (json_is_null(arr))
		return 0;
	if (!json_is_array(arr))
		return fail(RV_EINVALID, "", field, "not an array");
	*out = xcalloc(json_array_size(arr), sizeof(**out));
	*n_out = json_array_size(arr);
	json_array_foreach(arr, i, v) {
		snprintf(path, sizeof(path), "%s[%zu]", field, i);
		rc = parse_descriptor(&(*out)[i], v, path);
		if (rc)
			return rc;
	}
	return 0;
}

/* Fields both manifests and indexes may carry (image-spec 1.1). */
static int parse_common(struct oci_manifest *m, json_t *root)
{
	json_t *subject = get(root, "subject");
	int rc;

	rc = get_string(&m->artifact_type, root, "", "artifactType", 0);
	if (!rc && subject) {
		m->subject = xcalloc(1, sizeof(*m->subject));
		rc = parse_descriptor(m->subject, subject, "subject");
	}
	if (!rc)
		rc = parse_annotations(&m->annotations, &m->n_annotations, root, "");
	return rc;
}

static int parse_image(struct oci_manifest *m, json_t *root)
{
	json_t *config = get(root, "config");
	int rc;

	if (!config)
		return fail(RV_EINVALID, "", "config", "missing");
	rc = parse_descriptor(&m->config, config, "config");
	if (rc)
		return rc;
	/* An artifact may have no layers at all (image-spec manifest.md
	 * "Guidelines for Artifact Usage"), but the array must be there. */
	return parse_descriptor_array(&m->layers, &m->n_layers, root, "layers");
}

/* The kind comes from the body's mediaType, else Content-Type, else the
 * shape. A body that says one kind while Content-Type says another is
 * refused: one of them lies and we would store the wrong media type. */
static int kind_from_body(struct oci_manifest *m, json_t *mt, enum oci_kind ct_kind,
                          const char *content_type)
{
	char q[128], q2[128];
	const char *s;
	enum oci_kind k;

	if (!json_is_string(mt))
		return fail(RV_EINVALID, "", "mediaType", "not a string");
	s = json_string_value(mt);
	k = oci_media_type_kind(s);
	if (k == OCI_KIND_SCHEMA1)
		return schema1_refused();
	if (k == OCI_KIND_UNKNOWN)
		return fail(RV_EUNSUPPORTED, "", "mediaType", "unsupported manifest type \"%s\"",
		            str_printable(q, sizeof(q), s));
	if (ct_kind != OCI_KIND_UNKNOWN && ct_kind != k)
		return fail(RV_EINVALID, "", "mediaType", "\"%s\" contradicts Content-Type \"%s\"",
		            str_printable(q, sizeof(q), s), str_printable(q2, sizeof(q2), content_type));
	m->kind = k;
	m->media_type = xstrdup(s);
	return 0;
}

static int decide_kind(struct oci_manifest *m, json_t *root, const char *content_type)
{
	json_t *mt = get(root, "mediaType");
	enum oci_kind ct_kind = oci_media_type_kind(content_type);

	if (mt)
		return kind_from_body(m, mt, ct_kind, content_type);
	if (ct_kind == OCI_KIND_SCHEMA1)
		return schema1_refused();
	if (ct_kind != OCI_KIND_UNKNOWN) {
		m->kind = ct_kind;
		m->media_type = strip_params(content_type);
	} else if (json_object_get(root, "manifests")) {
		m->kind = OCI_KIND_INDEX;
		m->media_type = xstrdup(OCI_MT_IMAGE_INDEX);
	} else if (json_object_get(root, "config") || json_object_get(root, "layers")) {
		m->kind = OCI_KIND_IMAGE;
		m->media_type = xstrdup(OCI_MT_IMAGE_MANIFEST);
	} else {
		return error_set(RV_EINVALID, "manifest: no mediaType, and neither manifests "
		                 "nor config to tell an index from a manifest");
	}
	return 0;
}

/* image-spec manifest.md and image-index.md: schemaVersion MUST be 2.
 * Version 1 is Docker schema1, recognised so it can be named. */
static int check_schema_version(json_t *root)
{
	json_t *v = json_object_get(root, "schemaVersion");

	if (!v)
		return fail(RV_EINVALID, "", "schemaVersion", "missing");
	if (!json_is_integer(v))
		return fail(RV_EINVALID, "", "schemaVersion", "not an integer");
	if (json_integer_value(v) == 1)
		return schema1_refused();
	if (json_integer_value(v) != 2)
		return fail(RV_EINVALID, "", "schemaVersion", "%" JSON_INTEGER_FORMAT
		            " is not supported (want 2)", json_integer_value(v));
	return 0;
}

static int parse_root(struct oci_manifest *m, json_t *root, const char *content_type)
{
	json_t *sv = json_object_get(root, "schemaVersion");
	int rc;

	/* Schema1 first, so it is named whatever else is wrong with it. */
	if (json_is_integer(sv) && json_integer_value(sv) == 1)
		return schema1_refused();
	rc = decide_kind(m, root, content_type);
	if (!rc)
		rc = check_schema_version(root);
	if (!rc && m->kind == OCI_KIND_IMAGE)
		rc = parse_image(m, root);
	if (!rc && m->kind == OCI_KIND_INDEX)
		rc = parse_descriptor_array(&m->manifests, &m->n_manifests, root, "manifests");
	if (!rc)
		rc = parse_common(m, root);
	return rc;
}

static json_t *load_json(const void *raw, size_t len)
{
	json_error_t jerr;
	json_t *root;
	char q[160];

	/* Duplicate keys are refused: two parsers reading one manifest could
	 * otherwise see different layers (the JSON-interoperability attacks
	 * image-spec considerations.md warns about). */
	root = json_loadb(raw, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!root) {
		error_set(RV_EINVALID, "manifest: invalid JSON at line %d column %d: %s", jerr.line,
		          jerr.column, str_printable(q, sizeof(q), jerr.text));
		return NULL;
	}
	if (!json_is_object(root)) {
		json_decref(root);
		error_set(RV_EINVALID, "manifest: not a JSON object");
		return NULL;
	}
	return root;
}

int oci_manifest_parse(struct oci_manifest **out, const void *raw, size_t len,
                       const char *content_type)
{
	struct oci_manifest *m;
	json_t *root;
	int rc;

	if (len > OCI_MANIFEST_MAX)
		return error_set(RV_ETOOBIG, "manifest: %zu bytes is over the %zu-byte limit", len,
		                 OCI_MANIFEST_MAX);
	if (len == 0)
		return error_set(RV_EINVALID, "manifest: empty");
	root = load_json(raw, len);
	if (!root)
		return error_code();
	m = xcalloc(1, sizeof(*m));
	rc = parse_root(m, root, content_type);
	json_decref(root);
	if (rc) {
		oci_manifest_free(m);
		return rc;
	}
	/* A NUL after the bytes (not counted) lets callers print them. */
	m->raw = xmalloc(len + 1);
	memcpy(m->raw, raw, len);
	m->raw[len] = '\0';
	m->raw_len = len;
	oci_digest_compute(m->digest, OCI_SHA256, raw, len);
	*out = m;
	return 0;
}

static void kv_free(struct oci_kv *kv, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(kv[i].key);
		free(kv[i].value);
	}
	free(kv);
}

static void descriptors_free(struct oci_descriptor *d, size_t n)
{
	for (size_t i = 0; i < n; i++)
		oci_descriptor_release(&d[i]);
	free(d);
}

void oci_manifest_free(struct oci_manifest *m)
{
	if (!m)
		return;
	free(m->media_type);
	free(m->raw);
	free(m->artifact_type);
	oci_descriptor_release(&m->config);
	descriptors_free(m->layers, m->n_layers);
	descriptors_free(m->manifests, m->n_manifests);
	if (m->subject)
		descriptors_free(m->subject, 1);
	kv_free(m->annotations, m->n_annotations);
	free(m);
}

const char *oci_annotation_get(const struct oci_kv *kv, size_t n, const char *key)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(kv[i].key, key) == 0)
			return kv[i].value;
	return NULL;
}

char *oci_platform_string(const struct oci_platform *p)
{
	if (!p)
		return xstrdup("");
	return xasprintf("%s/%s%s%s", p->os ? p->os : "", p->architecture ? p->architecture : "",
	                 p->variant ? "/" : "", p->variant ? p->variant : "");
}

int oci_descriptor_is_foreign(const struct oci_descriptor *d)
{
	if (d->n_urls > 0)
		return 1;
	if (!d->media_type)
		return 0;
	return media_type_is(d->media_type, MT_DOCKER_FOREIGN) ||
	       str_has_prefix(d->media_type, MT_OCI_NONDIST_PREFIX);
}

static void platform_free(struct oci_platform *p)
{
	if (!p)
		return;
	free(p->os);
	free(p->architecture);
	free(p->variant);
	free(p->os_version);
	free(p);
}

void oci_descriptor_release(struct oci_descriptor *d)
{
	free(d->media_type);
	free(d->artifact_type);
	platform_free(d->platform);
	kv_free(d->annotations, d->n_annotations);
	for (size_t i = 0; i < d->n_urls; i++)
		free(d->urls[i]);
	free(d->urls);
	memset(d, 0, sizeof(*d));
}

static struct oci_platform *platform_copy(const struct oci_platform *p)
{
	struct oci_platform *q;

	if (!p)
		return NULL;
	q = xcalloc(1, sizeof(*q));
	q->os = xstrdup_or_null(p->os);
	q->architecture = xstrdup_or_null(p->architecture);
	q->variant = xstrdup_or_null(p->variant);
	q->os_version = xstrdup_or_null(p->os_version);
	return q;
}

void oci_descriptor_copy(struct oci_descriptor *dst, const struct oci_descriptor *src)
{
	memset(dst, 0, sizeof(*dst));
	dst->media_type = xstrdup_or_null(src->media_type);
	memcpy(dst->digest, src->digest, sizeof(dst->digest));
	dst->size = src->size;
	dst->artifact_type = xstrdup_or_null(src->artifact_type);
	dst->platform = platform_copy(src->platform);
	if (src->n_annotations) {
		dst->annotations = xcalloc(src->n_annotations, sizeof(*dst->annotations));
		for (size_t i = 0; i < src->n_annotations; i++) {
			dst->annotations[i].key = xstrdup(src->annotations[i].key);
			dst->annotations[i].value = xstrdup(src->annotations[i].value);
		}
		dst->n_annotations = src->n_annotations;
	}
	if (src->n_urls) {
		dst->urls = xcalloc(src->n_urls, sizeof(*dst->urls));
		for (size_t i = 0; i < src->n_urls; i++)
			dst->urls[i] = xstrdup(src->urls[i]);
		dst->n_urls = src->n_urls;
	}
}
