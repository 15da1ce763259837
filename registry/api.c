/*
 * api.c — the Distribution API endpoints (distribution-spec v1.1
 * "Endpoints"), each an op with a handler that reads the answer.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "oci/reference.h"
#include "registry/internal.h"
#include "util/error.h"
#include "util/log.h"
#include "util/str.h"
#include "util/banned.h"

static int is_digest(const char *ref)
{
	return strchr(ref, ':') != NULL;
}

static char *what_ref(const char *kind, const char *repo, const char *ref)
{
	return xasprintf("%s \"%s%s%s\"", kind, repo, is_digest(ref) ? "@" : ":", ref);
}

/* A reference in a URL path: a tag or a digest, validated so nothing odd
 * reaches the path. */
static int check_ref(registry_client *c, const char *repo, const char *ref)
{
	if (!oci_ref_repository_valid(repo))
		return error_set(RV_EINVALID, "invalid repository name \"%s\"", repo);
	if (is_digest(ref)) {
		int rc = oci_digest_validate(ref);
		return rc < 0 ? error_wrap(rc, "%s", "reference") : 0;
	}
	if (!oci_ref_tag_valid(ref))
		return error_set(RV_EINVALID, "invalid tag \"%s\" for \"%s/%s\"", ref, c->name, repo);
	return 0;
}

static registry_op *repo_op(registry_client *c, const char *method, const char *repo,
                            const char *actions, char *what, char *url)
{
	return op_new(c, method, url, auth_scope_repository(repo, actions), what);
}

/* --- Listings ---------------------------------------------------------------- */

struct page {
	char *next;                  /* absolute URL of the next page, NULL on the last */
	struct listing_parser parser;
	struct strlist *got;         /* every entry so far, this page's appended */
	size_t start;                /* got->n when the page began */
};

/* Pages stream into the parser: a listing costs its entries, never a
 * page's bytes or a JSON tree of them (listing.c). */
static int page_write(void *ctx, const void *data, size_t len)
{
	struct page *p = ctx;
	return listing_feed(&p->parser, data, len);
}

/* A page that broke off is asked for again from its start: drop what it
 * gave so far, and send no Range (op.c resumes sinks from op->got). */
static int page_retry(registry_op *op)
{
	struct page *p = op->data;

	while (p->got->n > p->start)
		free(p->got->v[--p->got->n]);
	listing_init(&p->parser, p->parser.key, p->parser.what, p->got, p->parser.max_entries);
	op->got = 0;
	return 0;
}

/* The Link header's next page, resolved against the request. A link to
 * another scheme, host or port is refused, not followed: the request
 * would carry this registry's credentials there (a token, or the user's
 * password under basic auth). Sets the error and returns NULL. */
static char *next_page(registry_op *op)
{
	char *next = client_resolve(op->url, op->r.link);
	char q[200];

	if (!next) {
		error_set(RV_EINVALID, "the next-page link \"%s\" is not a URL",
		          str_printable(q, sizeof(q), op->r.link));
		return NULL;
	}
	if (!client_same_origin(op->url, next)) {
		error_set(RV_EINVALID,
		          "the next-page link points at another host (%s); not following it with "
		          "this registry's credentials", str_printable(q, sizeof(q), next));
		free(next);
		return NULL;
	}
	return next;
}

static int page_handler(registry_op *op)
{
	struct page *p = op->data;
	int rc;

	if (op->r.status != 200)
		return op_fail_status(op);
	if ((rc = listing_finish(&p->parser)) < 0)
		return op_fail(op, rc, "%s", error_msg());
	if (op->r.link && !(p->next = next_page(op)))
		return op_fail(op, RV_EINVALID, "%s", error_msg());
	return 0;
}

static int list_all(registry_client *c, char *url, char *scope, const char *what,
                    const char *key, struct strlist *out)
{
	int rc = 0;
	struct strlist got = STRLIST_INIT;
	char *label = xasprintf("%s on \"%s\"", what, c->name);

	for (int pages = 0; url; pages++) {
		struct page p = { .got = &got, .start = got.n };
		if (pages >= LIST_MAX_PAGES) {
			rc = error_set(RV_ETOOBIG, "%s: more than %d pages; refusing to go on", label,
			               LIST_MAX_PAGES);
			free(url);
			break;
		}
		listing_init(&p.parser, key, label, &got, REGISTRY_LIST_MAX);
		registry_op *op = op_new(c, "GET", url, xstrdup(scope), xstrdup(what));
		op->has_sink = 1;
		op->sink.write = page_write;
		op->sink.ctx = &p;
		op->out_hash = oci_hasher_new(OCI_SHA256);   /* op.c hashes every sink's bytes */
		op->data = &p;
		op->handler = page_handler;
		op->on_retry = page_retry;
		char *asked = xstrdup(url);
		rc = op_run(op);
		if (rc == 0 && p.next && strcmp(p.next, asked) == 0)
			rc = error_set(RV_EINVALID, "%s: the next-page link points at the same page",
			               label);
		free(asked);
		url = p.next;
		if (rc < 0) {
			free(url);
			break;
		}
	}
	free(scope);
	free(label);
	if (rc == 0) {
		strlist_sort(&got);
		if (out->n == 0) {   /* the usual case: hand the array over, no copy */
			free(out->v);
			*out = got;
			return 0;
		}
		for (size_t i = 0; i < got.n; i++)
			strlist_add_owned(out, got.v[i]);
		free(got.v);
	} else {
		strlist_release(&got);
	}
	return rc;
}

int registry_catalog(registry_client *c, struct strlist *out)
{
	int rc = client_ready(c);
	if (rc < 0)
		return rc;
	/* distribution v2.8 answers 400 PAGINATION_NUMBER_INVALID above its
	 * maxentries (1000 by default); ask for 1000, fall back to its own
	 * page size if even that is refused. */
	rc = list_all(c, client_url(c, "_catalog?n=1000"), xstrdup("registry:catalog:*"),
	              "catalog", "repositories", out);
	if (rc == RV_EINVALID && strstr(error_msg(), "PAGINATION_NUMBER_INVALID"))
		rc = list_all(c, client_url(c, "_catalog"), xstrdup("registry:catalog:*"),
		              "catalog", "repositories", out);
	return rc;
}

int registry_tags_list(registry_client *c, const char *repo, struct strlist *out)
{
	int rc = client_ready(c);
	if (rc < 0)
		return rc;
	if (!oci_ref_repository_valid(repo))
		return error_set(RV_EINVALID, "invalid repository name \"%s\"", repo);
	char *what = xasprintf("tags of \"%s\"", repo);
	rc = list_all(c, client_url(c, "%s/tags/list", repo), auth_scope_repository(repo, "pull"),
	              what, "tags", out);
	free(what);
	return rc;
}

/* --- Manifests ------------------------------------------------------------- */

struct mget {
	const char *ref;
	struct oci_manifest_info *info;
	struct buf body;
	int need_get;   /* HEAD gave no digest for a tag */
};

static void info_from_response(registry_op *op, struct oci_manifest_info *info)
{
	snprintf(info->media_type, sizeof(info->media_type), "%s", op->r.content_type);
	info->size = op->r.content_length;
}

static int mhead_handler(registry_op *op)
{
	struct mget *m = op->data;

	if (op->r.status != 200)
		return op_fail_status(op);
	info_from_response(op, m->info);
	if (op->r.digest[0] && oci_digest_validate(op->r.digest) == 0)
		snprintf(m->info->digest, sizeof(m->info->digest), "%s", op->r.digest);
	else if (is_digest(m->ref))
		snprintf(m->info->digest, sizeof(m->info->digest), "%s", m->ref);
	else
		m->need_get = 1;
	return 0;
}

static int verify_body(registry_op *op, const char *expected, const struct buf *b,
                       const char *label)
{
	char got[OCI_DIGEST_MAX];

	oci_digest_compute(got, oci_digest_alg_of(expected), b->ptr ? b->ptr : "", b->len);
	if (strcmp(got, expected) == 0)
		return 0;
	return op_fail(op, RV_EDIGEST, "%s on \"%s\": content hashes to %s, not to %s%s",
	               op->what, op->c->name, got, expected, label);
}

/* Checks a fetched manifest against what it was asked by and what the
 * registry claims (distribution-spec "Pulling manifests": a client MUST
 * verify Docker-Content-Digest when it uses it). */
static int mget_verify(registry_op *op, struct mget *m)
{
	const struct buf *b = &m->body;
	int rc;

	if (is_digest(m->ref) && (rc = verify_body(op, m->ref, b, "")) < 0)
		return rc;
	if (op->r.digest[0] && oci_digest_validate(op->r.digest) == 0 &&
	    (rc = verify_body(op, op->r.digest, b, " (its Docker-Content-Digest)")) < 0)
		return rc;
	if (is_digest(m->ref))
		snprintf(m->info->digest, sizeof(m->info->digest), "%s", m->ref);
	else
		oci_digest_compute(m->info->digest, OCI_SHA256, b->ptr ? b->ptr : "", b->len);
	info_from_response(op, m->info);
	m->info->size = (int64_t)b->len;
	return 0;
}

static int mget_handler(registry_op *op)
{
	if (op->r.status != 200)
		return op_fail_status(op);
	return mget_verify(op, op->data);
}

static registry_op *manifest_op(registry_client *c, const char *method, const char *repo,
                                const char *ref, struct mget *m)
{
	registry_op *op = repo_op(c, method, repo, "pull", what_ref("manifest", repo, ref),
	                          client_url(c, "%s/manifests/%s", repo, ref));
	op_header(op, "Accept: %s", OCI_MANIFEST_ACCEPT);
	op->data = m;
	return op;
}

int registry_manifest_get_raw(registry_client *c, const char *repo, const char *ref,
                              struct buf *out_raw, struct oci_manifest_info *out_info)
{
	struct oci_manifest_info info;
	struct mget m = { ref, out_info ? out_info : &info, BUF_INIT, 0 };
	int rc;

	if ((rc = client_ready(c)) < 0 || (rc = check_ref(c, repo, ref)) < 0)
		return rc;
	memset(m.info, 0, sizeof(*m.info));
	/* The 4 MiB cap: the write callback fails the op past it (RV_ETOOBIG). */
	buf_init(&m.body, OCI_MANIFEST_MAX);
	registry_op *op = manifest_op(c, "GET", repo, ref, &m);
	op->out = &m.body;
	op->handler = mget_handler;
	rc = op_run(op);
	if (rc == 0 && buf_add(out_raw, m.body.ptr ? m.body.ptr : "", m.body.len) < 0)
		rc = error_set(RV_ETOOBIG, "manifest \"%s\" does not fit the caller's buffer", ref);
	buf_release(&m.body);
	return rc;
}

int registry_manifest_get(registry_client *c, const char *repo, const char *ref,
                          struct oci_manifest **out)
{
	struct buf raw = BUF_INIT;
	struct oci_manifest_info info;
	int rc = registry_manifest_get_raw(c, repo, ref, &raw, &info);

	if (rc == 0) {
		rc = oci_manifest_parse(out, raw.ptr ? raw.ptr : "", raw.len,
		                        info.media_type[0] ? info.media_type : NULL);
		if (rc < 0)
			rc = error_wrap(rc, "manifest \"%s%s%s\" on \"%s\"", repo,
			                is_digest(ref) ? "@" : ":", ref, c->name);
	}
	buf_release(&raw);
	return rc;
}

int registry_manifest_head(registry_client *c, const char *repo, const char *ref,
                           struct oci_manifest_info *out)
{
	struct mget m = { ref, out, BUF_INIT, 0 };
	int rc;

	if ((rc = client_ready(c)) < 0 || (rc = check_ref(c, repo, ref)) < 0)
		return rc;
	memset(out, 0, sizeof(*out));
	registry_op *op = manifest_op(c, "HEAD", repo, ref, &m);
	op->handler = mhead_handler;
	rc = op_run(op);
	if (rc == 0 && m.need_get) {
		struct buf raw = BUF_INIT;
		rc = registry_manifest_get_raw(c, repo, ref, &raw, out);
		buf_release(&raw);
	}
	return rc;
}

/* Async HEAD: a tag whose HEAD carries no digest turns into a GET. */
static int mhead_async_handler(registry_op *op)
{
	struct mget *m = op->data;

	if (m->need_get)   /* second pass: the GET */
		return mget_handler(op);
	int rc = mhead_handler(op);
	if (rc < 0 || !m->need_get)
		return rc;
	op->method = "GET";
	buf_init(&m->body, OCI_MANIFEST_MAX);
	op->out = &m->body;
	return OP_NEXT;
}

static void mget_free(void *p)
{
	struct mget *m = p;
	buf_release(&m->body);
	free((char *)m->ref);
	free(m);
}

int registry_manifest_head_start(registry_op **out, registry_client *c, const char *repo,
                                 const char *ref, struct oci_manifest_info *out_info,
                                 registry_done_fn done, void *ctx)
{
	int rc;

	if ((rc = client_ready(c)) < 0 || (rc = check_ref(c, repo, ref)) < 0)
		return rc;
	memset(out_info, 0, sizeof(*out_info));
	struct mget *m = xcalloc(1, sizeof(*m));
	m->ref = xstrdup(ref);
	m->info = out_info;
	registry_op *op = manifest_op(c, "HEAD", repo, ref, m);
	op->handler = mhead_async_handler;
	op->free_data = mget_free;
	op->done = done;
	op->done_ctx = ctx;
	if (out)
		*out = op;
	op_start(op);
	return 0;
}

struct mput {
	const void *raw;
	size_t len;
};

static int mput_handler(registry_op *op)
{
	struct mput *m = op->data;
	int rc;

	if (op->r.status < 200 || op->r.status >= 300)
		return op_fail_status(op);
	if (op->r.digest[0] && oci_digest_validate(op->r.digest) == 0 &&
	    (rc = oci_digest_verify(op->r.digest, m->raw, m->len, op->what)) < 0)
		return op_fail(op, RV_EDIGEST, "%s on \"%s\": the registry reports digest %s for the "
		               "bytes we sent", op->what, op->c->name, op->r.digest);
	return 0;
}

int registry_manifest_put(registry_client *c, const char *repo, const char *ref,
                          const char *media_type, const void *raw, size_t len)
{
	struct mput m = { raw, len };
	int rc;

	if ((rc = client_ready(c)) < 0 || (rc = check_ref(c, repo, ref)) < 0)
		return rc;
	if (!media_type || !*media_type)
		return error_set(RV_EINVALID, "manifest \"%s:%s\": no media type to push with "
		                 "(distribution v2.8 would misread it as schema1)", repo, ref);
	if (len > OCI_MANIFEST_MAX)
		return error_set(RV_ETOOBIG, "manifest \"%s:%s\" is %zu bytes, over the 4 MiB limit",
		                 repo, ref, len);
	if (is_digest(ref) && (rc = oci_digest_verify(ref, raw, len, "manifest")) < 0)
		return rc;
	registry_op *op = repo_op(c, "PUT", repo, "pull,push", what_ref("manifest", repo, ref),
	                          client_url(c, "%s/manifests/%s", repo, ref));
	op_header(op, "Content-Type: %s", media_type);
	op->in_mem = raw;
	op->in_len = len;
	op->data = &m;
	op->handler = mput_handler;
	return op_run(op);
}

static int delete_handler(registry_op *op)
{
	if (op->r.status == 202 || op->r.status == 200 || op->r.status == 204)
		return 0;
	int rc = op_fail_status(op);
	if (rc == RV_EUNSUPPORTED)
		op_fail(op, rc, "%s on \"%s\": the registry does not allow deletes (%ld)", op->what,
		        op->c->name, op->r.status);
	return rc;
}

int registry_manifest_delete(registry_client *c, const char *repo, const char *digest)
{
	int rc;

	if (!is_digest(digest))
		return error_set(RV_EINVALID, "refusing to delete \"%s:%s\" by tag: registries delete "
		                 "by digest, which removes every tag on it", repo, digest);
	if ((rc = client_ready(c)) < 0 || (rc = check_ref(c, repo, digest)) < 0)
		return rc;
	registry_op *op = repo_op(c, "DELETE", repo, "delete,pull",
	                          what_ref("manifest", repo, digest),
	                          client_url(c, "%s/manifests/%s", repo, digest));
	op->handler = delete_handler;
	return op_run(op);
}

/* --- Blobs ------------------------------------------------------------------- */

static int blob_head_handler(registry_op *op)
{
	int64_t *size = op->data;

	if (op->r.status != 200)
		return op_fail_status(op);
	if (size)
		*size = op->r.content_length;
	return 0;
}

/* Blobs are named by digest only: a tag-shaped name is refused. */
static int check_blob_digest(registry_client *c, const char *repo, const char *digest)
{
	int rc;

	if ((rc = client_ready(c)) < 0 || (rc = check_ref(c, repo, digest)) < 0)
		return rc;
	if (!is_digest(digest))
		return error_set(RV_EINVALID, "invalid blob digest \"%s\"", digest);
	return 0;
}

int registry_blob_head(registry_client *c, const char *repo, const char *digest,
                       int64_t *out_size)
{
	int rc = check_blob_digest(c, repo, digest);

	if (rc < 0)
		return rc;
	registry_op *op = repo_op(c, "HEAD", repo, "pull", what_ref("blob", repo, digest),
	                          client_url(c, "%s/blobs/%s", repo, digest));
	op->data = out_size;
	op->handler = blob_head_handler;
	return op_run(op);
}

static int blob_get_handler(registry_op *op)
{
	char got[OCI_DIGEST_MAX];

	if (op->r.status != 200 && op->r.status != 206)
		return op_fail_status(op);
	if (op->expect_size >= 0 && op->got != op->expect_size)
		return op_fail(op, RV_EDIGEST, "%s on \"%s\": %lld bytes received, its descriptor "
		               "says %lld", op->what, op->c->name, (long long)op->got,
		               (long long)op->expect_size);
	oci_hasher_final(op->out_hash, got);
	if (strcmp(got, op->expect_digest) != 0)
		return op_fail(op, RV_EDIGEST, "%s on \"%s\": content does not match its digest "
		               "(received bytes hash to %s)", op->what, op->c->name, got);
	return 0;
}

static registry_op *blob_get_op(registry_client *c, const char *repo,
                                const struct oci_descriptor *d, const struct oci_sink *sink)
{
	registry_op *op = repo_op(c, "GET", repo, "pull", what_ref("blob", repo, d->digest),
	                          client_url(c, "%s/blobs/%s", repo, d->digest));
	op->has_sink = 1;
	op->sink = *sink;
	op->out_hash = oci_hasher_new(oci_digest_alg_of(d->digest));
	snprintf(op->expect_digest, sizeof(op->expect_digest), "%s", d->digest);
	op->expect_size = d->size;
	op->handler = blob_get_handler;
	return op;
}

int registry_blob_get(registry_client *c, const char *repo, const struct oci_descriptor *d,
                      const struct oci_sink *sink)
{
	int rc = check_blob_digest(c, repo, d->digest);
	return rc < 0 ? rc : op_run(blob_get_op(c, repo, d, sink));
}

int registry_blob_get_start(registry_op **out, registry_client *c, const char *repo,
                            const struct oci_descriptor *d, const struct oci_sink *sink,
                            registry_done_fn done, void *ctx)
{
	int rc = check_blob_digest(c, repo, d->digest);
	if (rc < 0)
		return rc;
	registry_op *op = blob_get_op(c, repo, d, sink);
	op->done = done;
	op->done_ctx = ctx;
	if (out)
		*out = op;
	op_start(op);
	return 0;
}

/* Upload: POST → (PATCH…) → PUT ?digest= (distribution-spec "Pushing
 * blobs"). Every step follows the newest Location: v2.8 rotates its
 * _state parameter after each PATCH. */
enum put_step { PUT_POST, PUT_PATCH, PUT_FINAL, MOUNT_POST, MOUNT_CANCEL };

struct put_state {
	enum put_step step;
	int64_t size;
	int64_t offset;
	size_t chunk;
	char *uploads_url;
};

static void put_free(void *p)
{
	struct put_state *st = p;
	free(st->uploads_url);
	free(st);
}

static char *with_digest(const char *url, const char *digest)
{
	return xasprintf("%s%sdigest=%s", url, strchr(url, '?') ? "&" : "?", digest);
}

static void next_upload_request(registry_op *op, struct put_state *st, char *url)
{
	op_clear_headers(op);
	op_header(op, "Content-Type: application/octet-stream");
	op->in_sent = 0;
	if (st->chunk && st->offset < st->size) {
		int64_t n = st->size - st->offset;
		if (n > (int64_t)st->chunk)
			n = (int64_t)st->chunk;
		st->step = PUT_PATCH;
		op->method = "PATCH";
		op->in_limit = n;
		/* No "bytes " prefix: distribution-spec chunked upload grammar. */
		op_header(op, "Content-Range: %lld-%lld", (long long)st->offset,
		          (long long)(st->offset + n - 1));
		op_set_url(op, url);
	} else {
		st->step = PUT_FINAL;
		op->method = "PUT";
		op->in_limit = st->chunk ? 0 : st->size - st->offset;
		op_set_url(op, with_digest(url, op->expect_digest));
		free(url);
	}
}

static int put_final_check(registry_op *op, struct put_state *st)
{
	char got[OCI_DIGEST_MAX];

	if (op->in_hashed != st->size)
		return op_fail(op, RV_EDIGEST, "%s: the source gave %lld bytes, the descriptor says "
		               "%lld", op->what, (long long)op->in_hashed, (long long)st->size);
	oci_hasher_final(op->in_hash, got);
	if (strcmp(got, op->expect_digest) != 0)
		return op_fail(op, RV_EDIGEST, "%s: the bytes sent hash to %s", op->what, got);
	if (op->r.digest[0] && strcmp(op->r.digest, op->expect_digest) != 0)
		return op_fail(op, RV_EDIGEST, "%s on \"%s\": the registry stored it as %s", op->what,
		               op->c->name, op->r.digest);
	return 0;
}

static int put_handler(registry_op *op)
{
	struct put_state *st = op->data;
	long status = op->r.status;
	char *next;

	switch (st->step) {
	case PUT_POST:
	case PUT_PATCH:
		if (status != 202 || !op->r.location)
			return op_fail_status(op);
		st->offset += st->step == PUT_PATCH ? op->in_sent : 0;
		next = client_resolve(op->url, op->r.location);
		if (!next)
			return op_fail(op, RV_EINVALID, "%s on \"%s\": unusable upload Location \"%s\"",
			               op->what, op->c->name, op->r.location);
		next_upload_request(op, st, next);
		return OP_NEXT;
	case PUT_FINAL:
		if (status != 201 && status != 204 && status != 200)
			return op_fail_status(op);
		return put_final_check(op, st);
	case MOUNT_POST:
		if (status == 201)
			return 0;
		if (status != 202 || !op->r.location)
			return op_fail_status(op);
		/* Not mounted: the registry opened an upload session instead.
		 * Cancel it, best effort, and say "not mounted". */
		op_fail(op, RV_ENOTFOUND, "%s not mounted", op->what);
		op->best_effort_rc = RV_ENOTFOUND;
		st->step = MOUNT_CANCEL;
		next = client_resolve(op->url, op->r.location);
		if (!next)
			return RV_ENOTFOUND;
		op->method = "DELETE";
		op_set_url(op, next);
		return OP_NEXT;
	case MOUNT_CANCEL:
		return RV_ENOTFOUND;
	}
	return RV_ERROR;
}

/* A failed exchange restarts the whole upload with a new session. */
static int put_retry(registry_op *op)
{
	struct put_state *st = op->data;

	if (st->step == MOUNT_POST || st->step == MOUNT_CANCEL)
		return 0;
	if (op->in_hashed > 0) {
		if (!op->src.rewind || op->src.rewind(op->src.ctx) < 0)
			return op_fail(op, RV_ETRANSIENT, "%s on \"%s\": the upload broke off and its "
			               "source cannot start over", op->what, op->c->name);
		oci_hasher_free(op->in_hash);
		op->in_hash = oci_hasher_new(oci_digest_alg_of(op->expect_digest));
		op->in_hashed = 0;
	}
	st->step = PUT_POST;
	st->offset = 0;
	op->method = "POST";
	op->in_sent = 0;
	op->in_limit = -1;
	op_clear_headers(op);
	op_set_url(op, xstrdup(st->uploads_url));
	return 0;
}

static registry_op *blob_put_op(registry_client *c, const char *repo,
                                const struct oci_descriptor *d, const struct oci_source *src,
                                size_t chunk)
{
	struct put_state *st = xcalloc(1, sizeof(*st));
	st->step = PUT_POST;
	st->size = d->size;
	st->chunk = chunk;
	st->uploads_url = client_url(c, "%s/blobs/uploads/", repo);
	registry_op *op = repo_op(c, "POST", repo, "pull,push", what_ref("blob", repo, d->digest),
	                          xstrdup(st->uploads_url));
	op->has_src = 1;
	op->src = *src;
	op->in_hash = oci_hasher_new(oci_digest_alg_of(d->digest));
	snprintf(op->expect_digest, sizeof(op->expect_digest), "%s", d->digest);
	op->data = st;
	op->free_data = put_free;
	op->handler = put_handler;
	op->on_retry = put_retry;
	return op;
}

static int check_put(registry_client *c, const char *repo, const struct oci_descriptor *d)
{
	int rc = check_blob_digest(c, repo, d->digest);
	if (rc == 0 && d->size < 0)
		rc = error_set(RV_EINVALID, "blob \"%s\": negative size", d->digest);
	return rc;
}

int registry_blob_put(registry_client *c, const char *repo, const struct oci_descriptor *d,
                      const struct oci_source *src, size_t chunk_size)
{
	int rc = check_put(c, repo, d);
	return rc < 0 ? rc : op_run(blob_put_op(c, repo, d, src, chunk_size));
}

int registry_blob_put_start(registry_op **out, registry_client *c, const char *repo,
                            const struct oci_descriptor *d, const struct oci_source *src,
                            registry_done_fn done, void *ctx)
{
	int rc = check_put(c, repo, d);
	if (rc < 0)
		return rc;
	registry_op *op = blob_put_op(c, repo, d, src, 0);
	op->done = done;
	op->done_ctx = ctx;
	if (out)
		*out = op;
	op_start(op);
	return 0;
}

int registry_blob_mount(registry_client *c, const char *repo, const char *digest,
                        const char *from_repo)
{
	int rc;

	if ((rc = client_ready(c)) < 0 || (rc = check_ref(c, repo, digest)) < 0 ||
	    (rc = check_ref(c, from_repo, digest)) < 0)
		return rc;
	struct buf scope = BUF_INIT;
	char *a = auth_scope_repository(repo, "pull,push");
	char *b = auth_scope_repository(from_repo, "pull");
	auth_scope_merge(&scope, a);
	auth_scope_merge(&scope, b);
	free(a);
	free(b);
	struct put_state *st = xcalloc(1, sizeof(*st));
	st->step = MOUNT_POST;
	registry_op *op = op_new(c, "POST",
	                         client_url(c, "%s/blobs/uploads/?mount=%s&from=%s", repo, digest,
	                                    from_repo),
	                         buf_detach(&scope, NULL),
	                         xasprintf("blob \"%s@%s\" (from \"%s\")", repo, digest, from_repo));
	op->data = st;
	op->free_data = put_free;
	op->handler = put_handler;
	op->on_retry = put_retry;
	return op_run(op);
}

int registry_blob_delete(registry_client *c, const char *repo, const char *digest)
{
	int rc = check_blob_digest(c, repo, digest);

	if (rc < 0)
		return rc;
	registry_op *op = repo_op(c, "DELETE", repo, "delete,pull", what_ref("blob", repo, digest),
	                          client_url(c, "%s/blobs/%s", repo, digest));
	op->handler = delete_handler;
	return op_run(op);
}

/* --- Referrers ---------------------------------------------------------------- */

struct referrers {
	char *next;
	int supported;   /* the API answered with an index */
	int filtered;    /* the registry applied the artifactType filter */
};

static int referrers_handler(registry_op *op)
{
	struct referrers *r = op->data;

	/* distribution-spec "Unavailable Referrers API": 404 means fall back
	 * to the tag schema; v2.8 answers a text/plain 404 page. Some
	 * registries say 400/405/406 instead (go-containerregistry does the same). */
	if (op->r.status == 404 || op->r.status == 400 || op->r.status == 405 ||
	    op->r.status == 406)
		return 0;
	if (op->r.status != 200)
		return op_fail_status(op);
	if (strcmp(op->r.content_type, OCI_MT_IMAGE_INDEX) != 0)
		return 0;
	r->supported = 1;
	r->filtered = op->r.filters_applied;
	if (op->r.link && !(r->next = next_page(op)))
		return op_fail(op, RV_EINVALID, "%s", error_msg());
	return 0;
}

/* Appends the manifests[] of an index document to acc, keeping only
 * artifact_type's entries when the registry did not filter. */
static int gather_referrers(json_t *acc, const char *raw, size_t len, const char *artifact_type,
                            const char *what)
{
	json_error_t jerr;
	json_t *root = json_loadb(raw, len, JSON_REJECT_DUPLICATES, &jerr);
	json_t *arr = json_object_get(root, "manifests");
	size_t i;
	json_t *d;

	if (!json_is_object(root) || (arr && !json_is_array(arr))) {
		json_decref(root);
		return error_set(RV_EINVALID, "%s: not an image index", what);
	}
	json_array_foreach(arr, i, d) {
		const char *at = json_string_value(json_object_get(d, "artifactType"));
		if (!artifact_type || (at && strcmp(at, artifact_type) == 0))
			json_array_append(acc, d);
	}
	json_decref(root);
	return 0;
}

static int referrers_api(registry_client *c, const char *repo, const char *digest,
                         const char *artifact_type, json_t *acc, int *supported)
{
	char *enc = artifact_type ? curl_easy_escape(NULL, artifact_type, 0) : NULL;
	char *url = enc ? client_url(c, "%s/referrers/%s?artifactType=%s", repo, digest, enc)
	                : client_url(c, "%s/referrers/%s", repo, digest);
	int rc = 0;

	curl_free(enc);
	*supported = 0;
	for (int pages = 0; url && rc == 0; pages++) {
		struct buf body = BUF_INIT;
		struct referrers r = { NULL, 0, 0 };
		buf_init(&body, JSON_PAGE_MAX);
		registry_op *op = repo_op(c, "GET", repo, "pull", what_ref("referrers of", repo, digest),
		                          url);
		op_header(op, "Accept: %s", OCI_MT_IMAGE_INDEX);
		op->out = &body;
		op->data = &r;
		op->handler = referrers_handler;
		rc = op_run(op);
		if (rc == 0 && r.supported) {
			*supported = 1;
			rc = gather_referrers(acc, body.ptr, body.len, r.filtered ? NULL : artifact_type,
			                      "referrers answer");
		}
		buf_release(&body);
		url = r.next;
		if (pages >= LIST_MAX_PAGES && url) {
			free(url);
			url = NULL;
			rc = error_set(RV_ETOOBIG, "referrers of \"%s\": too many pages", digest);
		}
	}
	free(url);
	return rc;
}

/* distribution-spec "Referrers Tag Schema": <alg>-<ref>, ref cut to 64. */
static char *fallback_tag(const char *digest)
{
	const char *colon = strchr(digest, ':');
	return xasprintf("%.*s-%.64s", (int)(colon - digest), digest, colon + 1);
}

int registry_referrers(registry_client *c, const char *repo, const char *digest,
                       const char *artifact_type, struct oci_manifest **out_index)
{
	json_t *acc = json_array();
	int supported = 0;
	int rc;

	if ((rc = client_ready(c)) < 0 || (rc = check_ref(c, repo, digest)) < 0 ||
	    (rc = oci_digest_validate(digest)) < 0)
		goto done;
	rc = referrers_api(c, repo, digest, artifact_type, acc, &supported);
	if (rc == 0 && !supported) {
		struct buf raw = BUF_INIT;
		char *tag = fallback_tag(digest);
		rc = registry_manifest_get_raw(c, repo, tag, &raw, NULL);
		if (rc == RV_ENOTFOUND) {
			error_clear();
			rc = 0;
		} else if (rc == 0) {
			rc = gather_referrers(acc, raw.ptr, raw.len, artifact_type, "referrers tag");
		}
		free(tag);
		buf_release(&raw);
	}
	if (rc == 0) {
		json_t *idx = json_pack("{s:i, s:s, s:O}", "schemaVersion", 2, "mediaType",
		                        OCI_MT_IMAGE_INDEX, "manifests", acc);
		char *doc = json_dumps(idx, JSON_COMPACT);
		rc = oci_manifest_parse(out_index, doc, strlen(doc), OCI_MT_IMAGE_INDEX);
		free(doc);
		json_decref(idx);
	}
done:
	json_decref(acc);
	return rc;
}
