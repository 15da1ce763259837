/*
 * test_live.c — the registry client against real docker-registry 2.8.2
 * instances (tests/harness/README.md): every fixture kind skopeo pushed,
 * uploads, mounts, deletes, referrers by the fallback tag, a tampered blob
 * on disk, 5,000 tags, and the four auth variants (anonymous, htpasswd,
 * TLS with a CA made at test time, bearer tokens from a real JWT server).
 *
 * Writes go only to repositories under t/live/<pid>/, never to the fx/ fixtures.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "oci/digest.h"
#include "oci/manifest.h"
#include "registry/registry.h"
#include "tests/harness/harness.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/strlist.h"

static const char *need(const char *key)
{
	const char *v = harness_env(key);
	if (!v) {
		print_message("harness key %s missing: skipped\n", key);
		skip();
	}
	return v;
}

struct conn {
	registry_session *s;
	registry_client *c;
};

static void conn_open(struct conn *k, const char *reg, const struct registry_options *o)
{
	struct registry_options def = REGISTRY_OPTIONS_INIT;
	assert_int_equal(registry_session_new(&k->s, o ? o : &def), 0);
	assert_int_equal(registry_client_open(&k->c, k->s, reg), 0);
}

static void conn_close(struct conn *k)
{
	registry_client_close(k->c);
	registry_session_free(k->s);
}

static void check(int rc)
{
	if (rc != 0)
		print_error("unexpected failure: %s\n", error_msg());
	assert_int_equal(rc, 0);
}

static char *test_repo(const char *name)
{
	return xasprintf("t/live/%d/%s", (int)getpid(), name);
}

struct hashing_sink {
	oci_hasher *h;
	size_t len;
};

static int hash_write(void *ctx, const void *data, size_t len)
{
	struct hashing_sink *s = ctx;
	oci_hasher_update(s->h, data, len);
	s->len += len;
	return 0;
}

/* --- Reading what skopeo pushed ------------------------------------------- */

struct fixture {
	const char *ref_key;     /* "fx/image:v1" */
	const char *digest_key;
	enum oci_kind kind;
	const char *media_type;
};

static void split_ref(const char *ref, char *repo, size_t n, const char **tag_or_digest)
{
	const char *at = strchr(ref, '@');
	const char *sep = at ? at : strrchr(ref, ':');
	snprintf(repo, n, "%.*s", (int)(sep - ref), ref);
	*tag_or_digest = sep + 1;
}

static void test_reads_every_fixture_kind(void **state)
{
	(void)state;
	const struct fixture fx[] = {
		{ "RV_FX_IMAGE", "RV_FX_IMAGE_DIGEST", OCI_KIND_IMAGE, OCI_MT_IMAGE_MANIFEST },
		{ "RV_FX_CHILD", "RV_FX_CHILD_DIGEST", OCI_KIND_IMAGE, OCI_MT_IMAGE_MANIFEST },
		{ "RV_FX_MULTI", "RV_FX_MULTI_DIGEST", OCI_KIND_INDEX, OCI_MT_IMAGE_INDEX },
		{ "RV_FX_DOCKER", "RV_FX_DOCKER_DIGEST", OCI_KIND_IMAGE, OCI_MT_DOCKER_MANIFEST },
		{ "RV_FX_DOCKERLIST", "RV_FX_DOCKERLIST_DIGEST", OCI_KIND_INDEX, OCI_MT_DOCKER_LIST },
		{ "RV_FX_SIG", "RV_FX_SIG_DIGEST", OCI_KIND_IMAGE, OCI_MT_IMAGE_MANIFEST },
		{ "RV_FX_ARTIFACT", "RV_FX_ARTIFACT_DIGEST", OCI_KIND_IMAGE, OCI_MT_IMAGE_MANIFEST },
	};
	struct conn k;

	conn_open(&k, need("RV_REG_PLAIN"), NULL);
	for (size_t i = 0; i < sizeof(fx) / sizeof(fx[0]); i++) {
		char repo[256];
		const char *ref;
		const char *digest = need(fx[i].digest_key);
		struct oci_manifest *m = NULL;
		struct oci_manifest_info head;

		split_ref(need(fx[i].ref_key), repo, sizeof(repo), &ref);
		check(registry_manifest_get(k.c, repo, ref, &m));
		assert_string_equal(m->digest, digest);
		assert_int_equal(m->kind, fx[i].kind);
		assert_string_equal(m->media_type, fx[i].media_type);
		check(registry_manifest_head(k.c, repo, ref, &head));
		assert_string_equal(head.digest, digest);
		assert_int_equal(head.size, (int64_t)m->raw_len);
		oci_manifest_free(m);
		/* By digest too: the body must hash to it. */
		check(registry_manifest_get(k.c, repo, digest, &m));
		assert_string_equal(m->digest, digest);
		if (strcmp(fx[i].ref_key, "RV_FX_ARTIFACT") == 0) {
			assert_non_null(m->subject);
			assert_string_equal(m->subject->digest, need("RV_FX_IMAGE_DIGEST"));
			assert_string_equal(m->artifact_type, need("RV_FX_ARTIFACT_TYPE"));
		}
		oci_manifest_free(m);
	}
	conn_close(&k);
}

static void test_blobs_stream_verified(void **state)
{
	(void)state;
	struct conn k;
	struct oci_manifest *m = NULL;
	struct oci_store *store = NULL;
	struct buf cfg = BUF_INIT;

	conn_open(&k, need("RV_REG_PLAIN"), NULL);
	check(registry_manifest_get(k.c, "fx/image", "v1", &m));
	assert_int_equal(m->n_layers, 3);
	for (size_t i = 0; i < m->n_layers; i++) {
		struct hashing_sink hs = { oci_hasher_new(OCI_SHA256), 0 };
		struct oci_sink sink = { hash_write, &hs };
		char got[OCI_DIGEST_MAX];
		check(registry_blob_get(k.c, "fx/image", &m->layers[i], &sink));
		oci_hasher_final(hs.h, got);
		oci_hasher_free(hs.h);
		assert_string_equal(got, m->layers[i].digest);
		assert_int_equal((int64_t)hs.len, m->layers[i].size);
	}
	check(registry_store_new(&store, k.c));
	check(oci_store_blob_read(store, "fx/image", &m->config, &cfg, 1 << 20));
	assert_string_equal(m->config.digest, need("RV_FX_IMAGE_CONFIG_DIGEST"));
	assert_non_null(strstr(buf_cstr(&cfg), "rootfs"));
	buf_release(&cfg);
	oci_store_close(store);
	oci_manifest_free(m);
	conn_close(&k);
}

static void test_lists_catalog_and_5000_tags(void **state)
{
	(void)state;
	struct conn k;
	struct strlist repos = STRLIST_INIT, tags = STRLIST_INIT;
	long count = harness_env_long("RV_FX_MANYTAGS_COUNT", -1);

	conn_open(&k, need("RV_REG_PLAIN"), NULL);
	check(registry_catalog(k.c, &repos));
	/* Other live tests may add t/... repositories while we run. */
	assert_true((long)repos.n >= harness_env_long("RV_FX_REPO_COUNT", 1 << 30));
	assert_true(strlist_contains(&repos, "fx/image"));
	check(registry_tags_list(k.c, need("RV_FX_MANYTAGS_REPO"), &tags));
	assert_int_equal((long)tags.n, count);
	assert_string_equal(tags.v[0], "t00000");
	assert_string_equal(tags.v[tags.n - 1], "t04999");
	strlist_release(&tags);
	assert_int_equal(registry_tags_list(k.c, "fx/no-such-repo", &tags), RV_ENOTFOUND);
	assert_non_null(strstr(error_msg(), "NAME_UNKNOWN"));
	strlist_release(&repos);
	conn_close(&k);
}

struct head_slot {
	struct oci_manifest_info info;
	int busy;
	struct heads *h;
};

struct heads {
	int done, bad;
	const char *want;
	struct head_slot slot[16];
};

static void head_done(registry_op *op, int rc, void *ctx)
{
	struct head_slot *sl = ctx;
	(void)op;
	sl->busy = 0;
	sl->h->done++;
	if (rc < 0 || strcmp(sl->info.digest, sl->h->want) != 0)
		sl->h->bad++;
}

static void test_concurrent_heads(void **state)
{
	(void)state;
	struct conn k;
	struct heads h = { 0 };
	const char *repo = need("RV_FX_MANYTAGS_REPO");
	int started = 0, total = 600;

	h.want = need("RV_FX_MANYTAGS_DIGEST");
	conn_open(&k, need("RV_REG_PLAIN"), NULL);
	for (int round = 0; h.done < total && round < 100000; round++) {
		/* Keep every free slot busy: 16 HEADs in flight on one multi handle. */
		for (int i = 0; i < 16 && started < total; i++) {
			if (h.slot[i].busy)
				continue;
			char tag[16];
			snprintf(tag, sizeof(tag), "t%05d", started * 7 % 5000);
			h.slot[i].busy = 1;
			h.slot[i].h = &h;
			check(registry_manifest_head_start(NULL, k.c, repo, tag, &h.slot[i].info,
			                                   head_done, &h.slot[i]));
			started++;
		}
		registry_session_run(k.s, 100);
	}
	assert_int_equal(h.done, total);
	assert_int_equal(h.bad, 0);
	conn_close(&k);
}

/* --- Writing ----------------------------------------------------------------- */

struct memsrc {
	const unsigned char *p;
	size_t len, off;
};

static ssize_t mem_read(void *ctx, void *buf, size_t cap)
{
	struct memsrc *m = ctx;
	size_t n = m->len - m->off < cap ? m->len - m->off : cap;
	memcpy(buf, m->p + m->off, n);
	m->off += n;
	return (ssize_t)n;
}

static int mem_rewind(void *ctx)
{
	((struct memsrc *)ctx)->off = 0;
	return 0;
}

static unsigned char *random_bytes(size_t n)
{
	unsigned char *p = malloc(n);
	FILE *f = fopen("/dev/urandom", "rb");
	assert_non_null(p);
	assert_non_null(f);
	assert_int_equal(fread(p, 1, n, f), n);
	fclose(f);
	return p;
}

static void push_bytes(registry_client *c, const char *repo, const void *data, size_t len,
                       size_t chunk, struct oci_descriptor *d)
{
	struct memsrc m = { data, len, 0 };
	struct oci_source src = { mem_read, mem_rewind, &m };

	memset(d, 0, sizeof(*d));
	d->media_type = (char *)"application/octet-stream";
	oci_digest_compute(d->digest, OCI_SHA256, data, len);
	d->size = (int64_t)len;
	check(registry_blob_put(c, repo, d, &src, chunk));
}

static void test_push_get_delete_roundtrip(void **state)
{
	(void)state;
	struct conn k;
	char *repo = test_repo("roundtrip");
	size_t n1 = 3 * 1024 * 1024 + 17, n2 = 300 * 1024 + 5;
	unsigned char *b1 = random_bytes(n1), *b2 = random_bytes(n2);
	struct oci_descriptor d1, d2, dc;
	static const char cfg[] = "{\"architecture\":\"amd64\",\"os\":\"linux\","
	                          "\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[]}}";
	int64_t size = 0;

	conn_open(&k, need("RV_REG_PLAIN"), NULL);
	push_bytes(k.c, repo, b1, n1, 0, &d1);                 /* one streamed PUT */
	push_bytes(k.c, repo, b2, n2, 64 * 1024, &d2);         /* PATCH chunks */
	push_bytes(k.c, repo, cfg, strlen(cfg), 0, &dc);
	check(registry_blob_head(k.c, repo, d2.digest, &size));
	assert_int_equal(size, (int64_t)n2);

	/* Odd spacing on purpose: the bytes, not a re-serialisation, are pushed. */
	char *man = xasprintf("{ \"schemaVersion\": 2,\n \"mediaType\": \"%s\",\n"
	                      " \"config\": {\"mediaType\": \"%s\", \"digest\": \"%s\", \"size\": %zu},\n"
	                      " \"layers\": [{\"mediaType\": \"application/vnd.oci.image.layer.v1.tar\","
	                      " \"digest\": \"%s\", \"size\": %zu}]  }\n",
	                      OCI_MT_IMAGE_MANIFEST, OCI_MT_IMAGE_CONFIG, dc.digest, strlen(cfg),
	                      d1.digest, n1);
	check(registry_manifest_put(k.c, repo, "v1", OCI_MT_IMAGE_MANIFEST, man, strlen(man)));
	struct buf raw = BUF_INIT;
	struct oci_manifest_info info;
	check(registry_manifest_get_raw(k.c, repo, "v1", &raw, &info));
	assert_int_equal(raw.len, strlen(man));
	assert_memory_equal(raw.ptr, man, raw.len);
	char want[OCI_DIGEST_MAX];
	oci_digest_compute(want, OCI_SHA256, man, strlen(man));
	assert_string_equal(info.digest, want);

	/* Tags are never deleted by name: that would take every sibling tag. */
	assert_int_equal(registry_manifest_delete(k.c, repo, "v1"), RV_EINVALID);
	check(registry_manifest_delete(k.c, repo, want));
	assert_int_equal(registry_manifest_head(k.c, repo, "v1", &info), RV_ENOTFOUND);
	assert_int_equal(registry_manifest_delete(k.c, repo, want), RV_ENOTFOUND);

	buf_release(&raw);
	free(man);
	free(b1);
	free(b2);
	free(repo);
	conn_close(&k);
}

static void copy_manifest(registry_client *c, const char *from, const char *to,
                          const char *ref, const char *as)
{
	struct oci_manifest *m = NULL;

	check(registry_manifest_get(c, from, ref, &m));
	if (m->kind == OCI_KIND_IMAGE) {
		check(registry_blob_mount(c, to, m->config.digest, from));
		for (size_t i = 0; i < m->n_layers; i++)
			check(registry_blob_mount(c, to, m->layers[i].digest, from));
	}
	check(registry_manifest_put(c, to, as, m->media_type, m->raw, m->raw_len));
	oci_manifest_free(m);
}

static void test_mount_and_referrers_fallback(void **state)
{
	(void)state;
	struct conn k;
	char *repo = test_repo("refs");
	const char *img = need("RV_FX_IMAGE_DIGEST");
	const char *art = need("RV_FX_ARTIFACT_DIGEST");
	const char *type = need("RV_FX_ARTIFACT_TYPE");
	struct oci_manifest *idx = NULL, *am = NULL;

	conn_open(&k, need("RV_REG_PLAIN"), NULL);
	copy_manifest(k.c, "fx/image", repo, "v1", "v1");
	copy_manifest(k.c, "fx/image", repo, art, art);

	/* distribution v2.8 has no referrers API: nothing yet, and no error. */
	check(registry_referrers(k.c, repo, img, NULL, &idx));
	assert_int_equal(idx->n_manifests, 0);
	oci_manifest_free(idx);

	/* The fallback tag schema (distribution-spec "Referrers Tag Schema"). */
	check(registry_manifest_get(k.c, repo, art, &am));
	char *fb = xasprintf("{\"schemaVersion\":2,\"mediaType\":\"%s\",\"manifests\":[{\"mediaType\":"
	                     "\"%s\",\"digest\":\"%s\",\"size\":%zu,\"artifactType\":\"%s\"}]}",
	                     OCI_MT_IMAGE_INDEX, OCI_MT_IMAGE_MANIFEST, art, am->raw_len, type);
	char tag[80];
	snprintf(tag, sizeof(tag), "sha256-%s", oci_digest_hex(img));
	check(registry_manifest_put(k.c, repo, tag, OCI_MT_IMAGE_INDEX, fb, strlen(fb)));
	check(registry_referrers(k.c, repo, img, NULL, &idx));
	assert_int_equal(idx->n_manifests, 1);
	assert_string_equal(idx->manifests[0].digest, art);
	oci_manifest_free(idx);
	check(registry_referrers(k.c, repo, img, type, &idx));
	assert_int_equal(idx->n_manifests, 1);
	oci_manifest_free(idx);
	check(registry_referrers(k.c, repo, img, "application/vnd.other", &idx));
	assert_int_equal(idx->n_manifests, 0);
	oci_manifest_free(idx);

	/* A mount of something the source does not hold is declined, not an error. */
	char missing[OCI_DIGEST_MAX];
	oci_digest_compute(missing, OCI_SHA256, "nothing", 7);
	assert_int_equal(registry_blob_mount(k.c, repo, missing, "fx/image"), RV_ENOTFOUND);

	oci_manifest_free(am);
	free(fb);
	free(repo);
	conn_close(&k);
}

static void test_tampered_blob_is_a_digest_mismatch(void **state)
{
	(void)state;
	struct conn k;
	char *repo = test_repo("tamper");
	size_t n = 200 * 1024;
	unsigned char *b = random_bytes(n);
	struct oci_descriptor d;
	const char *root = need("RV_REG_PLAIN_ROOT");

	conn_open(&k, need("RV_REG_PLAIN"), NULL);
	push_bytes(k.c, repo, b, n, 0, &d);
	const char *hex = oci_digest_hex(d.digest);
	char *path = xasprintf("%s/docker/registry/v2/blobs/sha256/%.2s/%s/data", root, hex, hex);
	size_t len = 0;
	unsigned char *disk = (unsigned char *)harness_read_file(path, &len);
	assert_non_null(disk);
	assert_int_equal(len, n);
	disk[n / 2] ^= 0x01;   /* one flipped bit, same size */
	assert_int_equal(harness_write_file(path, disk, len), 0);

	struct hashing_sink hs = { oci_hasher_new(OCI_SHA256), 0 };
	struct oci_sink sink = { hash_write, &hs };
	assert_int_equal(registry_blob_get(k.c, repo, &d, &sink), RV_EDIGEST);
	assert_non_null(strstr(error_msg(), "does not match its digest"));
	oci_hasher_free(hs.h);

	free(disk);
	free(path);
	free(b);
	free(repo);
	conn_close(&k);
}

/* --- Auth variants --------------------------------------------------------- */

static void test_basic_auth(void **state)
{
	(void)state;
	struct registry_options o = REGISTRY_OPTIONS_INIT;
	struct strlist tags = STRLIST_INIT;
	struct conn k;
	char *dir = harness_mkdtemp("rv-basic");
	char *empty = xasprintf("%s/config.json", dir);

	o.authfile = need("RV_AUTHFILE");
	conn_open(&k, need("RV_REG_BASIC"), &o);
	check(registry_tags_list(k.c, "fx/image", &tags));
	assert_true(strlist_contains(&tags, "v1"));
	strlist_release(&tags);
	/* Wrong password. */
	registry_client_set_credentials(k.c, need("RV_REG_BASIC_USER"), "not-the-password");
	assert_int_equal(registry_tags_list(k.c, "fx/image", &tags), RV_EAUTH);
	assert_non_null(strstr(error_msg(), "credentials rejected"));
	conn_close(&k);

	/* No credentials at all. */
	assert_int_equal(harness_write_file(empty, "{}", 2), 0);
	o.authfile = empty;
	conn_open(&k, need("RV_REG_BASIC"), &o);
	assert_int_equal(registry_tags_list(k.c, "fx/image", &tags), RV_EAUTH);
	assert_non_null(strstr(error_msg(), "no credentials"));
	conn_close(&k);
	harness_rm_rf(dir);
	free(empty);
	free(dir);
}

static void test_tls(void **state)
{
	(void)state;
	struct registry_options o = REGISTRY_OPTIONS_INIT;
	struct oci_manifest_info info;
	const char *reg = need("RV_REG_TLS");
	struct conn k;

	/* Loopback may speak plain HTTP by default, but TLS is still verified. */
	conn_open(&k, reg, NULL);
	assert_int_equal(registry_ping(k.c), RV_ETLS);
	assert_non_null(strstr(error_msg(), "--ca-cert"));
	conn_close(&k);

	o.ca_cert = need("RV_REG_TLS_CA");
	conn_open(&k, reg, &o);
	check(registry_manifest_head(k.c, "fx/image", "v1", &info));
	assert_string_equal(info.digest, need("RV_FX_IMAGE_DIGEST"));
	conn_close(&k);

	const char *insecure[] = { reg };
	o.ca_cert = NULL;
	o.insecure = insecure;
	o.n_insecure = 1;
	conn_open(&k, reg, &o);
	check(registry_manifest_head(k.c, "fx/image", "v1", &info));
	conn_close(&k);
}

/* Token requests made as `user` (other live tests fetch tokens in
 * parallel, so count only our own user's lines). */
static long token_log_lines(const char *user)
{
	size_t len = 0;
	char *log = harness_read_file(need("RV_TOKEN_LOG"), &len);
	char *needle = xasprintf(" user=%s ", user);
	long n = 0;

	assert_non_null(log);
	for (const char *p = log; (p = strstr(p, needle)); p++)
		n++;
	free(needle);
	free(log);
	return n;
}

static void test_bearer_tokens(void **state)
{
	(void)state;
	struct registry_options o = REGISTRY_OPTIONS_INIT;
	struct strlist tags = STRLIST_INIT;
	struct oci_manifest *m = NULL;
	struct conn k;
	const char *reg = need("RV_REG_TOKEN");

	/* A user nothing else uses, so parallel tests cannot disturb the count. */
	const char *user = need("RV_TOKEN_COUNT_USER");
	conn_open(&k, reg, NULL);
	registry_client_set_credentials(k.c, user, need("RV_TOKEN_COUNT_PASS"));
	long before = token_log_lines(user);
	for (int i = 0; i < 3; i++) {
		check(registry_manifest_get(k.c, "fx/image", "v1", &m));
		assert_string_equal(m->digest, need("RV_FX_IMAGE_DIGEST"));
		oci_manifest_free(m);
	}
	check(registry_tags_list(k.c, "fx/image", &tags));
	strlist_release(&tags);
	/* One token for repository:fx/image:pull, reused by all four requests. */
	assert_int_equal(token_log_lines(user) - before, 1);
	conn_close(&k);

	/* Credentials from a docker config.json (the full user). */
	o.authfile = need("RV_AUTHFILE");
	conn_open(&k, reg, &o);
	/* Push: a token for pull,push is fetched. */
	char *repo = test_repo("token");
	struct oci_descriptor d;
	push_bytes(k.c, repo, "token test", 10, 0, &d);
	conn_close(&k);

	/* The read-only user may pull but not push. */
	conn_open(&k, reg, NULL);
	registry_client_set_credentials(k.c, need("RV_TOKEN_RO_USER"), need("RV_TOKEN_RO_PASS"));
	check(registry_tags_list(k.c, "fx/image", &tags));
	strlist_release(&tags);
	struct memsrc ms = { (const unsigned char *)"nope", 4, 0 };
	struct oci_source src = { mem_read, mem_rewind, &ms };
	struct oci_descriptor d2 = { 0 };
	d2.media_type = (char *)"application/octet-stream";
	oci_digest_compute(d2.digest, OCI_SHA256, "nope", 4);
	d2.size = 4;
	assert_int_equal(registry_blob_put(k.c, repo, &d2, &src, 0), RV_EDENIED);
	conn_close(&k);

	/* Anonymous gets an empty grant: the registry says 401. */
	char *dir = harness_mkdtemp("rv-anon");
	char *empty = xasprintf("%s/config.json", dir);
	assert_int_equal(harness_write_file(empty, "{}", 2), 0);
	o.authfile = empty;
	conn_open(&k, reg, &o);
	assert_int_equal(registry_tags_list(k.c, "fx/image", &tags), RV_EAUTH);
	conn_close(&k);
	harness_rm_rf(dir);
	free(empty);
	free(dir);
	free(repo);
}

static void test_short_lived_token_is_renewed(void **state)
{
	(void)state;
	struct conn k;
	struct oci_manifest_info info;
	long life = harness_env_long("RV_TOKEN_SHORT_EXPIRES_IN", 2);

	conn_open(&k, need("RV_REG_TOKEN"), NULL);
	const char *user = need("RV_TOKEN_SHORT_USER");
	registry_client_set_credentials(k.c, user, need("RV_TOKEN_SHORT_PASS"));
	long before = token_log_lines(user);
	check(registry_manifest_head(k.c, "fx/image", "v1", &info));
	check(registry_manifest_head(k.c, "fx/image", "v1", &info));
	assert_int_equal(token_log_lines(user) - before, 1);
	sleep((unsigned)life + 1);
	check(registry_manifest_head(k.c, "fx/image", "v1", &info));
	assert_int_equal(token_log_lines(user) - before, 2);
	conn_close(&k);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reads_every_fixture_kind),
		cmocka_unit_test(test_blobs_stream_verified),
		cmocka_unit_test(test_lists_catalog_and_5000_tags),
		cmocka_unit_test(test_concurrent_heads),
		cmocka_unit_test(test_push_get_delete_roundtrip),
		cmocka_unit_test(test_mount_and_referrers_fallback),
		cmocka_unit_test(test_tampered_blob_is_a_digest_mismatch),
		cmocka_unit_test(test_basic_auth),
		cmocka_unit_test(test_tls),
		cmocka_unit_test(test_bearer_tokens),
		cmocka_unit_test(test_short_lived_token_is_renewed),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
