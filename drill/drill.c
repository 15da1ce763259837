/*
 * drill.c — restore a sample from every place copies are kept, pull it
 * back from a scratch registry, compare, clean up (drill.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "drill/drill.h"
#include "oci/reference.h"
#include "restore/restore.h"
#include "util/error.h"
#include "util/strlist.h"
#include "util/timeutil.h"
#include "util/banned.h"

/* --- Choosing, reproducibly -------------------------------------------------- */

/* splitmix64 (Steele, Lea, Flood 2014): tiny, and the same sequence on
 * every machine, which is all a replayable choice needs. */
static uint64_t next(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* FNV-1a: each place gets its own stream from the one seed, so adding a
 * store does not change which images another store's drill picks. */
static uint64_t hash_str(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ull;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 0x100000001b3ull;
	return h;
}

uint64_t drill_seed_new(void)
{
	uint64_t state = (uint64_t)time_now() ^ ((uint64_t)getpid() << 32) ^
	                 (uint64_t)time_mono_ms() << 16;

	return next(&state) & 0xffffffffu;
}

/* --- What each place holds ------------------------------------------------------ */

/* One image a place holds: the primary's names for it. */
struct held {
	char *registry, *repository;
	char digest[OCI_DIGEST_MAX];
};

struct place {
	struct drill_location *loc;
	struct held *v;
	size_t n, alloc;
};

struct places {
	struct place *v;
	size_t n;
};

static struct place *place_for(struct places *ps, const struct catalog_entry *e)
{
	for (size_t i = 0; i < ps->n; i++)
		if (ps->v[i].loc->store_id == e->store_id)
			return &ps->v[i];
	ps->v = xrealloc(ps->v, (ps->n + 1) * sizeof(*ps->v));
	struct place *p = &ps->v[ps->n++];
	memset(p, 0, sizeof(*p));
	p->loc = xcalloc(1, sizeof(*p->loc));
	p->loc->store_id = e->store_id;
	p->loc->kind = xstrdup(e->store_kind);
	p->loc->store = xstrdup(e->store);
	return p;
}

/* Only images whose copy is verified: the catalog's promise is what a
 * drill tests; an unverified entry promises nothing. */
static int collect(const struct catalog_entry *e, void *ctx)
{
	if (!e->verified_at)
		return 0;
	struct place *p = place_for(ctx, e);
	p->v = xgrow(p->v, sizeof(*p->v), p->n + 1, &p->alloc);
	struct held *h = &p->v[p->n++];
	h->registry = xstrdup(e->registry);
	h->repository = xstrdup(e->repository);
	snprintf(h->digest, sizeof(h->digest), "%s", e->digest);
	return 0;
}

static int by_name(const void *a, const void *b)
{
	const struct held *x = a, *y = b;
	int c = strcmp(x->registry, y->registry);

	if (!c)
		c = strcmp(x->repository, y->repository);
	return c ? c : strcmp(x->digest, y->digest);
}

static int by_place(const void *a, const void *b)
{
	const struct place *x = a, *y = b;
	int c = strcmp(x->loc->kind, y->loc->kind);

	return c ? c : strcmp(x->loc->store, y->loc->store);
}

static void held_release(struct held *h)
{
	free(h->registry);
	free(h->repository);
}

/* One entry per digest (a digest under several tags is one image), in a
 * fixed order, so that the seed alone decides the choice. */
static void dedupe(struct place *p)
{
	size_t k = 0;

	if (p->n > 1)
		qsort(p->v, p->n, sizeof(*p->v), by_name);
	for (size_t i = 0; i < p->n; i++) {
		int dup = 0;
		for (size_t j = 0; j < k && !dup; j++)
			dup = strcmp(p->v[j].digest, p->v[i].digest) == 0;
		if (dup)
			held_release(&p->v[i]);
		else
			p->v[k++] = p->v[i];
	}
	p->n = k;
	p->loc->held = k;
}

/* The first `want` entries become a uniform random sample (a partial
 * Fisher–Yates shuffle). */
static void choose(struct place *p, size_t want, uint64_t seed)
{
	uint64_t state = seed ^ hash_str(p->loc->kind) ^ hash_str(p->loc->store);

	for (size_t i = 0; i < want && i + 1 < p->n; i++) {
		size_t j = i + (size_t)(next(&state) % (uint64_t)(p->n - i));
		struct held t = p->v[i];
		p->v[i] = p->v[j];
		p->v[j] = t;
	}
}

/* --- Pulling an image back ---------------------------------------------------------- */

struct pull {
	struct oci_store *s;
	const char *repo;
	struct strlist manifests;    /* to delete, the image first */
	struct strlist seen;         /* every digest that came back */
	int64_t bytes;
};

static int discard(void *ctx, const void *data, size_t len)
{
	(void)ctx;
	(void)data;
	(void)len;
	return 0;
}

static int pull_blob(struct pull *p, const struct oci_descriptor *d)
{
	struct oci_sink sink = { discard, NULL };
	int rc;

	if (strlist_contains(&p->seen, d->digest))
		return 0;
	strlist_add(&p->seen, d->digest);
	if (oci_descriptor_is_foreign(d))   /* never uploaded anywhere: nothing to pull */
		return 0;
	/* The store checks size and digest of every byte it hands over. */
	rc = oci_store_blob_get(p->s, p->repo, d, &sink);
	if (rc == 0)
		p->bytes += d->size;
	return rc;
}

/* An index nests at most this deep; deeper is a loop or an attack. */
#define PULL_DEPTH 8

static int pull_manifest(struct pull *p, const char *digest, int depth)
{
	struct oci_manifest *m = NULL;
	int rc;

	if (strlist_contains(&p->seen, digest))
		return 0;
	if (depth > PULL_DEPTH)
		return error_set(RV_EINVALID, "manifest %s: indexes nested deeper than %d", digest,
		                 PULL_DEPTH);
	/* Fetched by digest: the store hashes the bytes against it. */
	if ((rc = oci_store_manifest_get(p->s, p->repo, digest, &m)) < 0)
		return rc;
	strlist_add(&p->seen, digest);
	strlist_add(&p->manifests, digest);
	p->bytes += (int64_t)m->raw_len;
	if (m->kind == OCI_KIND_INDEX) {
		for (size_t i = 0; rc == 0 && i < m->n_manifests; i++)
			rc = pull_manifest(p, m->manifests[i].digest, depth + 1);
	} else if (m->kind == OCI_KIND_IMAGE) {
		rc = pull_blob(p, &m->config);
		for (size_t i = 0; rc == 0 && i < m->n_layers; i++)
			rc = pull_blob(p, &m->layers[i]);
	}
	oci_manifest_free(m);
	return rc;
}

/* The image as the catalog records it: its digest, then every child,
 * config and layer; manifests separately (what a failed drill may have
 * left in the scratch registry). */
struct expected {
	struct strlist all, manifests;
};

static int add_expected(const char *digest, int64_t size, int is_manifest, void *ctx)
{
	struct expected *e = ctx;

	(void)size;
	strlist_add(&e->all, digest);
	if (is_manifest)
		strlist_add(&e->manifests, digest);
	return 0;
}

/* What came back must be the image the catalog recorded: the same
 * digests, no more, no fewer. */
static int compare(const struct strlist *want, const struct strlist *seen)
{
	for (size_t i = 0; i < want->n; i++)
		if (!strlist_contains(seen, want->v[i]))
			return error_set(RV_EDIGEST, "%s is part of the image in the catalog but did "
			                 "not come back", want->v[i]);
	for (size_t i = 0; i < seen->n; i++)
		if (!strlist_contains(want, seen->v[i]))
			return error_set(RV_EDIGEST, "%s came back but is not part of the image in the "
			                 "catalog", seen->v[i]);
	return 0;
}

/* --- One image ------------------------------------------------------------------------- */

struct run {
	const struct drill_options *o;
	struct oci_store *scratch;
	char *host;                  /* the scratch registry */
	char *prefix;                /* "regvault-drill/<run>" */
};

static void fail(struct drill_image *im, int rc)
{
	im->rc = rc;
	im->msg = xstrdup(*error_msg() ? error_msg() : "failed");
}

static int restore_one(struct run *r, const struct place *p, size_t loc_no,
                       const struct held *h, char **repo)
{
	struct restore_options ro = { 0 };
	struct restore_report rep;
	int rc;

	*repo = xasprintf("%s/%zu/%s", r->prefix, loc_no, h->repository);
	char *to = xasprintf("%s/%s", r->host, *repo);
	char *ref = xasprintf("%s/%s@%s", h->registry, h->repository, h->digest);
	ro.ref = ref;
	ro.to = to;
	ro.cat = r->o->cat;
	ro.session = r->o->session;
	ro.xfer = r->o->xfer;
	ro.xfer.no_referrers = 1;   /* the image alone: its referrers would outlive the delete */
	ro.xfer.progress = NULL;
	ro.store_id = p->loc->store_id;
	rc = restore_run(&ro, &rep);
	restore_report_release(&rep);
	free(ref);
	free(to);
	return rc;
}

/* Deletes what was pulled back, the image first: an index deleted before
 * its children never names a missing child. */
static void cleanup(struct run *r, const char *repo, const struct strlist *manifests,
                    struct drill_image *im)
{
	for (size_t i = 0; i < manifests->n; i++) {
		int rc = oci_store_manifest_delete(r->scratch, repo, manifests->v[i]);
		if (rc < 0 && rc != RV_ENOTFOUND && !im->cleanup_rc) {
			im->cleanup_rc = rc;
			im->cleanup_msg = xasprintf("cannot delete %s/%s@%s: %s", r->host, repo,
			                            manifests->v[i], error_msg());
		}
	}
}

static void drill_one(struct run *r, struct place *p, size_t loc_no, const struct held *h,
                      struct drill_image *im)
{
	struct pull pl = { r->scratch, NULL, STRLIST_INIT, STRLIST_INIT, 0 };
	struct expected want = { STRLIST_INIT, STRLIST_INIT };
	char *repo = NULL;
	int64_t t0 = time_mono_ms();
	int rc;

	im->ref = xasprintf("%s/%s@%s", h->registry, h->repository, h->digest);
	snprintf(im->digest, sizeof(im->digest), "%s", h->digest);
	error_clear();
	strlist_add(&want.all, h->digest);
	strlist_add(&want.manifests, h->digest);
	rc = catalog_closure(r->o->cat, h->digest, add_expected, &want);
	if (rc == 0)
		rc = restore_one(r, p, loc_no, h, &repo);
	else
		repo = xasprintf("%s/%zu/%s", r->prefix, loc_no, h->repository);
	im->scratch_ref = xasprintf("%s/%s@%s", r->host, repo, h->digest);
	pl.repo = repo;
	if (rc == 0)
		rc = pull_manifest(&pl, h->digest, 0);
	if (rc == 0)
		rc = compare(&want.all, &pl.seen);
	if (rc < 0)
		fail(im, rc);
	im->bytes = pl.bytes;
	im->objects = pl.seen.n;
	/* What did not come back may still be there in part (children are
	 * put before their index): delete every manifest of the image. */
	cleanup(r, repo, rc < 0 ? &want.manifests : &pl.manifests, im);
	im->duration_ms = time_mono_ms() - t0;
	strlist_release(&pl.manifests);
	strlist_release(&pl.seen);
	strlist_release(&want.all);
	strlist_release(&want.manifests);
	free(repo);
}

/* --- The run ---------------------------------------------------------------------------- */

static void drill_place(struct run *r, struct place *p, size_t loc_no, struct drill_report *out)
{
	struct drill_location *loc = p->loc;
	size_t want = r->o->per_location < p->n ? r->o->per_location : p->n;
	int64_t t0 = time_mono_ms();

	choose(p, want, r->o->seed);
	loc->images = xcalloc(want + 1, sizeof(*loc->images));
	for (size_t i = 0; i < want; i++) {
		struct drill_image *im = &loc->images[loc->n_images++];
		drill_one(r, p, loc_no, &p->v[i], im);
		loc->bytes += im->bytes;
		loc->failed += im->rc != 0;
		loc->cleanup_failed += im->cleanup_rc != 0;
		if (r->o->on_image)
			r->o->on_image(loc, im, r->o->ctx);
	}
	loc->duration_ms = time_mono_ms() - t0;
	out->drilled += loc->n_images;
	out->failed += loc->failed;
	out->cleanup_failed += loc->cleanup_failed;
}

/* Repositories no earlier drill used: seconds and process id. */
static char *run_prefix(void)
{
	return xasprintf("regvault-drill/%lld-%x", (long long)time_now(), (unsigned)getpid());
}

static int open_scratch(struct run *r)
{
	char *path = NULL;
	int rc = oci_ref_parse_location(r->o->scratch, &r->host, &path);

	if (rc == 0 && path)
		rc = error_set(RV_EINVALID, "scratch registry \"%s\": name a registry, HOST[:PORT]; "
		               "the drill picks its own repositories", r->o->scratch);
	free(path);
	if (rc == 0)
		rc = registry_store_open(&r->scratch, r->o->session, r->host);
	return rc;
}

static int outcome(const struct drill_report *out)
{
	if (out->failed)
		return error_set(RV_ERROR, "%zu of %zu drilled images failed", out->failed,
		                 out->drilled);
	if (out->cleanup_failed)
		return error_set(RV_ERROR, "%zu drilled images could not be deleted from the scratch "
		                 "registry", out->cleanup_failed);
	return 0;
}

int drill_run(const struct drill_options *o, struct drill_report *out)
{
	struct run r = { o, NULL, NULL, NULL };
	struct places ps = { NULL, 0 };
	int rc;

	memset(out, 0, sizeof(*out));
	out->seed = o->seed;
	if (o->per_location == 0)
		return error_set(RV_EINVALID, "a drill needs at least one image per location");
	if ((rc = open_scratch(&r)) < 0)
		goto done;
	r.prefix = run_prefix();
	out->prefix = xasprintf("%s/%s", r.host, r.prefix);
	if ((rc = catalog_entries(o->cat, NULL, collect, &ps)) < 0)
		goto done;
	if (ps.n > 1)
		qsort(ps.v, ps.n, sizeof(*ps.v), by_place);
	out->locations = xcalloc(ps.n + 1, sizeof(*out->locations));
	for (size_t i = 0; i < ps.n; i++) {
		dedupe(&ps.v[i]);
		drill_place(&r, &ps.v[i], i + 1, out);
		out->locations[out->n_locations++] = *ps.v[i].loc;
		free(ps.v[i].loc);
		ps.v[i].loc = NULL;
	}
	rc = out->n_locations ? outcome(out)
	                      : error_set(RV_ENOTFOUND, "the catalog records no verified copy "
	                                  "to drill");
done:
	for (size_t i = 0; i < ps.n; i++) {
		for (size_t k = 0; k < ps.v[i].n; k++)
			held_release(&ps.v[i].v[k]);
		free(ps.v[i].v);
		if (ps.v[i].loc) {
			free(ps.v[i].loc->kind);
			free(ps.v[i].loc->store);
			free(ps.v[i].loc);
		}
	}
	free(ps.v);
	oci_store_close(r.scratch);
	free(r.host);
	free(r.prefix);
	return rc;
}

void drill_report_release(struct drill_report *r)
{
	for (size_t i = 0; i < r->n_locations; i++) {
		struct drill_location *loc = &r->locations[i];
		for (size_t k = 0; k < loc->n_images; k++) {
			struct drill_image *im = &loc->images[k];
			free(im->ref);
			free(im->scratch_ref);
			free(im->msg);
			free(im->cleanup_msg);
		}
		free(loc->images);
		free(loc->kind);
		free(loc->store);
	}
	free(r->locations);
	free(r->prefix);
	memset(r, 0, sizeof(*r));
}
