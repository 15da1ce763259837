/*
 * refs.c — the images index.json lists, by name.
 *
 * Our names are "<repository>:<tag>" and "<repository>@<digest>", written
 * both as org.opencontainers.image.ref.name (what skopeo's oci: and
 * oci-archive: transports match, exactly) and io.containerd.image.name
 * (what containerd, Docker and podman name a loaded image after). Other
 * tools' tarballs may carry only a ref.name, often a bare tag ("latest"):
 * such a name has repository "" and is found by that name alone.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "ocitar/internal.h"
#include "oci/reference.h"
#include "util/error.h"
#include "util/str.h"
#include "util/xalloc.h"
#include "util/banned.h"

static void ent_release(struct ocitar_ent *e)
{
	free(e->name);
	free(e->repository);
	free(e->tag);
	free(e->media_type);
	free(e->subject);
}

void ocitar_reftab_release(struct ocitar_reftab *t)
{
	for (size_t i = 0; i < t->n; i++)
		ent_release(&t->v[i]);
	free(t->v);
	t->v = NULL;
	t->n = t->alloc = 0;
}

/* Position of name, or where it would go (*found 0). */
static size_t find_pos(const struct ocitar_reftab *t, const char *name, int *found)
{
	size_t lo = 0, hi = t->n;

	*found = 0;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(t->v[mid].name, name);

		if (!c) {
			*found = 1;
			return mid;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

const struct ocitar_ent *ocitar_reftab_find(const struct ocitar_reftab *t, const char *name)
{
	int found;
	size_t i = find_pos(t, name, &found);

	return found ? &t->v[i] : NULL;
}

/* Splits a name into repository and tag the way we write names; anything
 * else is a bare name (repository ""), as other tools' ref.name often is. */
static void split_name(struct ocitar_ent *e)
{
	const char *n = e->name, *at = strrchr(n, '@'), *colon = strrchr(n, ':');
	const char *slash = strrchr(n, '/');

	if (at && strchr(at, ':')) {
		e->repository = xstrndup(n, (size_t)(at - n));
		return;
	}
	if (colon && colon > n && (!slash || colon > slash) && oci_ref_tag_valid(colon + 1)) {
		e->repository = xstrndup(n, (size_t)(colon - n));
		e->tag = xstrdup(colon + 1);
		return;
	}
	e->repository = xstrdup("");
	e->tag = xstrdup(n);
}

/* Inserts a new entry (name not present); takes ownership of name. */
static struct ocitar_ent *insert(struct ocitar_reftab *t, char *name, const char *digest,
                                 const char *media_type, int64_t size)
{
	int found;
	size_t i = find_pos(t, name, &found);
	struct ocitar_ent *e;

	t->v = xgrow(t->v, sizeof(*t->v), t->n + 1, &t->alloc);
	memmove(&t->v[i + 1], &t->v[i], (t->n - i) * sizeof(*t->v));
	t->n++;
	e = &t->v[i];
	memset(e, 0, sizeof(*e));
	e->name = name;
	e->media_type = xstrdup(media_type);
	snprintf(e->digest, sizeof(e->digest), "%s", digest);
	e->size = size;
	split_name(e);
	return e;
}

static void remove_at(struct ocitar_reftab *t, size_t i)
{
	ent_release(&t->v[i]);
	memmove(&t->v[i], &t->v[i + 1], (t->n - i - 1) * sizeof(*t->v));
	t->n--;
}

/* 1 when an entry of repo other than `except` lists digest. */
static int repo_lists(const struct ocitar_reftab *t, const char *repo, const char *digest,
                      const char *except)
{
	for (size_t i = 0; i < t->n; i++)
		if (!strcmp(t->v[i].digest, digest) && !strcmp(t->v[i].repository, repo) &&
		    (!except || strcmp(t->v[i].name, except)))
			return 1;
	return 0;
}

static int put_digest(struct ocitar_reftab *t, const char *repo, const char *digest,
                      const char *media_type, int64_t size)
{
	char *name;

	/* Listed already (by a tag, or by digest): nothing to add. */
	if (repo_lists(t, repo, digest, NULL))
		return 0;
	name = xasprintf("%s@%s", repo, digest);
	insert(t, name, digest, media_type, size);
	return 1;
}

int ocitar_reftab_put(struct ocitar_reftab *t, const char *repo, const char *tag,
                      const char *digest, const char *media_type, int64_t size)
{
	char *name, *by_digest;
	int found;
	size_t i;

	if (!tag)
		return put_digest(t, repo, digest, media_type, size);
	name = xasprintf("%s:%s", repo, tag);
	i = find_pos(t, name, &found);
	if (found && !strcmp(t->v[i].digest, digest)) {
		free(name);
		return 0;
	}
	if (found) {
		/* The tag moved: the image it named stays reachable by digest. */
		char old[OCI_DIGEST_MAX], *old_mt = xstrdup(t->v[i].media_type);
		int64_t old_size = t->v[i].size;

		snprintf(old, sizeof(old), "%s", t->v[i].digest);
		remove_at(t, i);
		put_digest(t, repo, old, old_mt, old_size);
		free(old_mt);
	}
	/* A tag supersedes the "@digest" name of the same image. */
	by_digest = xasprintf("%s@%s", repo, digest);
	i = find_pos(t, by_digest, &found);
	if (found)
		remove_at(t, i);
	free(by_digest);
	insert(t, name, digest, media_type, size);
	return 1;
}

/* --- index.json in ------------------------------------------------------------- */

static int parse_entry(struct ocitar_reftab *t, json_t *d, size_t i, const char *what)
{
	json_t *ann = json_object_get(d, "annotations");
	const char *mt = json_string_value(json_object_get(d, "mediaType"));
	const char *digest = json_string_value(json_object_get(d, "digest"));
	const char *name = NULL;
	json_t *size = json_object_get(d, "size");
	char *owned;
	int found;

	if (!mt || !digest || !json_is_integer(size) || json_integer_value(size) < 0)
		return error_set(RV_EINVALID, "%s: manifests[%zu]: needs mediaType, digest and size",
		                 what, i);
	if (oci_digest_validate(digest))
		return error_wrap(RV_EINVALID, "%s: manifests[%zu]", what, i);
	if (json_is_object(ann)) {
		name = json_string_value(json_object_get(ann, OCITAR_ANN_IMAGE_NAME));
		if (!name || !*name)
			name = json_string_value(json_object_get(ann, OCITAR_ANN_REF_NAME));
	}
	owned = name && *name ? xstrdup(name) : xasprintf("@%s", digest);
	/* "<repository>@<digest>" names an image: it must be this entry's,
	 * or a lookup by that name would hand out another image. */
	if (strrchr(owned, '@') && strchr(strrchr(owned, '@'), ':') &&
	    strcmp(strrchr(owned, '@') + 1, digest)) {
		char q[256];

		error_set(RV_EINVALID, "%s: manifests[%zu]: name \"%s\" is not of digest \"%s\"",
		          what, i, str_printable(q, sizeof(q), owned), digest);
		free(owned);
		return RV_EINVALID;
	}
	/* A name listed twice: the first wins, as in skopeo's lookup. */
	find_pos(t, owned, &found);
	if (found) {
		free(owned);
		return 0;
	}
	insert(t, owned, digest, mt, json_integer_value(size));
	return 0;
}

int ocitar_reftab_parse(struct ocitar_reftab *t, const char *json, size_t len, const char *what)
{
	json_error_t jerr;
	json_t *root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &jerr), *list, *d;
	size_t i;
	int rc = 0;

	if (!root)
		return error_set(RV_EINVALID, "%s: invalid JSON at line %d: %s", what, jerr.line,
		                 jerr.text);
	list = json_object_get(root, "manifests");
	if (!json_is_object(root) || !(json_is_array(list) || json_is_null(list) || !list))
		rc = error_set(RV_EINVALID, "%s: not an image index", what);
	json_array_foreach(list, i, d) {
		if (rc)
			break;
		if (!json_is_object(d))
			rc = error_set(RV_EINVALID, "%s: manifests[%zu]: not an object", what, i);
		else
			rc = parse_entry(t, d, i, what);
	}
	json_decref(root);
	return rc;
}

/* --- index.json out ------------------------------------------------------------ */

static json_t *ent_json(const struct ocitar_ent *e)
{
	json_t *d = json_object(), *ann = json_object();

	json_object_set_new(d, "mediaType", json_string(e->media_type));
	json_object_set_new(d, "digest", json_string(e->digest));
	json_object_set_new(d, "size", json_integer(e->size));
	json_object_set_new(ann, OCITAR_ANN_IMAGE_NAME, json_string(e->name));
	json_object_set_new(ann, OCITAR_ANN_REF_NAME, json_string(e->name));
	json_object_set_new(d, "annotations", ann);
	return d;
}

/* Keys in a fixed order and entries sorted by name: the same images always
 * give the same bytes (image-spec image-layout.md "index.json"). */
char *ocitar_reftab_json(const struct ocitar_reftab *t, size_t *len)
{
	json_t *root = json_object(), *list = json_array();
	char *s;

	json_object_set_new(root, "schemaVersion", json_integer(2));
	json_object_set_new(root, "mediaType", json_string(OCITAR_MT_INDEX));
	for (size_t i = 0; i < t->n; i++)
		json_array_append_new(list, ent_json(&t->v[i]));
	json_object_set_new(root, "manifests", list);
	s = json_dumps(root, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(root);
	if (!s)
		xdie("out of memory (index.json)");
	*len = strlen(s);
	return s;
}
