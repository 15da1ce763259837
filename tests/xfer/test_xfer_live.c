/*
 * test_xfer_live.c — the copy engine between two real registries (the
 * harness's plain registry with every fixture → its empty standby): whole
 * indexes, Docker lists, cosign tags and OCI 1.1 referrers arrive with
 * identical digests; a second copy moves nothing; a second repository on
 * the destination gets its blobs by mount; --platform keeps one child.
 *
 * Writes go only under t/xfer/<pid>/ on the standby registry.
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

#include "registry/registry.h"
#include "tests/harness/harness.h"
#include "util/error.h"
#include "xfer/xfer.h"

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

struct stores {
	registry_session *s;
	registry_client *src_c, *dst_c;
	struct oci_store *src, *dst;
};

static void open_stores(struct stores *st)
{
	check(registry_session_new(&st->s, NULL));
	check(registry_client_open(&st->src_c, st->s, need("RV_REG_PLAIN")));
	check(registry_client_open(&st->dst_c, st->s, need("RV_REG_STANDBY")));
	check(registry_store_new(&st->src, st->src_c));
	check(registry_store_new(&st->dst, st->dst_c));
}

static void close_stores(struct stores *st)
{
	oci_store_close(st->src);
	oci_store_close(st->dst);
	registry_client_close(st->src_c);
	registry_client_close(st->dst_c);
	registry_session_free(st->s);
}

static char *dst_repo(const char *name)
{
	return xasprintf("t/xfer/%d/%s", (int)getpid(), name);
}

struct counts {
	int begins, blob_done, skipped, image_done, bytes_events;
	int64_t last_done, total;
};

static void count_progress(const struct xfer_progress *p, void *ctx)
{
	struct counts *c = ctx;
	switch (p->event) {
	case XFER_IMAGE_BEGIN: c->begins++; break;
	case XFER_BLOB_DONE: c->blob_done++; break;
	case XFER_BLOB_SKIPPED: c->skipped++; break;
	case XFER_IMAGE_DONE: c->image_done++; break;
	case XFER_BLOB_BYTES: c->bytes_events++; break;
	default: break;
	}
	assert_true(p->done_bytes <= p->total_bytes);
	c->last_done = p->done_bytes;
	c->total = p->total_bytes;
}

static void assert_same_digest(struct oci_store *dst, const char *repo, const char *ref,
                               const char *want)
{
	struct oci_manifest_info info;
	check(oci_store_manifest_head(dst, repo, ref, &info));
	assert_string_equal(info.digest, want);
}

static void test_every_fixture_kind(void **state)
{
	(void)state;
	struct stores st;
	struct counts c = { 0 };
	struct xfer_options o = XFER_OPTIONS_INIT;
	const char *names[] = { "image", "child", "multi", "docker", "dockerlist" };
	const char *digests[] = { "RV_FX_IMAGE_DIGEST", "RV_FX_CHILD_DIGEST", "RV_FX_MULTI_DIGEST",
	                          "RV_FX_DOCKER_DIGEST", "RV_FX_DOCKERLIST_DIGEST" };
	struct xfer_image img[5];
	struct xfer_result res[5];
	char *repos[5], *srcs[5];

	open_stores(&st);
	for (int i = 0; i < 5; i++) {
		srcs[i] = xasprintf("fx/%s", names[i]);
		repos[i] = dst_repo(names[i]);
		img[i] = (struct xfer_image){ srcs[i], "v1", repos[i], NULL };
	}
	o.jobs = 6;
	o.progress = count_progress;
	o.progress_ctx = &c;
	check(xfer_copy(st.src, st.dst, img, 5, &o, res));
	for (int i = 0; i < 5; i++) {
		assert_int_equal(res[i].rc, 0);
		assert_string_equal(res[i].digest, need(digests[i]));
		assert_same_digest(st.dst, repos[i], "v1", need(digests[i]));
	}
	/* Index children arrived by digest. */
	assert_same_digest(st.dst, repos[2], need("RV_FX_MULTI_ARM64_DIGEST"),
	                   need("RV_FX_MULTI_ARM64_DIGEST"));
	assert_same_digest(st.dst, repos[4], need("RV_FX_DOCKERLIST_AMD64_DIGEST"),
	                   need("RV_FX_DOCKERLIST_AMD64_DIGEST"));
	/* The cosign signature tag came with its subject. */
	assert_same_digest(st.dst, repos[0], need("RV_FX_SIG_TAG"), need("RV_FX_SIG_DIGEST"));
	assert_int_equal(c.begins, 5);
	assert_int_equal(c.image_done, 5);
	assert_true(c.blob_done > 10);
	assert_true(c.bytes_events > 0);
	assert_int_equal(c.last_done, c.total);

	/* Unchanged source: nothing moves again. */
	struct xfer_result again[5];
	check(xfer_copy(st.src, st.dst, img, 5, NULL, again));
	for (int i = 0; i < 5; i++) {
		assert_int_equal(again[i].blobs_copied, 0);
		assert_int_equal(again[i].bytes_copied, 0);
		assert_true(again[i].blobs_skipped > 0);
		xfer_result_release(&again[i]);
		xfer_result_release(&res[i]);
		free(repos[i]);
		free(srcs[i]);
	}
	close_stores(&st);
}

static void test_second_repository_mounts(void **state)
{
	(void)state;
	struct stores st;
	char *a = dst_repo("mount-a"), *b = dst_repo("mount-b");
	struct xfer_image img[2] = { { "fx/child", "v1", a, NULL }, { "fx/child", "v1", b, "copy" } };
	struct xfer_result res[2];

	open_stores(&st);
	check(xfer_copy(st.src, st.dst, img, 2, NULL, res));
	/* Each blob was uploaded once: the other repository got it by mount. */
	assert_int_equal(res[0].blobs_copied + res[1].blobs_copied, 5);
	assert_int_equal(res[0].blobs_skipped + res[1].blobs_skipped, 5);
	assert_same_digest(st.dst, b, "copy", need("RV_FX_CHILD_DIGEST"));
	xfer_result_release(&res[0]);
	xfer_result_release(&res[1]);
	free(a);
	free(b);
	close_stores(&st);
}

static void test_referrer_artifact_follows(void **state)
{
	(void)state;
	struct stores st;
	char *repo = dst_repo("refs");
	struct oci_manifest *art = NULL;
	struct xfer_image setup = { "fx/image", need("RV_FX_ARTIFACT_DIGEST"), repo, NULL };
	struct xfer_result r;

	open_stores(&st);
	/* distribution 2.8 has no referrers API: publish the fallback tag for
	 * the fixture's artifact at the source repository copy first. */
	check(xfer_copy(st.src, st.dst, &setup, 1, NULL, &r));
	xfer_result_release(&r);
	check(oci_store_manifest_get(st.dst, repo, need("RV_FX_ARTIFACT_DIGEST"), &art));
	assert_non_null(art->subject);
	assert_string_equal(art->subject->digest, need("RV_FX_IMAGE_DIGEST"));
	oci_manifest_free(art);
	free(repo);
	close_stores(&st);
}

static void test_platform_filter(void **state)
{
	(void)state;
	struct stores st;
	char *repo = dst_repo("platform");
	const char *plat[] = { "linux/arm64" };
	struct xfer_options o = XFER_OPTIONS_INIT;
	struct xfer_image img = { "fx/multi", "v1", repo, NULL };
	struct xfer_result r;
	struct oci_manifest_info info;

	open_stores(&st);
	o.platforms = plat;
	o.n_platforms = 1;
	/* The index's bytes still name both children: a registry that checks
	 * children (distribution does) would refuse it, and rewriting it would
	 * change its digest. So only the chosen child goes, by digest, and the
	 * result says partial. */
	check(xfer_copy(st.src, st.dst, &img, 1, &o, &r));
	assert_int_equal(r.partial, 1);
	check(oci_store_manifest_head(st.dst, repo, need("RV_FX_MULTI_ARM64_DIGEST"), &info));
	assert_int_equal(oci_store_manifest_head(st.dst, repo, need("RV_FX_MULTI_AMD64_DIGEST"),
	                                         &info),
	                 RV_ENOTFOUND);
	assert_int_equal(oci_store_manifest_head(st.dst, repo, need("RV_FX_MULTI_DIGEST"), &info),
	                 RV_ENOTFOUND);
	assert_int_equal(oci_store_manifest_head(st.dst, repo, "v1", &info), RV_ENOTFOUND);
	check(xfer_verify(st.dst, repo, "v1", &r));
	xfer_result_release(&r);
	free(repo);
	close_stores(&st);
}

static void test_expand_sources(void **state)
{
	(void)state;
	struct stores st;
	struct xfer_found *f = NULL;
	size_t n = 0;

	open_stores(&st);
	check(xfer_expand(st.src, "fx/image", NULL, &f, &n));
	/* v1 only: the cosign tag and any fallback tag come with their subject. */
	assert_int_equal(n, 1);
	assert_string_equal(f[0].ref, "v1");
	xfer_found_free(f, n);
	check(xfer_expand(st.src, "fx/bulk/r00*", "v1", &f, &n));
	assert_int_equal(n, 10);
	xfer_found_free(f, n);
	assert_int_equal(xfer_expand(st.src, "fx/nothing-*", NULL, &f, &n), RV_ENOTFOUND);
	close_stores(&st);
}

/* The destination rejects our credentials: the upload fails before the
 * download has finished, and the download then stops on the closed pipe.
 * The image's error names the upload's reason (the 401), not that echo. */
static void test_rejected_upload_reason(void **state)
{
	(void)state;
	registry_session *s = NULL;
	registry_client *src_c = NULL, *dst_c = NULL;
	struct oci_store *src = NULL, *dst = NULL;
	char *repo = dst_repo("rejected");
	struct xfer_image img = { "fx/image", "v1", repo, NULL };
	struct xfer_result res;

	check(registry_session_new(&s, NULL));
	check(registry_client_open(&src_c, s, need("RV_REG_PLAIN")));
	check(registry_client_open(&dst_c, s, need("RV_REG_TOKEN")));
	registry_client_set_credentials(dst_c, need("RV_TOKEN_USER"), "not-the-password");
	check(registry_store_new(&src, src_c));
	check(registry_store_new(&dst, dst_c));
	assert_true(xfer_copy(src, dst, &img, 1, NULL, &res) < 0);
	assert_non_null(res.msg);
	print_message("image error: %s\n", res.msg);
	assert_null(strstr(res.msg, "upload side of the copy failed"));
	assert_non_null(strstr(res.msg, "401"));
	xfer_result_release(&res);
	oci_store_close(src);
	oci_store_close(dst);
	registry_client_close(src_c);
	registry_client_close(dst_c);
	registry_session_free(s);
	free(repo);
}

static void test_resolve_5000_tags(void **state)
{
	(void)state;
	struct stores st;
	struct xfer_found *f = NULL;
	size_t n = 0;
	const char *want = need("RV_FX_MANYTAGS_DIGEST");

	open_stores(&st);
	check(xfer_expand(st.src, need("RV_FX_MANYTAGS_REPO"), NULL, &f, &n));
	assert_int_equal((long)n, harness_env_long("RV_FX_MANYTAGS_COUNT", -1));
	/* One tag that vanished between listing and resolving fails alone. */
	free(f[17].ref);
	f[17].ref = xstrdup("no-such-tag");
	check(xfer_resolve(st.src, f, n, 8));
	for (size_t i = 0; i < n; i++) {
		if (i == 17) {
			assert_int_equal(f[i].rc, RV_ENOTFOUND);
			assert_non_null(strstr(f[i].msg, "no-such-tag"));
			continue;
		}
		assert_int_equal(f[i].rc, 0);
		assert_string_equal(f[i].digest, want);
	}
	xfer_found_free(f, n);
	close_stores(&st);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_fixture_kind),
		cmocka_unit_test(test_second_repository_mounts),
		cmocka_unit_test(test_referrer_artifact_follows),
		cmocka_unit_test(test_platform_filter),
		cmocka_unit_test(test_expand_sources),
		cmocka_unit_test(test_resolve_5000_tags),
		cmocka_unit_test(test_rejected_upload_reason),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
