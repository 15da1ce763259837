/*
 * read.c — the store's read side: manifests by tag (index.json names) or
 * digest, blobs streamed from their volume with pread in bounded chunks and
 * hashed on the way, listings, and referrers.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "ocitar/internal.h"
#include "util/error.h"
#include "util/str.h"
#include "util/strlist.h"
#include "util/xalloc.h"
#include "util/banned.h"

static int pread_full(int fd, void *buf, size_t len, int64_t off, const char *what)
{
	char *p = buf;

	while (len) {
		ssize_t n = pread(fd, p, len, off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? error_set(RV_ERROR, "%s: read: %s", what, strerror(errno))
			             : error_set(RV_EDIGEST, "%s: volume ends at byte %lld", what,
			                         (long long)off);
		p += n;
		len -= (size_t)n;
		off += n;
	}
	return 0;
}

static const char *vol_name(struct ocitar *s, int vol)
{
	return vol == VOL_TEMP ? s->tmp_path : s->vols[vol].path;
}

/* The location of a blob of the expected size. */
static int locate(struct ocitar *s, const char *digest, int64_t size,
                  const struct ocitar_loc **out)
{
	const struct ocitar_loc *l = ocitar_blobs_find(&s->blobs, digest);

	if (!l)
		return error_set(RV_ENOTFOUND, "blob \"%s\" not found in %s", digest, s->label);
	if (size >= 0 && l->length != size)
		return error_set(RV_EDIGEST, "blob \"%s\": %s holds %lld bytes, expected %lld", digest,
		                 s->label, (long long)l->length, (long long)size);
	*out = l;
	return 0;
}

int ocitar_read_manifest(struct ocitar *s, const char *digest, const char *media_type,
                         struct oci_manifest **out)
{
	const struct ocitar_loc *l = NULL;
	char *what = NULL;
	unsigned char *raw = NULL;
	int fd, rc = locate(s, digest, -1, &l);

	if (rc)
		return error_set(RV_ENOTFOUND, "manifest \"%s\" not found in %s", digest, s->label);
	if ((uint64_t)l->length > OCI_MANIFEST_MAX)
		return error_set(RV_ETOOBIG, "manifest \"%s\": %lld bytes is over the %zu-byte limit",
		                 digest, (long long)l->length, OCI_MANIFEST_MAX);
	if ((rc = ocitar_vol_fd(s, l->vol, &fd)) != 0)
		return rc;
	what = xasprintf("manifest \"%s\" in \"%s\" at %lld", digest, vol_name(s, l->vol),
	                 (long long)l->offset);
	raw = xmalloc((size_t)l->length + 1);
	rc = pread_full(fd, raw, (size_t)l->length, l->offset, what);
	if (!rc)
		rc = oci_digest_verify(digest, raw, (size_t)l->length, what);
	if (!rc)
		rc = oci_manifest_parse(out, raw, (size_t)l->length, media_type);
	free(raw);
	free(what);
	return rc;
}

static const struct ocitar_ent *find_tag(struct ocitar *s, const char *repo, const char *tag)
{
	char *name = repo && *repo ? xasprintf("%s:%s", repo, tag) : xstrdup(tag);
	const struct ocitar_ent *e = ocitar_reftab_find(&s->refs, name);

	free(name);
	return e;
}

/* The media type index.json gives a digest, preferring repo's entries. */
static const char *listed_type(struct ocitar *s, const char *repo, const char *digest)
{
	const char *any = NULL;

	for (size_t i = 0; i < s->refs.n; i++)
		if (!strcmp(s->refs.v[i].digest, digest)) {
			if (repo && !strcmp(s->refs.v[i].repository, repo))
				return s->refs.v[i].media_type;
			any = any ? any : s->refs.v[i].media_type;
		}
	return any;
}

/* Resolves a tag (through index.json) or a digest (store-wide). */
static int resolve(struct ocitar *s, const char *repo, const char *ref, const char **digest,
                   const char **media_type, const struct ocitar_ent **ent)
{
	char q[256];
	int rc;

	*ent = NULL;
	if (ref && strchr(ref, ':')) {
		if ((rc = oci_digest_validate(ref)) != 0)
			return rc;
		*digest = ref;
		*media_type = listed_type(s, repo, ref);
		return 0;
	}
	if (!ref || !(*ent = find_tag(s, repo, ref)))
		return error_set(RV_ENOTFOUND, "manifest \"%s%s%s\" not found in %s",
		                 repo && *repo ? repo : "", repo && *repo ? ":" : "",
		                 str_printable(q, sizeof(q), ref ? ref : ""), s->label);
	*digest = (*ent)->digest;
	*media_type = (*ent)->media_type;
	return 0;
}

int ocitar_manifest_get(struct oci_store *st, const char *repo, const char *ref,
                        struct oci_manifest **out)
{
	struct ocitar *s = (struct ocitar *)st;
	const struct ocitar_ent *e;
	const char *digest, *mt;
	int rc = resolve(s, repo, ref, &digest, &mt, &e);

	*out = NULL;
	return rc ? rc : ocitar_read_manifest(s, digest, mt, out);
}

int ocitar_manifest_head(struct oci_store *st, const char *repo, const char *ref,
                         struct oci_manifest_info *out)
{
	struct ocitar *s = (struct ocitar *)st;
	const struct ocitar_ent *e;
	const struct ocitar_loc *l = NULL;
	struct oci_manifest *m = NULL;
	const char *digest, *mt;
	int rc = resolve(s, repo, ref, &digest, &mt, &e);

	if (!rc && e)
		rc = locate(s, e->digest, e->size, &l);
	if (!rc && !e)
		rc = ocitar_read_manifest(s, digest, mt, &m);
	if (rc)
		return rc;
	memset(out, 0, sizeof(*out));
	snprintf(out->digest, sizeof(out->digest), "%s", digest);
	snprintf(out->media_type, sizeof(out->media_type), "%s", e ? e->media_type : m->media_type);
	out->size = e ? e->size : (int64_t)m->raw_len;
	oci_manifest_free(m);
	return 0;
}

int ocitar_blob_exists(struct oci_store *st, const char *repo, const struct oci_descriptor *d)
{
	struct ocitar *s = (struct ocitar *)st;
	const struct ocitar_loc *l = ocitar_blobs_find(&s->blobs, d->digest);

	(void)repo;   /* one blob namespace per archive */
	if (l && l->length == d->size)
		return 0;
	return error_set(RV_ENOTFOUND, "blob \"%s\" (%lld bytes) not found in %s", d->digest,
	                 (long long)d->size, s->label);
}

/* Streams [off, off+len) of fd to sink through a hasher, in bounded chunks. */
static int stream(int fd, int64_t off, int64_t len, oci_hasher *h, const struct oci_sink *sink,
                  const char *what)
{
	size_t cap = len < (int64_t)OCITAR_CHUNK ? (size_t)len : OCITAR_CHUNK;
	unsigned char *buf = xmalloc(cap ? cap : 1);
	int64_t done = 0;
	int rc = 0;

	while (!rc && done < len) {
		size_t n = len - done < (int64_t)cap ? (size_t)(len - done) : cap;

		rc = pread_full(fd, buf, n, off + done, what);
		if (!rc)
			oci_hasher_update(h, buf, n);
		if (!rc && (rc = sink->write(sink->ctx, buf, n)) > 0)
			rc = error_set(RV_EUNSUPPORTED, "%s: the sink paused a synchronous read", what);
		done += (int64_t)n;
	}
	free(buf);
	return rc;
}

int ocitar_blob_get(struct oci_store *st, const char *repo, const struct oci_descriptor *d,
                    const struct oci_sink *sink)
{
	struct ocitar *s = (struct ocitar *)st;
	const struct ocitar_loc *l = NULL;
	char got[OCI_DIGEST_MAX], *what;
	oci_hasher *h;
	int fd, rc;

	(void)repo;
	if ((rc = oci_digest_validate(d->digest)) != 0 || (rc = locate(s, d->digest, d->size, &l)) ||
	    (rc = ocitar_vol_fd(s, l->vol, &fd)))
		return rc;
	what = xasprintf("blob \"%s\" in \"%s\" at %lld", d->digest, vol_name(s, l->vol),
	                 (long long)l->offset);
	h = oci_hasher_new(oci_digest_alg_of(d->digest));
	rc = stream(fd, l->offset, l->length, h, sink, what);
	if (!rc) {
		oci_hasher_final(h, got);
		if (strcmp(got, d->digest))
			rc = error_set(RV_EDIGEST, "%s: bytes hash to \"%s\"", what, got);
	}
	oci_hasher_free(h);
	free(what);
	return rc;
}

/* --- Readers: rewindable sources over a stored blob ------------------------------ */

struct reader {
	struct ocitar *s;
	char digest[OCI_DIGEST_MAX];
	int64_t pos;
};

/* Looks the blob up on every read: a commit may move it from the temp
 * volume to its final one in between. */
static ssize_t reader_read(void *ctx, void *buf, size_t cap)
{
	struct reader *r = ctx;
	const struct ocitar_loc *l = NULL;
	size_t n;
	int fd, rc;

	if ((rc = locate(r->s, r->digest, -1, &l)) || (rc = ocitar_vol_fd(r->s, l->vol, &fd)))
		return rc;
	if (r->pos >= l->length)
		return 0;
	n = l->length - r->pos < (int64_t)cap ? (size_t)(l->length - r->pos) : cap;
	if ((rc = pread_full(fd, buf, n, l->offset + r->pos, r->digest)) != 0)
		return rc;
	r->pos += (int64_t)n;
	return (ssize_t)n;
}

static int reader_rewind(void *ctx)
{
	((struct reader *)ctx)->pos = 0;
	return 0;
}

int ocitar_reader_open(struct oci_store *st, const struct oci_descriptor *d,
                       struct oci_source *out, void **handle)
{
	struct ocitar *s = (struct ocitar *)st;
	const struct ocitar_loc *l = NULL;
	struct reader *r;
	int rc = locate(s, d->digest, d->size, &l);

	if (rc)
		return rc;
	r = xcalloc(1, sizeof(*r));
	r->s = s;
	snprintf(r->digest, sizeof(r->digest), "%s", d->digest);
	out->read = reader_read;
	out->rewind = reader_rewind;
	out->ctx = r;
	*handle = r;
	return 0;
}

void ocitar_reader_close(struct oci_store *st, void *handle)
{
	(void)st;
	free(handle);
}

/* --- Listings ----------------------------------------------------------------------- */

int ocitar_tags(struct oci_store *st, const char *repo, struct strlist *out)
{
	struct ocitar *s = (struct ocitar *)st;
	int seen = 0;

	for (size_t i = 0; i < s->refs.n; i++) {
		const struct ocitar_ent *e = &s->refs.v[i];

		if (strcmp(e->repository, repo ? repo : ""))
			continue;
		seen = 1;
		if (e->tag)
			strlist_add(out, e->tag);
	}
	if (!seen)
		return error_set(RV_ENOTFOUND, "repository \"%s\" not found in %s", repo ? repo : "",
		                 s->label);
	strlist_sort(out);
	return 0;
}

int ocitar_repositories(struct oci_store *st, struct strlist *out)
{
	struct ocitar *s = (struct ocitar *)st;
	struct strlist all = STRLIST_INIT;

	for (size_t i = 0; i < s->refs.n; i++)
		if (*s->refs.v[i].repository)
			strlist_add(&all, s->refs.v[i].repository);
	strlist_sort(&all);
	for (size_t i = 0; i < all.n; i++)
		if (!i || strcmp(all.v[i], all.v[i - 1]))
			strlist_add(out, all.v[i]);
	strlist_release(&all);
	return 0;
}

/* --- Referrers -------------------------------------------------------------------------- */

/* The referrers API's descriptor of a manifest (distribution-spec
 * "Listing Referrers"): artifactType, else the config's media type, and
 * the manifest's annotations. */
static json_t *referrer_desc(const struct oci_manifest *m, const char *media_type)
{
	json_t *d = json_object(), *ann;
	const char *at = m->artifact_type ? m->artifact_type
	                 : m->kind == OCI_KIND_IMAGE ? m->config.media_type : NULL;

	json_object_set_new(d, "mediaType", json_string(media_type));
	json_object_set_new(d, "digest", json_string(m->digest));
	json_object_set_new(d, "size", json_integer((json_int_t)m->raw_len));
	if (at)
		json_object_set_new(d, "artifactType", json_string(at));
	if (m->n_annotations) {
		ann = json_object();
		for (size_t i = 0; i < m->n_annotations; i++)
			json_object_set_new(ann, m->annotations[i].key,
			                    json_string(m->annotations[i].value));
		json_object_set_new(d, "annotations", ann);
	}
	return d;
}

static int add_referrer(struct ocitar *s, json_t *list, const char *digest, const char *mt)
{
	struct oci_manifest *m = NULL;
	size_t i;
	json_t *v;
	int rc;

	json_array_foreach(list, i, v)
		if (!strcmp(json_string_value(json_object_get(v, "digest")), digest))
			return 0;
	if ((rc = ocitar_read_manifest(s, digest, mt, &m)) != 0)
		return rc;
	json_array_append_new(list, referrer_desc(m, mt ? mt : m->media_type));
	oci_manifest_free(m);
	return 0;
}

/* Listed manifests of repo whose subject is digest (their subjects are
 * cached: each manifest is read once per store). */
static int by_subject(struct ocitar *s, const char *repo, const char *digest, json_t *list)
{
	struct oci_manifest *m;
	int rc = 0;

	for (size_t i = 0; !rc && i < s->refs.n; i++) {
		struct ocitar_ent *e = &s->refs.v[i];

		if (strcmp(e->repository, repo))
			continue;
		/* A layout may list manifests it does not hold (image-spec
		 * image-layout.md): those refer to nothing here. */
		if (!e->subject_known && ocitar_blobs_find(&s->blobs, e->digest)) {
			if ((rc = ocitar_read_manifest(s, e->digest, e->media_type, &m)) != 0)
				break;
			e->subject = m->subject ? xstrdup(m->subject->digest) : NULL;
			oci_manifest_free(m);
		}
		e->subject_known = 1;
		if (e->subject && !strcmp(e->subject, digest))
			rc = add_referrer(s, list, e->digest, e->media_type);
	}
	return rc;
}

/* The "<alg>-<hex>" fallback tag (distribution-spec "Referrers Tag
 * Schema"): an index whose manifests are the referrers. */
static int by_fallback_tag(struct ocitar *s, const char *repo, const char *digest, json_t *list)
{
	char *tag = xasprintf("%.*s-%s", (int)(strchr(digest, ':') - digest), digest,
	                      oci_digest_hex(digest));
	const struct ocitar_ent *e = find_tag(s, repo, tag);
	struct oci_manifest *idx = NULL;
	int rc = 0;

	free(tag);
	if (!e)
		return 0;
	if ((rc = ocitar_read_manifest(s, e->digest, e->media_type, &idx)) != 0)
		return rc;
	for (size_t i = 0; !rc && idx->kind == OCI_KIND_INDEX && i < idx->n_manifests; i++)
		if (ocitar_blobs_find(&s->blobs, idx->manifests[i].digest))
			rc = add_referrer(s, list, idx->manifests[i].digest, idx->manifests[i].media_type);
	oci_manifest_free(idx);
	return rc;
}

int ocitar_referrers(struct oci_store *st, const char *repo, const char *digest,
                     struct oci_manifest **out)
{
	struct ocitar *s = (struct ocitar *)st;
	json_t *root = json_object(), *list = json_array();
	char *text = NULL;
	int rc = oci_digest_validate(digest);

	*out = NULL;
	if (!rc)
		rc = by_subject(s, repo ? repo : "", digest, list);
	if (!rc)
		rc = by_fallback_tag(s, repo ? repo : "", digest, list);
	json_object_set_new(root, "schemaVersion", json_integer(2));
	json_object_set_new(root, "mediaType", json_string(OCI_MT_IMAGE_INDEX));
	json_object_set_new(root, "manifests", list);
	if (!rc) {
		text = json_dumps(root, JSON_COMPACT | JSON_PRESERVE_ORDER);
		if (!text)
			xdie("out of memory (referrers)");
		rc = oci_manifest_parse(out, text, strlen(text), OCI_MT_IMAGE_INDEX);
	}
	free(text);
	json_decref(root);
	return rc;
}
