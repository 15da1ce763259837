/* Unit tests for the export tarball (backup --to FILE.tar): its entries,
 * index.json names, Docker manifest.json, verify-then-rename, and reading
 * it back with ocitar_open_file. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include <jansson.h>

#include "helpers.h"
#include "ocitar/ocitar.h"
#include "tests/harness/harness.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/xalloc.h"
#include "util/banned.h"

#define ALPINE "docker.io/library/alpine"
#define MULTI "reg.example.com/team/multi"

#if defined(__x86_64__)
#define HOST "amd64"
#define OTHER "arm64"
#else
#define HOST "arm64"
#define OTHER "amd64"
#endif

static int setup(void **state)
{
	*state = harness_mkdtemp("rv-ocitar-export");
	assert_non_null(*state);
	return 0;
}

static int teardown(void **state)
{
	harness_rm_rf(*state);
	free(*state);
	return 0;
}

/* A cosign-like signature: image config type, but a layer no loader can
 * unpack. */
static struct oci_manifest *signature(struct oci_store *s, const char *subject)
{
	const char *payload = "{\"critical\":{}}";
	char pd[OCI_DIGEST_MAX], cd[OCI_DIGEST_MAX];
	const char *cfg = "{}";
	struct oci_manifest *m = NULL;
	char *json;

	oci_digest_compute(pd, OCI_SHA256, payload, strlen(payload));
	oci_digest_compute(cd, OCI_SHA256, cfg, 2);
	assert_int_equal(th_put(s, payload, strlen(payload)), 0);
	assert_int_equal(th_put(s, cfg, 2), 0);
	json = xasprintf("{\"schemaVersion\":2,\"mediaType\":\"%s\",\"config\":{\"mediaType\":\"%s\","
	                 "\"digest\":\"%s\",\"size\":2},\"layers\":[{\"mediaType\":"
	                 "\"application/vnd.dev.cosign.simplesigning.v1+json\",\"digest\":\"%s\","
	                 "\"size\":%zu}],\"subject\":{\"mediaType\":\"%s\",\"digest\":\"%s\",\"size\":1}}",
	                 OCI_MT_IMAGE_MANIFEST, OCI_MT_IMAGE_CONFIG, cd, pd, strlen(payload),
	                 OCI_MT_IMAGE_MANIFEST, subject);
	assert_int_equal(oci_manifest_parse(&m, json, strlen(json), NULL), 0);
	free(json);
	return m;
}

static json_t *tar_json(const char *file, const char *entry)
{
	const char *cmd[] = { "tar", "-xOf", file, entry, NULL };
	char *out = NULL;
	json_t *j;

	assert_int_equal(harness_run(cmd, 30, &out), 0);
	j = json_loads(out, 0, NULL);
	assert_non_null(j);
	free(out);
	return j;
}

static char *hexpath(const char *digest)
{
	return xasprintf("blobs/sha256/%s", oci_digest_hex(digest));
}

static void check_manifest_json(const char *file, const struct th_image *alpine,
                                const struct th_image *host_child, struct strlist *names)
{
	json_t *mj = tar_json(file, "manifest.json"), *e, *p;
	size_t i, k;
	char *cfg;

	assert_true(json_is_array(mj));
	assert_int_equal(json_array_size(mj), 2);
	/* Entries follow index.json's name order: alpine first. */
	e = json_array_get(mj, 0);
	cfg = hexpath(alpine->m->config.digest);
	assert_string_equal(json_string_value(json_object_get(e, "Config")), cfg);
	free(cfg);
	assert_int_equal(json_array_size(json_object_get(e, "RepoTags")), 2);
	assert_string_equal(json_string_value(json_array_get(json_object_get(e, "RepoTags"), 0)),
	                    "alpine:3.19");
	assert_string_equal(json_string_value(json_array_get(json_object_get(e, "RepoTags"), 1)),
	                    "alpine:latest");
	assert_int_equal(json_array_size(json_object_get(e, "Layers")), alpine->n_layers);
	e = json_array_get(mj, 1);
	cfg = hexpath(host_child->m->config.digest);
	assert_string_equal(json_string_value(json_object_get(e, "Config")), cfg);
	free(cfg);
	assert_string_equal(json_string_value(json_array_get(json_object_get(e, "RepoTags"), 0)),
	                    MULTI ":v2");
	/* Every path it names is in the tarball. */
	json_array_foreach(mj, i, e) {
		assert_true(strlist_contains(names, json_string_value(json_object_get(e, "Config"))));
		json_array_foreach(json_object_get(e, "Layers"), k, p)
			assert_true(strlist_contains(names, json_string_value(p)));
	}
	json_decref(mj);
}

static void check_index_json(const char *file, const struct oci_manifest *sig)
{
	json_t *ij = tar_json(file, "index.json"), *ms = json_object_get(ij, "manifests"), *e;
	char *signame = xasprintf("%s@%s", ALPINE, sig->digest);
	const char *want[] = { ALPINE ":3.19", ALPINE ":latest", signame, MULTI ":v2" };
	size_t i;

	assert_int_equal(json_array_size(ms), 4);
	json_array_foreach(ms, i, e) {
		json_t *ann = json_object_get(e, "annotations");

		assert_string_equal(json_string_value(json_object_get(ann, "io.containerd.image.name")),
		                    want[i]);
		assert_string_equal(
			json_string_value(json_object_get(ann, "org.opencontainers.image.ref.name")),
			want[i]);
	}
	json_decref(ij);
	free(signame);
}

static void test_export(void **state)
{
	const char *tmp = *state;
	char *file = fs_path_join(tmp, "out.tar"), sha[80];
	struct oci_store *s = NULL, *r = NULL;
	struct th_image alpine, kids[2];
	struct oci_manifest *idx, *sig, *m = NULL;
	struct ocitar_commit_info info;
	struct strlist names = STRLIST_INIT;
	struct stat st;

	assert_int_equal(harness_write_file(file, "old", 3), 0);
	assert_int_equal(ocitar_export_open(&s, file), 0);
	th_image_make(&alpine, 1, 2, "amd64", NULL, NULL);
	th_image_make(&kids[0], 2, 1, OTHER, NULL, NULL);
	th_image_make(&kids[1], 3, 2, HOST, NULL, NULL);
	th_image_put(s, &alpine, ALPINE, "3.19", 0);
	th_image_put(s, &alpine, ALPINE, "latest", 0);
	th_image_put(s, &kids[0], MULTI, NULL, OCI_PUT_CHILD);
	th_image_put(s, &kids[1], MULTI, NULL, OCI_PUT_CHILD);
	idx = th_index_make(kids, 2);
	assert_int_equal(oci_store_manifest_put(s, MULTI, "v2", idx, 0), 0);
	sig = signature(s, alpine.m->digest);
	assert_int_equal(oci_store_manifest_put(s, ALPINE, sig->digest, sig, 0), 0);
	/* The old file stays until the new one is verified. */
	assert_int_equal(stat(file, &st), 0);
	assert_int_equal(st.st_size, 3);
	if (ocitar_commit(s, &info))
		fail_msg("%s", error_msg());
	assert_string_equal(info.volume, file);
	assert_int_equal(th_mode(file), 0600);
	assert_int_equal(th_count_prefix(tmp, "out.tar.tmp-"), 0);
	th_file_sha256(file, sha);
	assert_string_equal(info.sha256, sha);
	/* A sealed export takes nothing more. */
	assert_int_equal(th_put(s, "more", 4), RV_EUNSUPPORTED);
	/* ...but still reads. */
	assert_int_equal(oci_store_manifest_get(s, MULTI, "v2", &m), 0);
	oci_manifest_free(m);
	oci_store_close(s);

	assert_int_equal(th_tar_names(file, &names), 0);
	assert_string_equal(names.v[names.n - 3], "oci-layout");
	assert_string_equal(names.v[names.n - 2], "index.json");
	assert_string_equal(names.v[names.n - 1], "manifest.json");
	check_manifest_json(file, &alpine, &kids[1], &names);
	check_index_json(file, sig);
	strlist_release(&names);

	/* Our own reader takes it like any OCI layout tarball. */
	if (ocitar_open_file(&r, file))
		fail_msg("%s", error_msg());
	assert_int_equal(oci_store_manifest_get(r, ALPINE, "3.19", &m), 0);
	assert_string_equal(m->digest, alpine.m->digest);
	oci_manifest_free(m);
	assert_int_equal(oci_store_manifest_get(r, MULTI, kids[0].m->digest, &m), 0);
	oci_manifest_free(m);
	assert_int_equal(oci_store_referrers(r, ALPINE, alpine.m->digest, &m), 0);
	assert_int_equal(m->n_manifests, 1);
	oci_manifest_free(m);
	{
		struct buf b = BUF_INIT;

		assert_int_equal(th_get(r, kids[1].m->layers[1].digest, kids[1].m->layers[1].size, &b), 0);
		buf_release(&b);
	}
	oci_store_close(r);

	ocitar_commit_info_release(&info);
	oci_manifest_free(idx);
	oci_manifest_free(sig);
	th_image_free(&alpine);
	th_image_free(&kids[0]);
	th_image_free(&kids[1]);
	free(file);
}

static void test_export_abandoned(void **state)
{
	const char *tmp = *state;
	char *file = fs_path_join(tmp, "keep.tar");
	struct oci_store *s = NULL;
	struct ocitar_commit_info info;
	struct stat st;

	assert_int_equal(harness_write_file(file, "previous", 8), 0);
	assert_int_equal(ocitar_export_open(&s, file), 0);
	assert_int_equal(th_put(s, "data", 4), 0);
	assert_int_equal(th_count_prefix(tmp, "keep.tar.tmp-"), 1);
	oci_store_close(s);
	assert_int_equal(th_count_prefix(tmp, "keep.tar.tmp-"), 0);
	assert_int_equal(stat(file, &st), 0);
	assert_int_equal(st.st_size, 8);
	/* Nothing written: nothing to commit, nothing replaced. */
	assert_int_equal(ocitar_export_open(&s, file), 0);
	assert_int_equal(ocitar_commit(s, &info), 0);
	assert_null(info.volume);
	oci_store_close(s);
	assert_int_equal(stat(file, &st), 0);
	assert_int_equal(st.st_size, 8);
	assert_int_equal(ocitar_export_open(&s, ""), RV_EINVALID);
	free(file);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_export, setup, teardown),
		cmocka_unit_test_setup_teardown(test_export_abandoned, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
