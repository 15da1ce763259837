/*
 * test_mirror_live.c — mirror between the harness's real registries:
 *
 *   - every fixture kind, a referrer artifact and 20 repositories sharing
 *     base layers arrive with identical digests, checked with skopeo on
 *     both sides;
 *   - a second run of an unchanged source sends no PUT or POST to the
 *     standby (counted in the standby's own access log);
 *   - htpasswd on the source, tokens on the destination, from one docker
 *     config.json;
 *   - a source answering 429/5xx to a share of requests still ends with
 *     every image verified; an image that cannot be copied is named alone;
 *   - a tag that moves on the source moves on the standby;
 *   - mirror_verify finds a blob removed from the standby.
 *
 * Writes go only under t/mirror/<pid>/ on the registries.
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

#include "mirror/mirror.h"
#include "oci/digest.h"
#include "tests/harness/harness.h"
#include "util/error.h"

static const char *need(const char *key)
{
	const char *v = harness_env(key);
	if (!v) {
		print_message("harness key %s missing: skipped\n", key);
		skip();
	}
	return v;
}

static void check(int rc)
{
	if (rc != 0)
		print_error("unexpected failure: %s\n", error_msg());
	assert_int_equal(rc, 0);
}

struct env {
	char *dir;
	catalog *cat;
	registry_session *s;
	char *prefix;     /* t/mirror/<pid>/<name> */
	char *to;         /* STANDBY/prefix */
};

static void env_open(struct env *e, const char *name, const char *dst_key,
                     const struct registry_options *ro)
{
	char *db;
	e->dir = harness_mkdtemp("rv-mirror");
	db = xasprintf("%s/catalog.db", e->dir);
	check(catalog_open(&e->cat, db, CATALOG_WRITE));
	free(db);
	check(registry_session_new(&e->s, ro));
	e->prefix = xasprintf("t/mirror/%d/%s", (int)getpid(), name);
	e->to = xasprintf("%s/%s", need(dst_key), e->prefix);
}

static void env_close(struct env *e)
{
	catalog_close(e->cat);
	registry_session_free(e->s);
	harness_rm_rf(e->dir);
	free(e->dir);
	free(e->prefix);
	free(e->to);
}

static int run_mirror(struct env *e, const char *const *sources, size_t n,
                      struct mirror_report *rep)
{
	struct mirror_options o = { 0 };
	o.sources = sources;
	o.n_sources = n;
	o.to = e->to;
	o.cat = e->cat;
	o.session = e->s;
	o.xfer = (struct xfer_options)XFER_OPTIONS_INIT;
	o.args_json = "[]";
	return mirror_run(&o, rep);
}

/* sha256 of `skopeo inspect --raw` (an independent client's reading). */
static void skopeo_digest(const char *ref, char out[OCI_DIGEST_MAX])
{
	char *url = xasprintf("docker://%s", ref);
	const char *argv[] = { "skopeo", "inspect", "--raw", "--tls-verify=false", url, NULL };
	char *raw = NULL;
	int st = harness_run(argv, 60, &raw);
	if (st != 0)
		print_error("skopeo inspect %s: exit %d\n", ref, st);
	assert_int_equal(st, 0);
	oci_digest_compute(out, OCI_SHA256, raw, strlen(raw));
	free(raw);
	free(url);
}

static void assert_same_bytes(const char *src_ref, const char *dst_ref)
{
	char a[OCI_DIGEST_MAX], b[OCI_DIGEST_MAX];
	skopeo_digest(src_ref, a);
	skopeo_digest(dst_ref, b);
	assert_string_equal(a, b);
}

static char *at(const char *key_or_host, const char *path)
{
	const char *host = harness_env(key_or_host);
	return xasprintf("%s/%s", host ? host : key_or_host, path);
}

/* A repository with an OCI 1.1 artifact findable through the referrers
 * fallback tag (distribution 2.8 has no referrers API), made with our own
 * client from the fixtures. */
static char *stage_referrers(registry_session *s)
{
	registry_client *c = NULL;
	struct oci_manifest *img = NULL, *art = NULL;
	char *repo = xasprintf("t/mirror/%d/src/signed", (int)getpid());
	const char *img_d = need("RV_FX_IMAGE_DIGEST"), *art_d = need("RV_FX_ARTIFACT_DIGEST");

	check(registry_client_open(&c, s, need("RV_REG_PLAIN")));
	check(registry_manifest_get(c, "fx/image", img_d, &img));
	check(registry_manifest_get(c, "fx/image", art_d, &art));
	const struct oci_manifest *ms[] = { img, art };
	for (int k = 0; k < 2; k++) {
		check(registry_blob_mount(c, repo, ms[k]->config.digest, "fx/image"));
		for (size_t i = 0; i < ms[k]->n_layers; i++)
			check(registry_blob_mount(c, repo, ms[k]->layers[i].digest, "fx/image"));
	}
	check(registry_manifest_put(c, repo, "v1", img->media_type, img->raw, img->raw_len));
	check(registry_manifest_put(c, repo, art_d, art->media_type, art->raw, art->raw_len));
	char *fb = xasprintf("{\"schemaVersion\":2,\"mediaType\":\"%s\",\"manifests\":[{\"mediaType\":"
	                     "\"%s\",\"digest\":\"%s\",\"size\":%zu,\"artifactType\":\"%s\"}]}",
	                     OCI_MT_IMAGE_INDEX, OCI_MT_IMAGE_MANIFEST, art_d, art->raw_len,
	                     need("RV_FX_ARTIFACT_TYPE"));
	char tag[80];
	snprintf(tag, sizeof(tag), "sha256-%s", oci_digest_hex(img_d));
	check(registry_manifest_put(c, repo, tag, OCI_MT_IMAGE_INDEX, fb, strlen(fb)));
	free(fb);
	oci_manifest_free(img);
	oci_manifest_free(art);
	registry_client_close(c);
	return repo;
}

static long standby_writes(const char *prefix)
{
	char *log = xasprintf("%s/reg-standby/log", need("RV_HARNESS_DIR"));
	char *put = xasprintf("\"PUT /v2/%s/", prefix), *post = xasprintf("\"POST /v2/%s/", prefix);
	size_t len = 0;
	char *text = harness_read_file(log, &len);
	long n = 0;

	assert_non_null(text);
	for (const char *p = text; (p = strstr(p, put)); p++)
		n++;
	for (const char *p = text; (p = strstr(p, post)); p++)
		n++;
	free(text);
	free(put);
	free(post);
	free(log);
	return n;
}

static void test_every_kind_then_nothing(void **state)
{
	(void)state;
	struct env e = { 0 };
	struct mirror_report rep;
	const char *plain = need("RV_REG_PLAIN");

	env_open(&e, "kinds", "RV_REG_STANDBY", NULL);
	char *signed_repo = stage_referrers(e.s);
	char *src_signed = at("RV_REG_PLAIN", signed_repo);
	char *s1 = at("RV_REG_PLAIN", "fx/multi:v1"), *s2 = at("RV_REG_PLAIN", "fx/dockerlist:v1");
	char *s3 = at("RV_REG_PLAIN", "fx/docker:v1"), *s4 = at("RV_REG_PLAIN", "fx/bulk/r0[01]*");
	char *s5 = at("RV_REG_PLAIN", "fx/image:v1");
	const char *sources[] = { s1, s2, s3, s4, s5, src_signed };
	check(run_mirror(&e, sources, 6, &rep));
	/* multi, dockerlist, docker, 20 bulk, image, signed:v1 */
	assert_int_equal(rep.n_items, 25);
	assert_int_equal(rep.copied, 25);
	assert_int_equal(rep.failed, 0);
	/* 20 repositories of one image: one upload each blob, mounts after. */
	assert_true(rep.blobs_skipped >= 19 * 5);
	mirror_report_release(&rep);

	const char *check_refs[] = { "fx/multi:v1", "fx/dockerlist:v1", "fx/docker:v1",
	                             "fx/bulk/r013:v1", "fx/image:v1" };
	for (size_t i = 0; i < 5; i++) {
		char *a = xasprintf("%s/%s", plain, check_refs[i]);
		char *b = xasprintf("%s/%s", e.to, check_refs[i]);
		assert_same_bytes(a, b);
		free(a);
		free(b);
	}
	/* The cosign signature tag and the OCI 1.1 artifact came along. */
	char *sig_a = xasprintf("%s/fx/image:%s", plain, need("RV_FX_SIG_TAG"));
	char *sig_b = xasprintf("%s/fx/image:%s", e.to, need("RV_FX_SIG_TAG"));
	assert_same_bytes(sig_a, sig_b);
	char *art = xasprintf("%s/%s@%s", e.to, signed_repo, need("RV_FX_ARTIFACT_DIGEST"));
	char got[OCI_DIGEST_MAX];
	skopeo_digest(art, got);
	assert_string_equal(got, need("RV_FX_ARTIFACT_DIGEST"));

	/* Unchanged source: one HEAD per tag at the source, no write at all
	 * at the standby. */
	long writes = standby_writes(e.prefix);
	assert_true(writes > 0);
	check(run_mirror(&e, sources, 6, &rep));
	assert_int_equal(rep.unchanged, 25);
	assert_int_equal(rep.bytes_copied, 0);
	assert_int_equal(standby_writes(e.prefix), writes);
	mirror_report_release(&rep);

	struct mirror_verify_report vr;
	check(mirror_verify(e.cat, e.s, 0, &vr));
	/* + the cosign signature, the artifact and its fallback tag index */
	assert_int_equal(vr.images, 25 + 3);
	mirror_verify_report_release(&vr);
	free(sig_a);
	free(sig_b);
	free(art);
	free(s1);
	free(s2);
	free(s3);
	free(s4);
	free(s5);
	free(src_signed);
	free(signed_repo);
	env_close(&e);
}

static void test_basic_to_token(void **state)
{
	(void)state;
	struct registry_options ro = REGISTRY_OPTIONS_INIT;
	struct env e = { 0 };
	struct mirror_report rep;

	ro.authfile = need("RV_AUTHFILE");
	env_open(&e, "auth", "RV_REG_TOKEN", &ro);
	char *s1 = at("RV_REG_BASIC", "fx/image:v1");
	const char *sources[] = { s1 };
	check(run_mirror(&e, sources, 1, &rep));
	assert_int_equal(rep.copied, 1);
	assert_string_equal(rep.items[0].digest, need("RV_FX_IMAGE_DIGEST"));
	mirror_report_release(&rep);
	free(s1);
	env_close(&e);
}

static void test_flaky_source_and_a_missing_image(void **state)
{
	(void)state;
	struct registry_options ro = REGISTRY_OPTIONS_INIT;
	struct env e = { 0 };
	struct mirror_report rep;

	ro.retry_base_ms = 20;   /* the proxy asks for Retry-After: 1 s; backoff stays small */
	env_open(&e, "flaky", "RV_REG_STANDBY", &ro);
	char *s1 = at("RV_REG_FAULTY", "fx/bulk/r02*"), *s2 = at("RV_REG_FAULTY", "fx/image:nope");
	const char *sources[] = { s1, s2 };
	long before = harness_count_lines(need("RV_FAULTY_LOG"));
	assert_int_equal(run_mirror(&e, sources, 2, &rep), RV_ERROR);
	assert_int_equal(rep.copied, 10);
	assert_int_equal(rep.failed, 1);
	for (size_t i = 0; i < rep.n_items; i++)
		if (rep.items[i].status == MIRROR_FAILED)
			assert_non_null(strstr(rep.items[i].ref, "fx/image:nope"));
	mirror_report_release(&rep);
	/* Faults really happened on the way. */
	assert_true(harness_count_lines(need("RV_FAULTY_LOG")) > before);
	struct mirror_verify_report vr;
	check(mirror_verify(e.cat, e.s, 1, &vr));
	assert_int_equal(vr.images, 10);
	mirror_verify_report_release(&vr);
	free(s1);
	free(s2);
	env_close(&e);
}

/* Copies src_repo:ref of the plain registry to repo:tag there. */
static void retag(registry_session *s, const char *src_repo, const char *repo, const char *tag)
{
	registry_client *c = NULL;
	struct oci_manifest *m = NULL;

	check(registry_client_open(&c, s, need("RV_REG_PLAIN")));
	check(registry_manifest_get(c, src_repo, "v1", &m));
	check(registry_blob_mount(c, repo, m->config.digest, src_repo));
	for (size_t i = 0; i < m->n_layers; i++)
		check(registry_blob_mount(c, repo, m->layers[i].digest, src_repo));
	check(registry_manifest_put(c, repo, tag, m->media_type, m->raw, m->raw_len));
	oci_manifest_free(m);
	registry_client_close(c);
}

static void test_moved_tag_and_verify(void **state)
{
	(void)state;
	struct env e = { 0 };
	struct mirror_report rep;
	struct mirror_verify_report vr;

	env_open(&e, "moved", "RV_REG_STANDBY", NULL);
	char *repo = xasprintf("t/mirror/%d/src/app", (int)getpid());
	retag(e.s, "fx/image", repo, "prod");
	char *s1 = xasprintf("%s/%s:prod", need("RV_REG_PLAIN"), repo);
	const char *sources[] = { s1 };
	check(run_mirror(&e, sources, 1, &rep));
	mirror_report_release(&rep);
	retag(e.s, "fx/child", repo, "prod");
	check(run_mirror(&e, sources, 1, &rep));
	assert_int_equal(rep.copied, 1);
	mirror_report_release(&rep);
	char *dst = xasprintf("%s/%s:prod", e.to, repo);
	char got[OCI_DIGEST_MAX];
	skopeo_digest(dst, got);
	assert_string_equal(got, need("RV_FX_CHILD_DIGEST"));

	/* Someone removes the child's own layer from the standby repository. */
	const char *layers = need("RV_FX_CHILD_LAYERS");
	const char *last = strrchr(layers, ',') + 1;
	char *link = xasprintf("%s/docker/registry/v2/repositories/%s/%s/_layers/sha256/%s/link",
	                       need("RV_REG_STANDBY_ROOT"), e.prefix, repo, oci_digest_hex(last));
	assert_int_equal(unlink(link), 0);
	assert_int_equal(mirror_verify(e.cat, e.s, 0, &vr), RV_EDIGEST);
	assert_true(vr.n_failures >= 1);
	assert_string_equal(vr.failures[0].digest, last);
	mirror_verify_report_release(&vr);
	/* The image is no longer counted as held: the next run copies it again. */
	check(run_mirror(&e, sources, 1, &rep));
	assert_int_equal(rep.copied, 1);
	mirror_report_release(&rep);
	check(mirror_verify(e.cat, e.s, 0, &vr));
	mirror_verify_report_release(&vr);
	free(link);
	free(dst);
	free(s1);
	free(repo);
	env_close(&e);
}

/* A standby that cannot be reached is "could not verify", not "lost": the
 * failure is reported and every copy row stays. */
static void test_unreachable_standby_keeps_copies(void **state)
{
	(void)state;
	struct registry_options ro = REGISTRY_OPTIONS_INIT;
	struct env e = { 0 };
	struct mirror_verify_report vr;
	registry_client *c = NULL;
	struct oci_manifest *m = NULL;
	int64_t store;
	int complete = 0;

	ro.max_retries = 0;
	env_open(&e, "down", "RV_REG_STANDBY", &ro);
	check(registry_client_open(&c, e.s, need("RV_REG_PLAIN")));
	check(registry_manifest_get(c, "fx/image", "v1", &m));
	registry_client_close(c);
	/* Port 1 on loopback: nothing listens there. */
	check(catalog_store_id(e.cat, CATALOG_STORE_REGISTRY, "127.0.0.1:1/standby", &store));
	struct catalog_image_manifest ms[] = { { m, 1, "v1", 0 } };
	struct catalog_image_object obs[4] = { { m->config.digest, "head" } };
	size_t n = 1;
	for (size_t i = 0; i < m->n_layers; i++)
		obs[n++] = (struct catalog_image_object){ m->layers[i].digest, "head" };
	struct catalog_image img = { store, "reg.example", "app", "v1", m->digest, ms, 1, obs, n,
	                             1000, 0, 1 };
	check(catalog_record_image(e.cat, &img, &complete));
	assert_int_equal(complete, 1);
	assert_int_equal(mirror_verify(e.cat, e.s, 0, &vr), RV_EDIGEST);
	assert_true(vr.n_failures >= 1);
	mirror_verify_report_release(&vr);
	check(catalog_copy_has(e.cat, store, m->digest));
	check(catalog_copy_has(e.cat, store, m->config.digest));
	oci_manifest_free(m);
	env_close(&e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_kind_then_nothing),
		cmocka_unit_test(test_basic_to_token),
		cmocka_unit_test(test_flaky_source_and_a_missing_image),
		cmocka_unit_test(test_moved_tag_and_verify),
		cmocka_unit_test(test_unreachable_standby_keeps_copies),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
