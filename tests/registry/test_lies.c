/*
 * test_lies.c — a registry that lies (issue 8): manifests whose bytes do
 * not match their digest (by tag and by digest), manifests over 4 MiB and
 * blobs longer than their descriptor (with and without Content-Length),
 * tags lists of millions of entries, redirects to other hosts and from
 * https to http (Basic and Bearer credentials must stay home), and token
 * endpoints on other hosts over plain HTTP.
 *
 * Two levels. The client library (registry/) against scripted servers in
 * this process: fakehttp, a raw streaming server for listings no server
 * should hold in memory, and a small TLS front for https→http redirects.
 * Then the regvault binary ($REGVAULT) against a small in-memory registry
 * that lies on request: backup and mirror must end with one clear error
 * line and record nothing as verified in the catalog (its copies and
 * store_refs tables are read with SQLite), and mirror must put no manifest
 * on the standby. `regvault ls` of a listing that never ends must stop at
 * the documented cap (registry.h REGISTRY_LIST_MAX) with bounded memory:
 * its peak RSS comes from wait4().
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <sqlite3.h>

#include "oci/digest.h"
#include "registry/internal.h"
#include "registry/registry.h"
#include "tests/harness/fakehttp.h"
#include "tests/harness/harness.h"
#include "util/error.h"
#include "util/strlist.h"

#define MT_MANIFEST "application/vnd.oci.image.manifest.v1+json"
#define MT_CONFIG "application/vnd.oci.image.config.v1+json"
#define MT_LAYER "application/vnd.oci.image.layer.v1.tar+gzip"

static int contains(const char *s, const char *sub)
{
	return s && strstr(s, sub) != NULL;
}

/* --- A small in-memory registry that lies on request ---------------------------- */

struct object {
	char digest[OCI_DIGEST_MAX];
	char *tag;                   /* manifests put or seeded under a tag */
	int manifest;
	unsigned char *data;
	size_t len;
	struct object *next;
};

struct upload {
	int used;
	unsigned char *data;
	size_t len;
};

struct reg {
	const char *lie;             /* "" for an honest registry */
	struct object *objs;
	struct upload up[32];
	int manifest_puts;
	/* The seeded image. */
	char manifest_digest[OCI_DIGEST_MAX];
	char layer_digest[OCI_DIGEST_MAX];
	size_t layer_len;
	char other_digest[OCI_DIGEST_MAX];  /* of bytes the registry never holds */
	unsigned char *tampered;            /* the manifest with one byte changed */
	size_t tampered_len;
};

static struct object *reg_find(struct reg *r, const char *ref, int manifest)
{
	int by_digest = strchr(ref, ':') != NULL;

	for (struct object *o = r->objs; o; o = o->next) {
		if (manifest && !o->manifest)
			continue;
		if (by_digest ? !strcmp(o->digest, ref) : (o->tag && !strcmp(o->tag, ref)))
			return o;
	}
	return NULL;
}

static struct object *reg_put(struct reg *r, const void *data, size_t len, int manifest,
                              const char *tag)
{
	struct object *o = calloc(1, sizeof(*o));

	oci_digest_compute(o->digest, OCI_SHA256, data, len);
	o->data = malloc(len ? len : 1);
	memcpy(o->data, data, len);
	o->len = len;
	o->manifest = manifest;
	o->tag = tag ? strdup(tag) : NULL;
	o->next = r->objs;
	r->objs = o;
	return o;
}

static void reg_free(struct reg *r)
{
	while (r->objs) {
		struct object *o = r->objs;
		r->objs = o->next;
		free(o->tag);
		free(o->data);
		free(o);
	}
	for (size_t i = 0; i < sizeof(r->up) / sizeof(r->up[0]); i++)
		free(r->up[i].data);
	free(r->tampered);
}

static unsigned char *pseudo_random(unsigned seed, size_t len)
{
	unsigned char *p = malloc(len);
	uint32_t x = 2463534242u ^ seed;

	for (size_t i = 0; i < len; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		p[i] = (unsigned char)x;
	}
	return p;
}

/* One image: a config and two layers, tagged v1; and the lies' material. */
static void reg_seed(struct reg *r)
{
	static const char config[] = "{\"architecture\":\"amd64\",\"os\":\"linux\","
	                             "\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[]}}";
	unsigned char *l1 = pseudo_random(1, 20000), *l2 = pseudo_random(2, 30000);
	struct object *c = reg_put(r, config, strlen(config), 0, NULL);
	struct object *a = reg_put(r, l1, 20000, 0, NULL);
	struct object *b = reg_put(r, l2, 30000, 0, NULL);
	char *m = NULL;
	int n = asprintf(&m, "{\n  \"schemaVersion\": 2,\n  \"mediaType\": \"%s\",\n"
	                 "  \"config\": {\"mediaType\": \"%s\", \"digest\": \"%s\", \"size\": %zu},\n"
	                 "  \"layers\": [\n"
	                 "    {\"mediaType\": \"%s\", \"digest\": \"%s\", \"size\": %zu},\n"
	                 "    {\"mediaType\": \"%s\", \"digest\": \"%s\", \"size\": %zu}\n  ]\n}\n",
	                 MT_MANIFEST, MT_CONFIG, c->digest, c->len, MT_LAYER, a->digest, a->len,
	                 MT_LAYER, b->digest, b->len);

	assert_true(n > 0);
	struct object *mo = reg_put(r, m, (size_t)n, 1, "v1");
	snprintf(r->manifest_digest, sizeof(r->manifest_digest), "%s", mo->digest);
	snprintf(r->layer_digest, sizeof(r->layer_digest), "%s", a->digest);
	r->layer_len = a->len;
	oci_digest_compute(r->other_digest, OCI_SHA256, "not the manifest", 16);
	/* The same manifest, still valid JSON, one indentation byte changed:
	 * another digest, as a registry that altered a stored image would serve. */
	r->tampered = malloc((size_t)n);
	memcpy(r->tampered, m, (size_t)n);
	r->tampered[2] = '\t';
	r->tampered_len = (size_t)n;
	free(m);
	free(l1);
	free(l2);
}

static void serve_object(struct fakehttp_response *rs, const struct object *o)
{
	if (o->manifest)
		fakehttp_response_header(rs, "Content-Type", "%s", MT_MANIFEST);
	fakehttp_response_header(rs, "Docker-Content-Digest", "%s", o->digest);
	fakehttp_response_body(rs, o->data, o->len);
}

static int lie_is(const struct reg *r, const char *what)
{
	return !strcmp(r->lie, what);
}

/* The lies, each where a real registry would tell the truth; 1 when a lie
 * answered the request. */
static int lie_manifest(struct reg *r, const struct fakehttp_request *rq,
                        struct fakehttp_response *rs, const char *ref)
{
	const struct object *m = reg_find(r, r->manifest_digest, 1);
	int get = !strcmp(rq->method, "GET");

	if (lie_is(r, "manifest-dcd") && (!strcmp(ref, "v1") || !strcmp(ref, r->other_digest))) {
		/* The manifest's bytes, under a header naming other bytes. */
		fakehttp_response_header(rs, "Content-Type", "%s", MT_MANIFEST);
		fakehttp_response_header(rs, "Docker-Content-Digest", "%s", r->other_digest);
		fakehttp_response_body(rs, m->data, m->len);
		return 1;
	}
	if ((lie_is(r, "manifest-body") || lie_is(r, "manifest-body-nodcd")) && get &&
	    (!strcmp(ref, "v1") || !strcmp(ref, r->manifest_digest))) {
		/* Asked by (or resolved to) the real digest, other bytes come,
		 * under the real digest's name or under none. */
		fakehttp_response_header(rs, "Content-Type", "%s", MT_MANIFEST);
		if (lie_is(r, "manifest-body"))
			fakehttp_response_header(rs, "Docker-Content-Digest", "%s", r->manifest_digest);
		fakehttp_response_body(rs, r->tampered, r->tampered_len);
		return 1;
	}
	if (lie_is(r, "manifest-huge") && get) {
		size_t n = (size_t)5 << 20;
		char *big = malloc(n);
		memset(big, ' ', n);
		big[0] = '{';
		big[n - 1] = '}';
		fakehttp_response_header(rs, "Content-Type", "%s", MT_MANIFEST);
		fakehttp_response_body(rs, big, n);
		rs->chunked = 1;   /* no Content-Length: the cap must hold while reading */
		free(big);
		return 1;
	}
	return 0;
}

static int lie_blob(struct reg *r, const struct fakehttp_request *rq,
                    struct fakehttp_response *rs, const char *ref)
{
	const struct object *l = reg_find(r, r->layer_digest, 0);
	size_t extra = 1000, len;
	unsigned char *p;

	if (strcmp(rq->method, "GET") || strcmp(ref, r->layer_digest))
		return 0;
	if (lie_is(r, "blob-corrupt")) {
		serve_object(rs, l);
		rs->action = FAKEHTTP_CORRUPT;
		rs->action_after = 777;
		return 1;
	}
	if (!lie_is(r, "blob-longer") && !lie_is(r, "blob-longer-cl") && !lie_is(r, "blob-shorter"))
		return 0;
	len = lie_is(r, "blob-shorter") ? l->len - extra : l->len + extra;
	p = malloc(l->len + extra);
	memcpy(p, l->data, l->len);
	memset(p + l->len, 'X', extra);
	fakehttp_response_body(rs, p, len);
	/* Without Content-Length (chunked), or announcing the longer length. */
	rs->chunked = !lie_is(r, "blob-longer-cl");
	free(p);
	return 1;
}

static void reg_error(struct fakehttp_response *rs, int status, const char *code)
{
	rs->status = status;
	fakehttp_response_header(rs, "Content-Type", "application/json");
	char body[160];
	snprintf(body, sizeof(body), "{\"errors\":[{\"code\":\"%s\",\"message\":\"%s\"}]}", code,
	         code);
	fakehttp_response_body_str(rs, body);
}

static void reg_manifest(struct reg *r, const struct fakehttp_request *rq,
                         struct fakehttp_response *rs, const char *ref)
{
	if (!strcmp(rq->method, "PUT")) {
		struct object *o = reg_put(r, rq->body, rq->body_len, 1,
		                           strchr(ref, ':') ? NULL : ref);
		if (strchr(ref, ':') && strcmp(o->digest, ref)) {
			reg_error(rs, 400, "DIGEST_INVALID");
			return;
		}
		r->manifest_puts++;
		rs->status = 201;
		fakehttp_response_header(rs, "Docker-Content-Digest", "%s", o->digest);
		return;
	}
	if (lie_manifest(r, rq, rs, ref))
		return;
	const struct object *o = reg_find(r, ref, 1);
	if (!o)
		reg_error(rs, 404, "MANIFEST_UNKNOWN");
	else
		serve_object(rs, o);
}

/* POST opens a session, PATCH appends, PUT ?digest= checks and stores
 * (distribution-spec "Pushing blobs"); a mount is always declined. */
static void reg_upload(struct reg *r, const struct fakehttp_request *rq,
                       struct fakehttp_response *rs, const char *id)
{
	const size_t n_up = sizeof(r->up) / sizeof(r->up[0]);
	size_t i = (size_t)atoi(id);

	if (!strcmp(rq->method, "POST")) {
		for (i = 0; i < n_up && r->up[i].used; i++)
			;
		assert_true(i < n_up);
		r->up[i].used = 1;
		r->up[i].len = 0;
		rs->status = 202;
		fakehttp_response_header(rs, "Location", "%s%zu", rq->path, i);
		return;
	}
	if (i >= n_up || !r->up[i].used) {
		reg_error(rs, 404, "BLOB_UPLOAD_UNKNOWN");
		return;
	}
	struct upload *u = &r->up[i];
	if (!strcmp(rq->method, "DELETE")) {
		u->used = 0;
		rs->status = 204;
		return;
	}
	u->data = realloc(u->data, u->len + rq->body_len + 1);
	memcpy(u->data + u->len, rq->body, rq->body_len);
	u->len += rq->body_len;
	if (!strcmp(rq->method, "PATCH")) {
		rs->status = 202;
		fakehttp_response_header(rs, "Location", "%s", rq->path);
		return;
	}
	char got[OCI_DIGEST_MAX];
	const char *want = strstr(rq->query, "digest=");
	oci_digest_compute(got, OCI_SHA256, u->data, u->len);
	u->used = 0;
	if (!want || strcmp(want + 7, got)) {
		reg_error(rs, 400, "DIGEST_INVALID");
		return;
	}
	reg_put(r, u->data, u->len, 0, NULL);
	rs->status = 201;
	fakehttp_response_header(rs, "Docker-Content-Digest", "%s", got);
}

static void reg_tags(struct reg *r, struct fakehttp_response *rs)
{
	char body[4096];
	size_t n = (size_t)snprintf(body, sizeof(body), "{\"name\":\"r\",\"tags\":[");

	for (struct object *o = r->objs; o; o = o->next)
		if (o->tag && n < sizeof(body) - 300)
			n += (size_t)snprintf(body + n, sizeof(body) - n, "%s\"%s\"",
			                      body[n - 1] == '[' ? "" : ",", o->tag);
	snprintf(body + n, sizeof(body) - n, "]}");
	fakehttp_response_body_str(rs, body);
}

static void reg_handler(const struct fakehttp_request *rq, struct fakehttp_response *rs,
                        void *ctx)
{
	struct reg *r = ctx;
	const char *p;

	if (!strcmp(rq->path, "/v2/"))
		return;
	if ((p = strstr(rq->path, "/manifests/")))
		reg_manifest(r, rq, rs, p + strlen("/manifests/"));
	else if ((p = strstr(rq->path, "/blobs/uploads/")))
		reg_upload(r, rq, rs, p + strlen("/blobs/uploads/"));
	else if ((p = strstr(rq->path, "/blobs/"))) {
		const struct object *o;
		if (lie_blob(r, rq, rs, p + strlen("/blobs/")))
			return;
		if ((o = reg_find(r, p + strlen("/blobs/"), 0)))
			serve_object(rs, o);
		else
			reg_error(rs, 404, "BLOB_UNKNOWN");
	} else if (strstr(rq->path, "/tags/list"))
		reg_tags(r, rs);
	else
		reg_error(rs, 404, "NAME_UNKNOWN");   /* referrers too: use the fallback tag */
}

/* --- Client fixture --------------------------------------------------------------- */

struct client {
	registry_session *s;
	registry_client *c;
	char name[64];
};

static void client_open(struct client *cl, int port, const char *const *insecure,
                        size_t n_insecure, const char *ca_cert, const char *authfile)
{
	struct registry_options o = REGISTRY_OPTIONS_INIT;

	o.max_retries = 2;
	o.retry_base_ms = 10;
	o.retry_max_ms = 20;
	o.stall_timeout_s = 10;
	o.insecure = insecure;
	o.n_insecure = n_insecure;
	o.ca_cert = ca_cert;
	o.authfile = authfile;
	snprintf(cl->name, sizeof(cl->name), "127.0.0.1:%d", port);
	assert_int_equal(registry_session_new(&cl->s, &o), 0);
	assert_int_equal(registry_client_open(&cl->c, cl->s, cl->name), 0);
}

static void client_close(struct client *cl)
{
	registry_client_close(cl->c);
	registry_session_free(cl->s);
}

struct collect {
	unsigned char *data;
	size_t len;
};

static int collect_write(void *ctx, const void *data, size_t len)
{
	struct collect *c = ctx;

	c->data = realloc(c->data, c->len + len);
	memcpy(c->data + c->len, data, len);
	c->len += len;
	return 0;
}

static int get_blob(struct client *cl, const char *digest, size_t size, struct collect *col)
{
	struct oci_descriptor d = { 0 };
	struct oci_sink sink = { collect_write, col };

	d.media_type = (char *)MT_LAYER;
	snprintf(d.digest, sizeof(d.digest), "%s", digest);
	d.size = (int64_t)size;
	return registry_blob_get(cl->c, "r", &d, &sink);
}

/* A lying registry and a client for it. */
struct liar {
	struct reg r;
	struct fakehttp *srv;
	struct client cl;
};

static void liar_start(struct liar *l, const char *lie)
{
	memset(l, 0, sizeof(*l));
	l->r.lie = lie;
	reg_seed(&l->r);
	l->srv = fakehttp_start(reg_handler, &l->r);
	assert_non_null(l->srv);
	client_open(&l->cl, fakehttp_port(l->srv), NULL, 0, NULL, NULL);
}

static void liar_stop(struct liar *l)
{
	client_close(&l->cl);
	fakehttp_stop(l->srv);
	reg_free(&l->r);
}

/* --- Manifests that do not match their digest -------------------------------------- */

/* By digest: the body must hash to the digest asked for, with no
 * Docker-Content-Digest to give it away; by tag, the header's own claim. */
static void test_manifest_by_digest_other_bytes(void **state)
{
	(void)state;
	struct liar l;
	struct oci_manifest *m = NULL;
	struct buf raw = BUF_INIT;
	struct oci_manifest_info info;

	liar_start(&l, "manifest-body-nodcd");
	assert_int_equal(registry_manifest_get(l.cl.c, "r", l.r.manifest_digest, &m), RV_EDIGEST);
	assert_null(m);
	assert_true(contains(error_msg(), "content hashes to"));
	assert_true(contains(error_msg(), l.r.manifest_digest));
	assert_true(contains(error_msg(), l.cl.name));
	assert_false(contains(error_msg(), "Docker-Content-Digest"));
	assert_null(strchr(error_msg(), '\n'));
	liar_stop(&l);

	liar_start(&l, "manifest-body");
	/* By tag, the registry's own header gives it away. */
	assert_int_equal(registry_manifest_get_raw(l.cl.c, "r", "v1", &raw, &info), RV_EDIGEST);
	assert_true(contains(error_msg(), "(its Docker-Content-Digest)"));
	assert_int_equal(raw.len, 0);
	/* An honest HEAD then a lying GET by the digest it named. */
	assert_int_equal(registry_manifest_head(l.cl.c, "r", "v1", &info), 0);
	assert_string_equal(info.digest, l.r.manifest_digest);
	char named[OCI_DIGEST_MAX];
	snprintf(named, sizeof(named), "%s", info.digest);
	assert_int_equal(registry_manifest_get_raw(l.cl.c, "r", named, &raw, &info), RV_EDIGEST);
	buf_release(&raw);
	liar_stop(&l);
}

/* By tag: Docker-Content-Digest names other bytes than the body. HEAD has
 * no body to check, so the digest it names is then fetched and fails. */
static void test_manifest_by_tag_header_lies(void **state)
{
	(void)state;
	struct liar l;
	struct oci_manifest *m = NULL;
	struct oci_manifest_info info;

	liar_start(&l, "manifest-dcd");
	assert_int_equal(registry_manifest_get(l.cl.c, "r", "v1", &m), RV_EDIGEST);
	assert_null(m);
	assert_true(contains(error_msg(), "Docker-Content-Digest"));
	assert_true(contains(error_msg(), l.r.other_digest));
	assert_int_equal(registry_manifest_head(l.cl.c, "r", "v1", &info), 0);
	assert_string_equal(info.digest, l.r.other_digest);
	assert_int_equal(registry_manifest_get(l.cl.c, "r", info.digest, &m), RV_EDIGEST);
	assert_true(contains(error_msg(), "content hashes to"));
	liar_stop(&l);
}

/* Over 4 MiB with no Content-Length: the cap holds while reading. */
static void test_manifest_over_4mib_chunked(void **state)
{
	(void)state;
	struct liar l;
	struct oci_manifest *m = NULL;

	liar_start(&l, "manifest-huge");
	assert_int_equal(registry_manifest_get(l.cl.c, "r", "v1", &m), RV_ETOOBIG);
	assert_null(m);
	assert_true(contains(error_msg(), "larger than 4194304 bytes"));
	assert_int_equal(registry_manifest_get(l.cl.c, "r", l.r.manifest_digest, &m), RV_ETOOBIG);
	liar_stop(&l);
}

/* --- Blobs that are not what their descriptor says --------------------------------- */

static void blob_lie(const char *lie, const char *want)
{
	struct liar l;
	struct collect col = { 0 };

	liar_start(&l, lie);
	int rc = get_blob(&l.cl, l.r.layer_digest, l.r.layer_len, &col);
	if (rc != RV_EDIGEST || !contains(error_msg(), want))
		fail_msg("%s: rc %d: %s", lie, rc, error_msg());
	assert_true(contains(error_msg(), l.r.layer_digest));
	/* Not one byte past the descriptor reached the sink. */
	assert_true(col.len <= l.r.layer_len);
	free(col.data);
	liar_stop(&l);
}

static void test_blob_longer_than_descriptor(void **state)
{
	(void)state;
	blob_lie("blob-longer", "more bytes than the 20000 its descriptor says");
	blob_lie("blob-longer-cl", "more bytes than the 20000 its descriptor says");
	blob_lie("blob-shorter", "19000 bytes received, its descriptor says 20000");
	blob_lie("blob-corrupt", "content does not match its digest");
}

struct async_done {
	int done, rc;
	char msg[512];
};

static void async_cb(registry_op *op, int rc, void *ctx)
{
	struct async_done *d = ctx;

	d->done = 1;
	d->rc = rc;
	snprintf(d->msg, sizeof(d->msg), "%s", registry_op_error(op));
}

/* The concurrent path the copy engine uses checks the same. */
static void test_blob_longer_async(void **state)
{
	(void)state;
	struct liar l;
	struct collect col = { 0 };
	struct async_done d = { 0 };
	struct oci_descriptor desc = { 0 };
	struct oci_sink sink = { collect_write, &col };

	liar_start(&l, "blob-longer");
	desc.media_type = (char *)MT_LAYER;
	snprintf(desc.digest, sizeof(desc.digest), "%s", l.r.layer_digest);
	desc.size = (int64_t)l.r.layer_len;
	assert_int_equal(registry_blob_get_start(NULL, l.cl.c, "r", &desc, &sink, async_cb, &d), 0);
	for (int i = 0; !d.done && i < 1000; i++)
		registry_session_run(l.cl.s, 100);
	assert_true(d.done);
	assert_int_equal(d.rc, RV_EDIGEST);
	assert_true(contains(d.msg, "more bytes than"));
	assert_true(col.len <= l.r.layer_len);
	free(col.data);
	liar_stop(&l);
}

/* --- Redirects: credentials stay home ------------------------------------------------ */

/* "home" is the registry the client talks to: it wants credentials and
 * answers every manifest and blob GET with a 307 to "away", which serves
 * the bytes (object storage, a CDN — or whoever the registry points at). */
struct redir {
	struct reg r;
	int bearer;
	int home_port;
	char away[128];        /* "http://HOST:PORT", no slash */
	int away_lies;         /* away serves other bytes */
	int link_away;         /* home's tags list links its next page to away */
	int home_saw_auth, away_saw_auth, away_requests;
	char away_saw[256];    /* the first Authorization away saw, for the message */
};

static void challenge(struct redir *d, struct fakehttp_response *rs)
{
	rs->status = 401;
	if (d->bearer)
		fakehttp_response_header(rs, "WWW-Authenticate",
		                         "Bearer realm=\"http://127.0.0.1:%d/token\",service=\"fake\"",
		                         d->home_port);
	else
		fakehttp_response_header(rs, "WWW-Authenticate", "Basic realm=\"fake\"");
}

static void home_handler(const struct fakehttp_request *rq, struct fakehttp_response *rs,
                         void *ctx)
{
	struct redir *d = ctx;
	const char *auth = fakehttp_request_header(rq, "Authorization");

	if (!strcmp(rq->path, "/token")) {
		fakehttp_response_body_str(rs, "{\"token\":\"T1\",\"expires_in\":300}");
		return;
	}
	if (!auth || (d->bearer && strcmp(auth, "Bearer T1")) ||
	    (!d->bearer && strncmp(auth, "Basic ", 6))) {
		challenge(d, rs);
		return;
	}
	if (!strcmp(rq->path, "/v2/"))
		return;
	d->home_saw_auth++;
	if (d->link_away && !strcmp(rq->path, "/v2/r/tags/list")) {
		if (strstr(rq->target, "last=a")) {   /* a same-origin second page */
			fakehttp_response_body_str(rs, "{\"name\":\"r\",\"tags\":[\"b\"]}");
			return;
		}
		fakehttp_response_header(rs, "Link", "<%s/v2/r/tags/list?last=%s&n=1>; rel=\"next\"",
		                         d->link_away == 1 ? d->away : "", "a");
		fakehttp_response_body_str(rs, "{\"name\":\"r\",\"tags\":[\"a\"]}");
		return;
	}
	rs->status = 307;
	fakehttp_response_header(rs, "Location", "%s%s", d->away, rq->target);
}

static void away_handler(const struct fakehttp_request *rq, struct fakehttp_response *rs,
                         void *ctx)
{
	struct redir *d = ctx;
	const char *auth = fakehttp_request_header(rq, "Authorization");
	const char *p;

	d->away_requests++;
	if (auth && !d->away_saw_auth++)
		snprintf(d->away_saw, sizeof(d->away_saw), "%s", auth);
	if (d->away_lies && (p = strstr(rq->path, "/manifests/"))) {
		fakehttp_response_header(rs, "Content-Type", "%s", MT_MANIFEST);
		fakehttp_response_body(rs, d->r.tampered, d->r.tampered_len);
		return;
	}
	if (d->away_lies)
		d->r.lie = "blob-corrupt";
	reg_handler(rq, rs, &d->r);
}

struct redir_env {
	struct redir d;
	struct fakehttp *home, *away;
	struct client cl;
};

static void redir_start(struct redir_env *e, int bearer, const char *away_host, int lies)
{
	memset(e, 0, sizeof(*e));
	e->d.r.lie = "";
	reg_seed(&e->d.r);
	e->d.bearer = bearer;
	e->d.away_lies = lies;
	e->home = fakehttp_start(home_handler, &e->d);
	e->away = fakehttp_start(away_handler, &e->d);
	assert_non_null(e->home);
	assert_non_null(e->away);
	e->d.home_port = fakehttp_port(e->home);
	snprintf(e->d.away, sizeof(e->d.away), "http://%s:%d", away_host, fakehttp_port(e->away));
	client_open(&e->cl, e->d.home_port, NULL, 0, NULL, NULL);
	registry_client_set_credentials(e->cl.c, "alice", "s3cret");
}

static void redir_stop(struct redir_env *e)
{
	client_close(&e->cl);
	fakehttp_stop(e->home);
	fakehttp_stop(e->away);
	reg_free(&e->d.r);
}

/* 307 on blob GET and on manifest GET, Basic and Bearer, to another host
 * name and to another port of the same host: the bytes come (and are
 * verified), the Authorization header never leaves home. */
static void test_redirect_keeps_credentials_home(void **state)
{
	(void)state;
	static const char *const hosts[] = { "localhost", "127.0.0.1" };

	/* Every pair of the three choices is covered by these four runs. */
	for (int bearer = 0; bearer < 2; bearer++)
		for (int h = 0; h < 2; h++) {
			int manifest = bearer ^ h;
			struct redir_env e;
			struct collect col = { 0 };
			struct oci_manifest *m = NULL;
			int rc;

			redir_start(&e, bearer, hosts[h], 0);
			if (manifest)
				rc = registry_manifest_get(e.cl.c, "r", "v1", &m);
			else
				rc = get_blob(&e.cl, e.d.r.layer_digest, e.d.r.layer_len, &col);
			if (rc)
				fail_msg("%s %s via %s: %s", bearer ? "bearer" : "basic",
				         manifest ? "manifest" : "blob", hosts[h], error_msg());
			if (manifest)
				assert_string_equal(m->digest, e.d.r.manifest_digest);
			else
				assert_int_equal(col.len, e.d.r.layer_len);
			assert_true(e.d.home_saw_auth >= 1);
			assert_true(e.d.away_requests >= 1);
			if (e.d.away_saw_auth)
				fail_msg("%s %s redirected to %s carried \"%s\"",
				         bearer ? "bearer" : "basic", manifest ? "manifest" : "blob",
				         e.d.away, e.d.away_saw);
			oci_manifest_free(m);
			free(col.data);
			redir_stop(&e);
		}
}

/* A tags list whose Link header sends the next page to another host (or
 * port) is refused before any request goes there: that request would
 * carry home's credentials. A relative link (what distribution sends)
 * is followed. */
static void test_link_to_other_host_refused(void **state)
{
	(void)state;
	static const char *const hosts[] = { "localhost", "127.0.0.1" };

	for (int bearer = 0; bearer < 2; bearer++)
		for (int h = 0; h < 2; h++) {
			struct redir_env e;
			struct strlist tags = STRLIST_INIT;

			redir_start(&e, bearer, hosts[h], 0);
			e.d.link_away = 1;
			assert_int_equal(registry_tags_list(e.cl.c, "r", &tags), RV_EINVALID);
			if (!contains(error_msg(), "another host"))
				fail_msg("unexpected message: %s", error_msg());
			assert_int_equal(e.d.away_requests, 0);
			assert_int_equal(tags.n, 0);
			strlist_release(&tags);

			e.d.link_away = 2;   /* "</v2/r/tags/list?last=a&n=1>" */
			assert_int_equal(registry_tags_list(e.cl.c, "r", &tags), 0);
			assert_int_equal(tags.n, 2);
			assert_string_equal(tags.v[0], "a");
			assert_string_equal(tags.v[1], "b");
			strlist_release(&tags);
			redir_stop(&e);
		}
}

/* Following a redirect does not skip verification: wrong bytes from the
 * other host are a digest error like any other. */
static void test_redirect_target_lies(void **state)
{
	(void)state;
	struct redir_env e;
	struct collect col = { 0 };
	struct oci_manifest *m = NULL;

	redir_start(&e, 1, "localhost", 1);
	assert_int_equal(registry_manifest_get(e.cl.c, "r", e.d.r.manifest_digest, &m),
	                 RV_EDIGEST);
	assert_int_equal(get_blob(&e.cl, e.d.r.layer_digest, e.d.r.layer_len, &col), RV_EDIGEST);
	assert_true(contains(error_msg(), "does not match its digest"));
	assert_int_equal(e.d.away_saw_auth, 0);
	free(col.data);
	redir_stop(&e);
}

/* --- https → http ---------------------------------------------------------------------- */

/* A self-signed certificate for 127.0.0.1, made here: the client trusts it
 * through ca_cert (as --ca-cert would). */
static void make_cert(const char *path, EVP_PKEY **key_out, X509 **cert_out)
{
	EVP_PKEY *key = EVP_EC_gen("P-256");
	X509 *x = X509_new();
	X509V3_CTX v3;
	X509_EXTENSION *ext;
	FILE *f;

	assert_non_null(key);
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
	X509_gmtime_adj(X509_getm_notBefore(x), -3600);
	X509_gmtime_adj(X509_getm_notAfter(x), 86400);
	X509_set_pubkey(x, key);
	X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_ASC,
	                           (const unsigned char *)"127.0.0.1", -1, -1, 0);
	X509_set_issuer_name(x, X509_get_subject_name(x));
	X509V3_set_ctx_nodb(&v3);
	X509V3_set_ctx(&v3, x, x, NULL, NULL, 0);
	ext = X509V3_EXT_conf_nid(NULL, &v3, NID_subject_alt_name, "IP:127.0.0.1,DNS:localhost");
	assert_non_null(ext);
	X509_add_ext(x, ext, -1);
	X509_EXTENSION_free(ext);
	ext = X509V3_EXT_conf_nid(NULL, &v3, NID_basic_constraints, "critical,CA:TRUE");
	X509_add_ext(x, ext, -1);
	X509_EXTENSION_free(ext);
	assert_true(X509_sign(x, key, EVP_sha256()) > 0);
	f = fopen(path, "w");
	assert_non_null(f);
	PEM_write_X509(f, x);
	fclose(f);
	*key_out = key;
	*cert_out = x;
}

/* One TLS listener, one connection at a time, "Connection: close" on every
 * answer: /v2/ and everything else want Basic credentials; with them, every
 * other path is a 307 to plain HTTP. */
struct tls_front {
	SSL_CTX *ctx;
	int lfd, port, wake[2];
	pthread_t th;
	char target[128];
	int saw_auth;
};

static void tls_answer(struct tls_front *t, SSL *ssl)
{
	char head[16384], out[1024];
	size_t n = 0;
	int k;

	while (n < sizeof(head) - 1 && (k = SSL_read(ssl, head + n, (int)(sizeof(head) - 1 - n))) > 0) {
		n += (size_t)k;
		head[n] = '\0';
		if (strstr(head, "\r\n\r\n"))
			break;
	}
	head[n] = '\0';
	char method[16] = "", target[1024] = "";
	if (sscanf(head, "%15s %1023s", method, target) != 2)
		return;
	int authed = strcasestr(head, "\r\nAuthorization: Basic ") != NULL;
	if (!authed)
		k = snprintf(out, sizeof(out), "HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Basic "
		             "realm=\"tls\"\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
	else if (!strcmp(target, "/v2/"))
		k = snprintf(out, sizeof(out), "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n"
		             "Connection: close\r\n\r\n");
	else
		k = snprintf(out, sizeof(out), "HTTP/1.1 307 Temporary Redirect\r\nLocation: %s%s\r\n"
		             "Content-Length: 0\r\nConnection: close\r\n\r\n", t->target, target);
	if (authed && strcmp(target, "/v2/"))
		t->saw_auth++;
	SSL_write(ssl, out, k);
}

static void *tls_main(void *arg)
{
	struct tls_front *t = arg;

	for (;;) {
		struct pollfd p[2] = { { t->lfd, POLLIN, 0 }, { t->wake[0], POLLIN, 0 } };
		if (poll(p, 2, 1000) < 0 && errno != EINTR)
			break;
		if (p[1].revents)
			break;
		if (!(p[0].revents & POLLIN))
			continue;
		int fd = accept(t->lfd, NULL, NULL);
		if (fd < 0)
			continue;
		struct timeval tv = { 5, 0 };
		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
		SSL *ssl = SSL_new(t->ctx);
		SSL_set_fd(ssl, fd);
		if (SSL_accept(ssl) == 1) {
			tls_answer(t, ssl);
			SSL_shutdown(ssl);
		}
		SSL_free(ssl);
		close(fd);
	}
	return NULL;
}

static int listen_loopback(int *port)
{
	struct sockaddr_in a = { 0 };
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;

	assert_true(fd >= 0);
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(fd, 16), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
	*port = ntohs(a.sin_port);
	return fd;
}

static void test_https_redirect_to_http(void **state)
{
	(void)state;
	char *dir = harness_mkdtemp("rv-lies-tls");
	char *cert = NULL;
	EVP_PKEY *key;
	X509 *x;
	struct tls_front t = { 0 };
	struct redir_env e;
	struct collect col = { 0 };
	struct oci_manifest *m = NULL;
	struct client cl;

	assert_non_null(dir);
	assert_true(asprintf(&cert, "%s/cert.pem", dir) > 0);
	make_cert(cert, &key, &x);
	t.ctx = SSL_CTX_new(TLS_server_method());
	assert_int_equal(SSL_CTX_use_certificate(t.ctx, x), 1);
	assert_int_equal(SSL_CTX_use_PrivateKey(t.ctx, key), 1);
	t.lfd = listen_loopback(&t.port);
	assert_int_equal(pipe(t.wake), 0);
	/* The plain-HTTP side: the "away" server of the redirect tests. */
	redir_start(&e, 0, "127.0.0.1", 0);
	snprintf(t.target, sizeof(t.target), "http://127.0.0.1:%d", fakehttp_port(e.away));
	assert_int_equal(pthread_create(&t.th, NULL, tls_main, &t), 0);

	client_open(&cl, t.port, NULL, 0, cert, NULL);
	registry_client_set_credentials(cl.c, "alice", "s3cret");
	if (registry_manifest_get(cl.c, "r", "v1", &m))
		fail_msg("manifest over https→http: %s", error_msg());
	assert_string_equal(m->digest, e.d.r.manifest_digest);
	if (get_blob(&cl, e.d.r.layer_digest, e.d.r.layer_len, &col))
		fail_msg("blob over https→http: %s", error_msg());
	assert_int_equal(col.len, e.d.r.layer_len);
	assert_true(t.saw_auth >= 2);              /* the TLS side had the credentials */
	assert_true(e.d.away_requests >= 2);       /* plain HTTP served the bytes */
	if (e.d.away_saw_auth)
		fail_msg("https→http redirect carried \"%s\"", e.d.away_saw);

	oci_manifest_free(m);
	free(col.data);
	client_close(&cl);
	assert_int_equal(write(t.wake[1], "x", 1), 1);
	pthread_join(t.th, NULL);
	close(t.lfd);
	close(t.wake[0]);
	close(t.wake[1]);
	SSL_CTX_free(t.ctx);
	EVP_PKEY_free(key);
	X509_free(x);
	redir_stop(&e);
	harness_rm_rf(dir);
	free(dir);
	free(cert);
}

/* --- Token endpoints elsewhere ---------------------------------------------------------- */

struct realm {
	struct reg r;
	char realm[160];        /* what WWW-Authenticate names */
	char token_redirect[160]; /* non-empty: /token answers 307 to this URL */
	int token_calls;
	int away_calls, away_saw_secret, away_saw_auth;
};

static void realm_handler(const struct fakehttp_request *rq, struct fakehttp_response *rs,
                          void *ctx)
{
	struct realm *m = ctx;
	const char *auth = fakehttp_request_header(rq, "Authorization");

	if (!strcmp(rq->path, "/token")) {
		m->token_calls++;
		if (m->token_redirect[0]) {
			rs->status = 307;
			fakehttp_response_header(rs, "Location", "%s", m->token_redirect);
		} else {
			fakehttp_response_body_str(rs, "{\"token\":\"T1\",\"expires_in\":300}");
		}
		return;
	}
	if (!auth || strcmp(auth, "Bearer T1")) {
		rs->status = 401;
		fakehttp_response_header(rs, "WWW-Authenticate", "Bearer realm=\"%s\",service=\"fake\"",
		                         m->realm);
		return;
	}
	reg_handler(rq, rs, &m->r);
}

/* Another host's token endpoint: records what reached it. */
static void token_away_handler(const struct fakehttp_request *rq, struct fakehttp_response *rs,
                               void *ctx)
{
	struct realm *m = ctx;

	m->away_calls++;
	if (fakehttp_request_header(rq, "Authorization"))
		m->away_saw_auth++;
	if ((rq->body && contains((const char *)rq->body, "REFRESH-SECRET")) ||
	    contains(rq->target, "REFRESH-SECRET"))
		m->away_saw_secret++;
	fakehttp_response_body_str(rs, "{\"token\":\"T1\",\"expires_in\":300}");
}

static int realm_try(int port, const char *const *insecure, size_t n)
{
	struct client cl;
	struct oci_manifest *mf = NULL;
	int rc;

	client_open(&cl, port, insecure, n, NULL, NULL);
	rc = registry_manifest_get(cl.c, "r", "v1", &mf);
	oci_manifest_free(mf);
	client_close(&cl);
	return rc;
}

/* A plain-HTTP realm on another host gets no request (credentials or not)
 * unless that host was named with --insecure-registry; naming only the
 * registry is not enough. 0.0.0.0 is "another host" by name (not loopback)
 * yet reaches this machine, so the allowed case can be run for real. */
static void test_token_realm_plain_http_elsewhere(void **state)
{
	(void)state;
	struct realm m = { 0 };
	struct fakehttp *srv;
	int port;
	char reg_name[64];

	m.r.lie = "";
	reg_seed(&m.r);
	srv = fakehttp_start(realm_handler, &m);
	port = fakehttp_port(srv);
	snprintf(m.realm, sizeof(m.realm), "http://0.0.0.0:%d/token", port);
	snprintf(reg_name, sizeof(reg_name), "127.0.0.1:%d", port);

	assert_int_equal(realm_try(port, NULL, 0), RV_EAUTH);
	assert_true(contains(error_msg(), "refusing plain-HTTP token endpoint"));
	assert_true(contains(error_msg(), m.realm));
	assert_true(contains(error_msg(), "--insecure-registry 0.0.0.0"));
	assert_null(strchr(error_msg(), '\n'));
	assert_int_equal(m.token_calls, 0);

	const char *only_registry[] = { reg_name };
	assert_int_equal(realm_try(port, only_registry, 1), RV_EAUTH);
	assert_true(contains(error_msg(), m.realm));
	assert_int_equal(m.token_calls, 0);

	const char *realm_host[] = { "0.0.0.0" };
	if (realm_try(port, realm_host, 1))
		fail_msg("with --insecure-registry 0.0.0.0: %s", error_msg());
	assert_int_equal(m.token_calls, 1);

	/* A name that would need DNS is refused before any lookup. */
	snprintf(m.realm, sizeof(m.realm), "http://auth.example.invalid/token");
	assert_int_equal(realm_try(port, NULL, 0), RV_EAUTH);
	assert_true(contains(error_msg(), "\"http://auth.example.invalid/token\""));

	fakehttp_stop(srv);
	reg_free(&m.r);
}

/* The token endpoint itself redirects elsewhere: Basic credentials must
 * not follow a GET, and a refresh token (identitytoken of auth.json) must
 * not be re-posted to another host by a 307. */
static void test_token_redirect_keeps_credentials(void **state)
{
	(void)state;
	char *dir = harness_mkdtemp("rv-lies-token");
	char *authfile = NULL, *json = NULL;

	assert_non_null(dir);
	for (int identity = 0; identity < 2; identity++) {
		struct realm m = { 0 };
		struct fakehttp *srv, *away;
		struct client cl;
		struct oci_manifest *mf = NULL;
		int port;

		m.r.lie = "";
		reg_seed(&m.r);
		srv = fakehttp_start(realm_handler, &m);
		away = fakehttp_start(token_away_handler, &m);
		port = fakehttp_port(srv);
		snprintf(m.realm, sizeof(m.realm), "http://127.0.0.1:%d/token", port);
		snprintf(m.token_redirect, sizeof(m.token_redirect), "http://localhost:%d/token",
		         fakehttp_port(away));
		free(authfile);
		free(json);
		assert_true(asprintf(&authfile, "%s/auth.json", dir) > 0);
		assert_true(asprintf(&json, "{\"auths\":{\"127.0.0.1:%d\":{%s}}}", port,
		                     identity ? "\"identitytoken\":\"REFRESH-SECRET\""
		                              : "\"auth\":\"YWxpY2U6UkVGUkVTSC1TRUNSRVQ=\"") > 0);
		/* (base64 of alice:REFRESH-SECRET) */
		assert_int_equal(harness_write_file(authfile, json, strlen(json)), 0);
		client_open(&cl, port, NULL, 0, NULL, authfile);
		(void)registry_manifest_get(cl.c, "r", "v1", &mf);
		oci_manifest_free(mf);
		client_close(&cl);
		if (m.away_saw_secret || m.away_saw_auth)
			fail_msg("%s reached the other host of a token redirect",
			         identity ? "the refresh token" : "Basic credentials");
		fakehttp_stop(srv);
		fakehttp_stop(away);
		reg_free(&m.r);
	}
	harness_rm_rf(dir);
	free(dir);
	free(authfile);
	free(json);
}

/* --- Listings of millions ------------------------------------------------------------------ */

/* Parses doc fed in pieces of `step` bytes (0: whole). */
static int parse_doc(const char *doc, size_t step, size_t max, struct strlist *out)
{
	struct listing_parser p;
	size_t len = strlen(doc);
	int rc = 0;

	listing_init(&p, "tags", "tags of \"r\" on \"reg\"", out, max);
	for (size_t off = 0; rc == 0 && off < len; off += step ? step : len)
		rc = listing_feed(&p, doc + off, step && len - off > step ? step : len - off);
	return rc ? rc : listing_finish(&p);
}

static void test_listing_parser(void **state)
{
	(void)state;
	static const char good[] =
		"{\"name\":\"r\",\"x\":{\"a\":[1,-2.5e3,true,false,null,{\"b\":\"c\\\"d\"}],\"e\":{}},"
		" \"tags\" : [ \"a\", \"b\\u0041\", \"c\\/d\", \"\\ud83d\\ude00\", \"\" ] ,\"z\":0}";
	static const char *const want[] = { "a", "bA", "c/d", "\xf0\x9f\x98\x80", "" };
	static const struct {
		const char *doc;
		const char *msg;
	} bad[] = {
		{ "[\"a\"]", "not an object" },
		{ "<html>", "not an object" },
		{ "", "empty" },
		{ "{\"tags\":\"a\"}", "unexpected shape" },
		{ "{\"tags\":{}}", "unexpected shape" },
		{ "{\"tags\":[1]}", "non-string entry in \"tags\"" },
		{ "{\"tags\":[[\"a\"]]}", "non-string entry" },
		{ "{\"tags\":[\"a\"]", "the page ends inside the JSON" },
		{ "{\"tags\":[\"a\",]}", "a misplaced bracket" },
		{ "{\"tags\":[\"a\"\"b\"]}", "a value where none belongs" },
		{ "{\"tags\":[\"a\\u0001\"]}", "a control character" },
		{ "{\"tags\":[\"a\\u0000\"]}", "a control character" },
		{ "{\"tags\":[\"a\nb\"]}", "a raw control character" },
		{ "{\"tags\":[\"a\"],\"tags\":[\"b\"]}", "\"tags\" appears twice" },
		{ "{}{}", "data after the object" },
		{ "{\"tags\":[\"\\ud800\"]}", "a lone surrogate" },
		{ "{\"tags\":[\"\\udc00\"]}", "a lone surrogate" },
		{ "{\"tags\":[\"\\ud800\\u0041\"]}", "a broken surrogate pair" },
		{ "{\"tags\":[\"\\x\"]}", "a bad escape" },
		{ "{\"tags\":[\"\\u12g4\"]}", "a bad \\u escape" },
		{ "{\"a\":nul}", "an unknown literal" },
		{ "{\"a\":0x10}", "an unknown literal" },
		{ "{\"a\":+1}", "an unknown literal" },
		{ "{\"a\" 1}", "a value where none belongs" },
		{ "{1:2}", "a key that is not a string" },
		{ "{\"a\":1]", "unbalanced brackets" },
	};
	struct strlist l = STRLIST_INIT;

	for (size_t step = 0; step < 4; step++) {
		assert_int_equal(parse_doc(good, step, 100, &l), 0);
		assert_int_equal(l.n, 5);
		for (size_t i = 0; i < 5; i++)
			assert_string_equal(l.v[i], want[i]);
		strlist_release(&l);
	}
	assert_int_equal(parse_doc("{\"name\":\"r\",\"tags\":null}", 1, 100, &l), 0);
	assert_int_equal(parse_doc("{\"name\":\"r\"}", 0, 100, &l), 0);
	assert_int_equal(l.n, 0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		for (size_t step = 0; step < 2; step++) {
			int rc = parse_doc(bad[i].doc, step, 100, &l);
			if (rc != RV_EINVALID || !contains(error_msg(), bad[i].msg) ||
			    !contains(error_msg(), "tags of \"r\" on \"reg\""))
				fail_msg("%s (step %zu): rc %d, \"%s\"", bad[i].doc, step, rc, error_msg());
			strlist_release(&l);
		}
	/* Too long an entry, too deep, and the cap. */
	char doc[4096];
	snprintf(doc, sizeof(doc), "{\"tags\":[\"%01100d\"]}", 0);
	assert_int_equal(parse_doc(doc, 7, 100, &l), RV_EINVALID);
	assert_true(contains(error_msg(), "an entry longer than 1024 bytes"));
	size_t n = (size_t)snprintf(doc, sizeof(doc), "{\"a\":");
	for (int i = 0; i < 40; i++)
		doc[n++] = '[';
	doc[n] = '\0';
	assert_int_equal(parse_doc(doc, 0, 100, &l), RV_EINVALID);
	assert_true(contains(error_msg(), "nested too deep"));
	assert_int_equal(parse_doc("{\"tags\":[\"a\",\"b\",\"c\",\"d\"]}", 3, 3, &l), RV_ETOOBIG);
	assert_true(contains(error_msg(), "tags of \"r\" on \"reg\": more than 3 entries; refusing"));
	assert_int_equal(l.n, 3);
	strlist_release(&l);
	/* Whatever bytes come, no crash and no leak (run under ASan too). */
	for (unsigned seed = 1; seed <= 3000; seed++) {
		unsigned char *junk = pseudo_random(seed, 64);
		char text[80] = "{\"tags\":[\"";
		for (int i = 0; i < 64; i++)
			junk[i] = (unsigned char)"{}[]\",:\\u0a1 \"tn\xff"[junk[i] % 17];
		memcpy(text + 10, junk, 64);
		text[74] = '\0';
		(void)parse_doc(text, seed % 5, 4, &l);
		strlist_release(&l);
		free(junk);
	}
}

/* A page that broke off is asked for again; what it gave is dropped. */
static int tags_calls;
static void tags_truncated_once(const struct fakehttp_request *rq, struct fakehttp_response *rs,
                                void *ctx)
{
	(void)ctx;
	if (strcmp(rq->path, "/v2/r/tags/list"))
		return;
	fakehttp_response_body_str(rs, "{\"name\":\"r\",\"tags\":[\"a\",\"b\",\"c\"]}");
	if (++tags_calls == 1) {
		rs->action = FAKEHTTP_TRUNCATE;
		rs->action_after = 28;   /* after "a" and part of "b" */
	}
}

static void test_listing_retry_starts_over(void **state)
{
	(void)state;
	struct fakehttp *srv = fakehttp_start(tags_truncated_once, NULL);
	struct client cl;
	struct strlist tags = STRLIST_INIT;

	tags_calls = 0;
	client_open(&cl, fakehttp_port(srv), NULL, 0, NULL, NULL);
	if (registry_tags_list(cl.c, "r", &tags))
		fail_msg("%s", error_msg());
	assert_int_equal(tags_calls, 2);
	assert_int_equal(tags.n, 3);
	assert_string_equal(tags.v[0], "a");
	assert_string_equal(tags.v[1], "b");
	assert_string_equal(tags.v[2], "c");
	strlist_release(&tags);
	client_close(&cl);
	fakehttp_stop(srv);
}

/* A listing generated as it is sent, never held: one endless page, or
 * pages of per_page entries linked by rel="next". */
struct streamer {
	int lfd, port, wake[2];
	pthread_t th;
	long total, per_page;
	int chunked;
	long sent;                /* entries written, all pages */
	int listing_requests;
};

static int send_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t k = send(fd, p, n, MSG_NOSIGNAL);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return -1;
		p += k;
		n -= (size_t)k;
	}
	return 0;
}

static int send_piece(struct streamer *s, int fd, const char *p, size_t n)
{
	char frame[32];

	if (!s->chunked)
		return send_all(fd, p, n);
	snprintf(frame, sizeof(frame), "%zx\r\n", n);
	return send_all(fd, frame, strlen(frame)) || send_all(fd, p, n) || send_all(fd, "\r\n", 2);
}

static void stream_listing(struct streamer *s, int fd, long from)
{
	long end = s->per_page ? from + s->per_page : s->total;
	char head[512], buf[65536];
	size_t n = 0;

	if (end > s->total)
		end = s->total;
	int k = snprintf(head, sizeof(head), "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
	                 "Connection: close\r\n%s", s->chunked ? "Transfer-Encoding: chunked\r\n" : "");
	if (end < s->total)
		k += snprintf(head + k, sizeof(head) - (size_t)k,
		              "Link: </v2/r/tags/list?last=%ld>; rel=\"next\"\r\n", end);
	k += snprintf(head + k, sizeof(head) - (size_t)k, "\r\n");
	if (send_all(fd, head, (size_t)k))
		return;
	n = (size_t)snprintf(buf, sizeof(buf), "{\"name\":\"r\",\"tags\":[");
	for (long i = from; i < end; i++) {
		n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%s\"t%09ld\"", i > from ? "," : "", i);
		s->sent++;
		if (n > sizeof(buf) - 64) {
			if (send_piece(s, fd, buf, n))
				return;   /* the client hung up */
			n = 0;
		}
	}
	n += (size_t)snprintf(buf + n, sizeof(buf) - n, "]}");
	if (send_piece(s, fd, buf, n) == 0 && s->chunked)
		send_all(fd, "0\r\n\r\n", 5);
}

static void *streamer_main(void *arg)
{
	struct streamer *s = arg;

	for (;;) {
		struct pollfd p[2] = { { s->lfd, POLLIN, 0 }, { s->wake[0], POLLIN, 0 } };
		if (poll(p, 2, 1000) < 0 && errno != EINTR)
			break;
		if (p[1].revents)
			break;
		if (!(p[0].revents & POLLIN))
			continue;
		int fd = accept(s->lfd, NULL, NULL);
		if (fd < 0)
			continue;
		struct timeval tv = { 5, 0 };
		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
		char req[4096];
		size_t n = 0;
		ssize_t k;
		while (n < sizeof(req) - 1 && (k = recv(fd, req + n, sizeof(req) - 1 - n, 0)) > 0) {
			n += (size_t)k;
			req[n] = '\0';
			/* A TLS hello (the client tries https first): hang up at once. */
			if (strstr(req, "\r\n\r\n") || req[0] < 'A' || req[0] > 'Z')
				break;
		}
		req[n] = '\0';
		const char *last = strstr(req, "last=");
		if (n == 0 || req[0] < 'A' || req[0] > 'Z') {
			close(fd);
			continue;
		}
		if (strstr(req, "/tags/list")) {
			s->listing_requests++;
			stream_listing(s, fd, last ? atol(last + 5) : 0);
		} else {
			static const char ok[] = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n"
			                         "Connection: close\r\n\r\n";
			send_all(fd, ok, sizeof(ok) - 1);
		}
		close(fd);
	}
	return NULL;
}

static void streamer_start(struct streamer *s, long total, long per_page, int chunked)
{
	memset(s, 0, sizeof(*s));
	s->total = total;
	s->per_page = per_page;
	s->chunked = chunked;
	s->lfd = listen_loopback(&s->port);
	assert_int_equal(pipe(s->wake), 0);
	assert_int_equal(pthread_create(&s->th, NULL, streamer_main, s), 0);
}

static void streamer_stop(struct streamer *s)
{
	assert_int_equal(write(s->wake[1], "x", 1), 1);
	pthread_join(s->th, NULL);
	close(s->lfd);
	close(s->wake[0]);
	close(s->wake[1]);
}

static void cap_check(long total, long per_page, int chunked)
{
	struct streamer st;
	struct client cl;
	struct strlist tags = STRLIST_INIT;
	char want[128];

	streamer_start(&st, total, per_page, chunked);
	client_open(&cl, st.port, NULL, 0, NULL, NULL);
	assert_int_equal(registry_tags_list(cl.c, "r", &tags), RV_ETOOBIG);
	snprintf(want, sizeof(want), "tags of \"r\" on \"%s\": more than %d entries; refusing to go on",
	         cl.name, REGISTRY_LIST_MAX);
	if (!contains(error_msg(), want))
		fail_msg("%s", error_msg());
	assert_int_equal(tags.n, 0);
	client_close(&cl);
	streamer_stop(&st);
	/* It stopped at the cap, not at the end of what was offered. */
	assert_true(st.sent < total);
}

/* 1.2 million tags in chunked pages of 100,000 linked by rel="next": the
 * cap counts across pages. (The command-line test below sends one page
 * until close.) */
static void test_slow_tags_millions_capped(void **state)
{
	(void)state;
	cap_check(1200000, 100000, 1);
}

/* --- The regvault binary against a lying registry ---------------------------------------- */

struct run {
	int status;            /* exit status, 128+signal, or -1 (timed out) */
	char *out, *err;
	long maxrss_kb;
};

static void run_release(struct run *r)
{
	free(r->out);
	free(r->err);
}

/* Runs $REGVAULT argv... in dir with an empty environment of credentials
 * (HOME in dir), stdout and stderr to files; at most 60 s. */
static void run_regvault(const char *dir, const char *const *args, struct run *r)
{
	const char *bin = getenv("REGVAULT");
	char *out = NULL, *err = NULL;
	const char *argv[32];
	size_t n = 0;
	struct rusage ru;
	int status = 0;

	if (!bin || !*bin)
		skip();
	argv[n++] = bin;
	while (*args && n < 31)
		argv[n++] = *args++;
	argv[n] = NULL;
	assert_true(asprintf(&out, "%s/stdout", dir) > 0);
	assert_true(asprintf(&err, "%s/stderr", dir) > 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int o = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		int e = open(err, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		int nul = open("/dev/null", O_RDONLY);
		if (o < 0 || e < 0 || nul < 0 || dup2(nul, 0) < 0 || dup2(o, 1) < 0 || dup2(e, 2) < 0 ||
		    chdir(dir))
			_exit(127);
		unsetenv("REGISTRY_AUTH_FILE");
		unsetenv("DOCKER_CONFIG");
		unsetenv("XDG_RUNTIME_DIR");
		unsetenv("XDG_CONFIG_HOME");
		unsetenv("XDG_DATA_HOME");
		unsetenv("REGVAULT_CATALOG");
		unsetenv("REGVAULT_TRACE");
		setenv("HOME", dir, 1);
		setenv("LC_ALL", "C", 1);
		execv(bin, (char *const *)argv);
		_exit(127);
	}
	r->status = -1;
	for (int i = 0; i < 6000; i++) {
		pid_t w = wait4(pid, &status, WNOHANG, &ru);
		if (w == pid) {
			r->status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
			break;
		}
		usleep(10000);
	}
	if (r->status == -1) {
		kill(pid, SIGKILL);
		wait4(pid, &status, 0, &ru);
	}
	r->maxrss_kb = ru.ru_maxrss;
	r->out = harness_read_file(out, NULL);
	r->err = harness_read_file(err, NULL);
	free(out);
	free(err);
}

/* The line naming what went wrong: regvault's error on stderr, or, for
 * commands that report per image (backup, mirror), the image's FAILED
 * line on stdout beside "regvault: error: 1 of 1 images failed". */
static void expect_one_error_line(const struct run *r, const char *want)
{
	const char *text = r->err && strstr(r->err, want) ? r->err : r->out;
	const char *line = text ? strstr(text, want) : NULL;

	if (!line)
		fail_msg("no line says \"%s\":\n%s\n(stdout:)\n%s", want, r->err ? r->err : "(none)",
		         r->out ? r->out : "(none)");
	while (line > text && line[-1] != '\n')
		line--;
	if (strncmp(line, "regvault: ", 10) && strncmp(line, "FAILED ", 7))
		fail_msg("the error line is not regvault's: %.200s", line);
	if (text == r->out && !contains(r->err, "regvault: error: 1 of 1 images failed"))
		fail_msg("no summary on stderr: %s", r->err ? r->err : "(none)");
}

/* Rows of the catalog's copies (verified copies) and store_refs (images a
 * store holds) naming digest (NULL: any). A missing catalog holds none. */
static int catalog_rows(const char *db, const char *table, const char *digest)
{
	sqlite3 *h = NULL;
	sqlite3_stmt *st = NULL;
	char sql[160];
	int n = 0;

	if (access(db, F_OK))
		return 0;
	assert_int_equal(sqlite3_open_v2(db, &h, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM %s%s", table,
	         digest ? " WHERE digest = ?1" : "");
	assert_int_equal(sqlite3_prepare_v2(h, sql, -1, &st, NULL), SQLITE_OK);
	if (digest)
		sqlite3_bind_text(st, 1, digest, -1, SQLITE_STATIC);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	n = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(h);
	return n;
}

struct cli_case {
	const char *lie;
	const char *want;        /* in the error line */
	int by_digest;           /* name the image r@<digest>, not r:v1 */
};

static const struct cli_case cli_cases[] = {
	{ "manifest-dcd", "content hashes to", 0 },
	{ "manifest-body", "content hashes to", 0 },
	/* By tag, other bytes with no header are what a tag that moved
	 * between HEAD and GET looks like: safekeep keeps what it copied,
	 * under the digest those bytes hash to. By digest, it is a lie. */
	{ "manifest-body-nodcd", "content hashes to", 1 },
	{ "manifest-huge", "larger than 4194304 bytes", 0 },
	{ "blob-longer", "more bytes than the 20000 its descriptor says", 0 },
	{ "blob-longer-cl", "more bytes than the 20000 its descriptor says", 0 },
	{ "blob-shorter", "19000 bytes received, its descriptor says 20000", 0 },
	{ "blob-corrupt", "content does not match its digest", 0 },
};

/* Nothing about the image is recorded as verified: neither the manifest
 * (by its real digest or the one the lie named) nor the lying blob, and
 * no store lists it. */
static void expect_nothing_verified(const char *db, const struct reg *r, const char *lie)
{
	if (catalog_rows(db, "copies", r->manifest_digest) ||
	    catalog_rows(db, "copies", r->other_digest) ||
	    catalog_rows(db, "copies", r->layer_digest) || catalog_rows(db, "store_refs", NULL))
		fail_msg("%s: the catalog records a copy as verified", lie);
}

/* backup and mirror of r:v1 from a registry telling each lie: one error
 * line naming it, a failing exit status, nothing verified, and no manifest
 * on the standby. The honest registry first, so the checks can see a
 * verified copy when there is one. */
static void test_slow_cli_backup_mirror_lies(void **state)
{
	(void)state;
	if (!getenv("REGVAULT") || !*getenv("REGVAULT"))
		skip();
	for (int i = -1; i < (int)(sizeof(cli_cases) / sizeof(cli_cases[0])); i++) {
		const char *lie = i < 0 ? "" : cli_cases[i].lie;
		char *dir = harness_mkdtemp("rv-lies-cli");
		struct reg src = { 0 }, dst = { 0 };
		struct fakehttp *s1, *s2;
		char ref[160], to[64], db[300], db2[300], store[300];
		struct run r = { 0 };

		assert_non_null(dir);
		src.lie = lie;
		dst.lie = "";
		reg_seed(&src);
		s1 = fakehttp_start(reg_handler, &src);
		s2 = fakehttp_start(reg_handler, &dst);
		if (i >= 0 && cli_cases[i].by_digest)
			snprintf(ref, sizeof(ref), "127.0.0.1:%d/r@%s", fakehttp_port(s1),
			         src.manifest_digest);
		else
			snprintf(ref, sizeof(ref), "127.0.0.1:%d/r:v1", fakehttp_port(s1));
		snprintf(to, sizeof(to), "127.0.0.1:%d", fakehttp_port(s2));
		snprintf(db, sizeof(db), "%s/cat.db", dir);
		snprintf(db2, sizeof(db2), "%s/cat2.db", dir);
		snprintf(store, sizeof(store), "%s/store", dir);

		const char *backup[] = { "--catalog", db, "backup", ref, "--to", store, NULL };
		run_regvault(dir, backup, &r);
		if (i < 0) {
			if (r.status != 0)
				fail_msg("honest backup: exit %d: %s", r.status, r.err);
			assert_true(catalog_rows(db, "copies", src.manifest_digest) == 1);
			assert_true(catalog_rows(db, "store_refs", NULL) == 1);
		} else {
			if (r.status != 1)
				fail_msg("backup, %s: exit %d: %s%s", lie, r.status, r.err, r.out);
			expect_one_error_line(&r, cli_cases[i].want);
			expect_nothing_verified(db, &src, lie);
		}
		run_release(&r);

		const char *mirror[] = { "--catalog", db2, "mirror", ref, "--to", to, NULL };
		run_regvault(dir, mirror, &r);
		if (i < 0) {
			if (r.status != 0)
				fail_msg("honest mirror: exit %d: %s", r.status, r.err);
			assert_true(catalog_rows(db2, "copies", src.manifest_digest) == 1);
			assert_true(dst.manifest_puts >= 1);
		} else {
			if (r.status != 1)
				fail_msg("mirror, %s: exit %d: %s%s", lie, r.status, r.err, r.out);
			expect_one_error_line(&r, cli_cases[i].want);
			expect_nothing_verified(db2, &src, lie);
			assert_int_equal(dst.manifest_puts, 0);
			assert_null(reg_find(&dst, src.layer_digest, 0));
		}
		run_release(&r);
		fakehttp_stop(s1);
		fakehttp_stop(s2);
		reg_free(&src);
		reg_free(&dst);
		harness_rm_rf(dir);
		free(dir);
	}
}

/* `regvault ls` of an endless tags list: the documented cap, one line,
 * exit 1, and memory bounded by the cap, not by what the registry sends
 * (without the cap, five million entries cost well over 200 MB). */
#define LS_RSS_LIMIT_KB (100L * 1024)

static void test_slow_cli_ls_millions_bounded(void **state)
{
	(void)state;
	char *dir = harness_mkdtemp("rv-lies-ls");
	struct streamer st;
	struct run r = { 0 };
	char repo[64], want[64];

	if (!getenv("REGVAULT") || !*getenv("REGVAULT"))
		skip();
	streamer_start(&st, 5000000, 0, 0);
	snprintf(repo, sizeof(repo), "127.0.0.1:%d/r", st.port);
	const char *ls[] = { "--catalog", "cat.db", "ls", repo, NULL };
	run_regvault(dir, ls, &r);
	streamer_stop(&st);
	print_message("regvault ls of an endless tags list: exit %d, peak RSS %ld MiB, %ld entries "
	              "sent\n", r.status, r.maxrss_kb / 1024, st.sent);
	if (r.status != 1)
		fail_msg("exit %d: %s", r.status, r.err);
	snprintf(want, sizeof(want), "more than %d entries; refusing to go on", REGISTRY_LIST_MAX);
	expect_one_error_line(&r, want);
	assert_true(st.sent < st.total);
#if !defined(__SANITIZE_ADDRESS__)
	/* ASan's shadow memory and quarantine make RSS meaningless there. */
	if (r.maxrss_kb > LS_RSS_LIMIT_KB)
		fail_msg("peak RSS %ld KiB, over %ld", r.maxrss_kb, LS_RSS_LIMIT_KB);
#endif
	run_release(&r);
	harness_rm_rf(dir);
	free(dir);
}

/* The refused realm at the command line: exit 2, one line naming it. */
static void test_slow_cli_token_realm_refused(void **state)
{
	(void)state;
	char *dir = harness_mkdtemp("rv-lies-realm");
	struct realm m = { 0 };
	struct fakehttp *srv;
	struct run r = { 0 };
	char repo[64];

	if (!getenv("REGVAULT") || !*getenv("REGVAULT"))
		skip();
	m.r.lie = "";
	reg_seed(&m.r);
	srv = fakehttp_start(realm_handler, &m);
	snprintf(m.realm, sizeof(m.realm), "http://0.0.0.0:%d/token", fakehttp_port(srv));
	snprintf(repo, sizeof(repo), "127.0.0.1:%d/r", fakehttp_port(srv));
	const char *ls[] = { "--catalog", "cat.db", "ls", repo, NULL };
	run_regvault(dir, ls, &r);
	if (r.status != 2)
		fail_msg("exit %d: %s", r.status, r.err);
	expect_one_error_line(&r, m.realm);
	expect_one_error_line(&r, "--insecure-registry 0.0.0.0");
	assert_int_equal(m.token_calls, 0);
	run_release(&r);
	const char *ls_ok[] = { "--catalog", "cat.db", "--insecure-registry", "0.0.0.0", "ls", repo,
	                        NULL };
	run_regvault(dir, ls_ok, &r);
	if (r.status != 0 || !contains(r.out, "v1"))
		fail_msg("with --insecure-registry 0.0.0.0: exit %d: %s", r.status, r.err);
	run_release(&r);
	fakehttp_stop(srv);
	reg_free(&m.r);
	harness_rm_rf(dir);
	free(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_manifest_by_digest_other_bytes),
		cmocka_unit_test(test_manifest_by_tag_header_lies),
		cmocka_unit_test(test_manifest_over_4mib_chunked),
		cmocka_unit_test(test_blob_longer_than_descriptor),
		cmocka_unit_test(test_blob_longer_async),
		cmocka_unit_test(test_redirect_keeps_credentials_home),
		cmocka_unit_test(test_redirect_target_lies),
		cmocka_unit_test(test_link_to_other_host_refused),
		cmocka_unit_test(test_https_redirect_to_http),
		cmocka_unit_test(test_token_realm_plain_http_elsewhere),
		cmocka_unit_test(test_token_redirect_keeps_credentials),
		cmocka_unit_test(test_listing_parser),
		cmocka_unit_test(test_listing_retry_starts_over),
		cmocka_unit_test(test_slow_tags_millions_capped),
		cmocka_unit_test(test_slow_cli_backup_mirror_lies),
		cmocka_unit_test(test_slow_cli_ls_millions_bounded),
		cmocka_unit_test(test_slow_cli_token_realm_refused),
	};
	signal(SIGPIPE, SIG_IGN);
	/* ctest runs the test_slow_* cases (the regvault binary, a million entries) as
	 * their own test: RV_TEST_FILTER and RV_TEST_SKIP are cmocka globs. */
	if (getenv("RV_TEST_FILTER"))
		cmocka_set_test_filter(getenv("RV_TEST_FILTER"));
	if (getenv("RV_TEST_SKIP"))
		cmocka_set_skip_filter(getenv("RV_TEST_SKIP"));
	return cmocka_run_group_tests(tests, NULL, NULL);
}
