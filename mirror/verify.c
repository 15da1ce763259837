/*
 * verify.c — do the standby registries still hold what the catalog says?
 *
 * A registry keeps blobs per repository, so copies are checked image by
 * image, in the repository each image was mirrored to: the top manifest
 * and every manifest of its closure read back and hashed; every blob
 * present with its size (deep: downloaded and hashed). An object shown
 * missing or wrong loses its copy row, and its image the top-level one; a
 * check that could not run (standby down, credentials) is reported but
 * takes nothing away.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mirror/mirror.h"
#include "util/error.h"
#include "util/log.h"
#include "util/strlist.h"
#include "util/banned.h"

/* Reads of one object before a digest mismatch counts as a bad copy. */
#define VERIFY_ATTEMPTS 3

struct host {
	char *name;
	registry_client *c;
};

struct image {
	int64_t store_id;
	char *store;                  /* "host[/prefix]" */
	char *host;                   /* "host" */
	char *ref, *repo, *digest;    /* as stored on the standby */
};

struct vctx {
	catalog *cat;
	registry_session *session;
	int deep;
	struct mirror_verify_report *out;
	struct host *hosts;
	size_t n_hosts;
	struct image *images;
	size_t n_images, alloc_images;
	struct catalog_copy_ref *dead;   /* to drop at the end */
	size_t n_dead, alloc_dead;
	const struct image *cur;      /* while walking a closure */
	int cur_failed, cur_lost;
	size_t images_failed;
};

static void add_dead(struct vctx *v, int64_t store_id, const char *digest)
{
	v->dead = xgrow(v->dead, sizeof(*v->dead), v->n_dead + 1, &v->alloc_dead);
	v->dead[v->n_dead].store_id = store_id;
	snprintf(v->dead[v->n_dead++].digest, OCI_DIGEST_MAX, "%s", digest);
}

static registry_client *client(struct vctx *v, const char *name)
{
	for (size_t i = 0; i < v->n_hosts; i++)
		if (strcmp(v->hosts[i].name, name) == 0)
			return v->hosts[i].c;
	v->hosts = xrealloc(v->hosts, (v->n_hosts + 1) * sizeof(*v->hosts));
	struct host *h = &v->hosts[v->n_hosts++];
	h->name = xstrdup(name);
	h->c = NULL;
	if (registry_client_open(&h->c, v->session, name) < 0)
		h->c = NULL;
	return h->c;
}

/* Registry stores' top-level references: "host[/prefix]" + the source's
 * repository name gives the repository the image went to. */
static int collect(const struct catalog_entry *e, void *ctx)
{
	struct vctx *v = ctx;

	if (strcmp(e->store_kind, "registry") != 0 || e->verified_at == 0)
		return 0;
	const char *slash = strchr(e->store, '/');
	v->images = xgrow(v->images, sizeof(*v->images), v->n_images + 1, &v->alloc_images);
	struct image *im = &v->images[v->n_images++];
	im->store_id = e->store_id;
	im->store = xstrdup(e->store);
	im->host = slash ? xstrndup(e->store, (size_t)(slash - e->store)) : xstrdup(e->store);
	im->repo = slash ? xasprintf("%s/%s", slash + 1, e->repository) : xstrdup(e->repository);
	im->ref = e->tag ? xasprintf("%s/%s:%s", e->store, e->repository, e->tag)
	                 : xasprintf("%s/%s@%s", e->store, e->repository, e->digest);
	im->digest = xstrdup(e->digest);
	return 0;
}

static void fail(struct vctx *v, const char *digest, int rc, const char *msg)
{
	struct mirror_verify_report *r = v->out;
	const struct image *im = v->cur;

	r->failures = xrealloc(r->failures, (r->n_failures + 1) * sizeof(*r->failures));
	struct mirror_verify_failure *f = &r->failures[r->n_failures++];
	f->store = xstrdup(im->store);
	f->ref = xstrdup(im->ref);
	f->digest = xstrdup(digest);
	f->rc = rc;
	f->msg = xstrdup(msg && *msg ? msg : "failed");
	v->cur_failed = 1;
	/* Only what is shown gone or wrong loses its copy row: an outage, a
	 * credential or TLS problem means "could not check", not "lost". */
	if (rc == RV_ENOTFOUND || rc == RV_EDIGEST) {
		add_dead(v, im->store_id, digest);
		v->cur_lost = 1;
	}
}

static int discard(void *ctx, const void *data, size_t len)
{
	(void)ctx;
	(void)data;
	(void)len;
	return 0;
}

static int check_blob(struct vctx *v, registry_client *c, const char *digest, int64_t size)
{
	int64_t got = -1;
	int rc;

	if (!v->deep) {
		rc = registry_blob_head(c, v->cur->repo, digest, &got);
		if (rc == 0 && size >= 0 && got >= 0 && got != size)
			rc = error_set(RV_EDIGEST, "%lld bytes on the standby, %lld expected",
			               (long long)got, (long long)size);
		return rc;
	}
	struct oci_descriptor d = { 0 };
	struct oci_sink sink = { discard, NULL };
	snprintf(d.digest, sizeof(d.digest), "%s", digest);
	d.size = size;
	rc = registry_blob_get(c, v->cur->repo, &d, &sink);
	if (rc == 0)
		v->out->bytes_hashed += size;
	return rc;
}

static int check_object(const char *digest, int64_t size, int is_manifest, void *ctx)
{
	struct vctx *v = ctx;
	registry_client *c = client(v, v->cur->host);
	struct buf raw = BUF_INIT;
	int rc;

	if (!c) {
		fail(v, digest, RV_ERROR, "cannot open a client for the standby");
		return 0;
	}
	v->out->objects++;
	/* A byte flipped in transit (a middlebox, a bad NIC) must not cost a
	 * good copy its row: only a mismatch that a fresh GET repeats shows
	 * the copy itself is wrong. xfer tries a blob again the same way. */
	for (int attempt = 1;; attempt++) {
		if (is_manifest)   /* fetched by digest: the bytes are hashed against it */
			rc = registry_manifest_get_raw(c, v->cur->repo, digest, &raw, NULL);
		else
			rc = check_blob(v, c, digest, size);
		buf_release(&raw);
		if (rc != RV_EDIGEST || attempt == VERIFY_ATTEMPTS)
			break;
		log_info("%s; checking %s again (%d of %d)", error_msg(), digest, attempt + 1,
		         VERIFY_ATTEMPTS);
	}
	if (rc < 0)
		fail(v, digest, rc, error_msg());
	return 0;   /* go on: report every failure of the image */
}

static void check_image(struct vctx *v, const struct image *im)
{
	v->cur = im;
	v->cur_failed = v->cur_lost = 0;
	v->out->images++;
	check_object(im->digest, -1, 1, v);
	int rc = catalog_closure(v->cat, im->digest, check_object, v);
	if (rc < 0)   /* the catalog itself lacks part of the image */
		fail(v, im->digest, rc, error_msg());
	v->images_failed += v->cur_failed;
	if (v->cur_lost)   /* the image as a whole is not there any more */
		add_dead(v, im->store_id, im->digest);
}

static void release(struct vctx *v)
{
	for (size_t i = 0; i < v->n_images; i++) {
		struct image *im = &v->images[i];
		free(im->store);
		free(im->host);
		free(im->ref);
		free(im->repo);
		free(im->digest);
	}
	free(v->images);
	for (size_t i = 0; i < v->n_hosts; i++) {
		registry_client_close(v->hosts[i].c);
		free(v->hosts[i].name);
	}
	free(v->hosts);
	free(v->dead);
}

int mirror_verify(catalog *cat, registry_session *session, int deep,
                  struct mirror_verify_report *out)
{
	struct vctx v = { 0 };
	int rc;

	memset(out, 0, sizeof(*out));
	v.cat = cat;
	v.session = session;
	v.deep = deep;
	v.out = out;
	/* Collected first: the walk must not hold a query open while copy rows
	 * are dropped. */
	rc = catalog_entries(cat, NULL, collect, &v);
	for (size_t i = 0; rc == 0 && i < v.n_images; i++)
		check_image(&v, &v.images[i]);
	if (rc == 0 && v.n_dead)
		rc = catalog_copies_drop(cat, v.dead, v.n_dead);
	release(&v);
	if (rc == 0 && out->n_failures)
		rc = error_set(RV_EDIGEST, "%zu of %zu mirrored images failed verification",
		               v.images_failed, out->images);
	return rc;
}

void mirror_verify_report_release(struct mirror_verify_report *r)
{
	for (size_t i = 0; i < r->n_failures; i++) {
		free(r->failures[i].store);
		free(r->failures[i].ref);
		free(r->failures[i].digest);
		free(r->failures[i].msg);
	}
	free(r->failures);
	memset(r, 0, sizeof(*r));
}
