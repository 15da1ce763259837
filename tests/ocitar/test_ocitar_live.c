/* Live test: an archive store and an export tarball built from the
 * harness fixtures (RV_FX_LAYOUT) are read by tools other than regvault.
 *
 *   - every volume extracted in order into one folder is an OCI layout:
 *     `umoci stat` reads images from it, and `skopeo copy --all
 *     --preserve-digests oci:FOLDER:<name>` recreates them on the standby
 *     registry with the same digests;
 *   - `skopeo copy oci-archive:EXPORT.tar:<name>` does the same from the
 *     export tarball.
 *
 * Writes only under t/ocitar/<pid>/ on RV_REG_STANDBY. skopeo 1.9.3 does
 * not read Docker media types from an OCI layout's index.json (harness
 * README), so the Docker fixtures are stored and listed but not copied
 * back with skopeo here. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>
#include <cmocka.h>

#include <jansson.h>

#include "oci/digest.h"
#include "oci/manifest.h"
#include "ocitar/ocitar.h"
#include "tests/harness/harness.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/strlist.h"
#include "util/xalloc.h"
#include "util/banned.h"

static const char *need(const char *key)
{
	const char *v = harness_env(key);

	if (!v) {
		print_message("harness key %s missing: skipped\n", key);
		skip();
	}
	return v;
}

static void check(int rc, const char *what)
{
	if (rc)
		fail_msg("%s: %s", what, error_msg());
}

/* --- Filling a store from the fixture layout ---------------------------------------------- */

struct fsrc {
	int fd;
};

static ssize_t f_read(void *ctx, void *buf, size_t cap)
{
	ssize_t n = read(((struct fsrc *)ctx)->fd, buf, cap);

	return n < 0 ? error_set(RV_ERROR, "read failed") : n;
}

static int f_rewind(void *ctx)
{
	return lseek(((struct fsrc *)ctx)->fd, 0, SEEK_SET) == 0 ? 0 : RV_ERROR;
}

static char *layout_blob(const char *layout, const char *digest)
{
	return xasprintf("%s/blobs/sha256/%s", layout, oci_digest_hex(digest));
}

static void put_blob(struct oci_store *s, const char *layout, const struct oci_descriptor *d)
{
	char *p = layout_blob(layout, d->digest);
	struct fsrc f = { open(p, O_RDONLY) };
	struct oci_source src = { f_read, f_rewind, &f };

	assert_true(f.fd >= 0);
	check(oci_store_blob_put(s, "r", d, &src), p);
	close(f.fd);
	free(p);
}

/* The manifest digest names in layout, with its whole tree: children
 * (OCI_PUT_CHILD), config and layers; then the manifest under repo/ref. */
static void put_tree(struct oci_store *s, const char *layout, const char *repo, const char *ref,
                     const char *digest, const char *mt, unsigned flags)
{
	char *p = layout_blob(layout, digest);
	struct buf raw = BUF_INIT;
	struct oci_manifest *m = NULL;

	check(fs_read_file(&raw, p, OCI_MANIFEST_MAX), p);
	check(oci_manifest_parse(&m, raw.ptr, raw.len, mt), p);
	for (size_t i = 0; i < m->n_manifests; i++)
		put_tree(s, layout, repo, m->manifests[i].digest, m->manifests[i].digest,
		         m->manifests[i].media_type, OCI_PUT_CHILD);
	if (m->kind == OCI_KIND_IMAGE) {
		put_blob(s, layout, &m->config);
		for (size_t i = 0; i < m->n_layers; i++)
			put_blob(s, layout, &m->layers[i]);
	}
	check(oci_store_manifest_put(s, repo, ref ? ref : digest, m, flags), "manifest_put");
	oci_manifest_free(m);
	buf_release(&raw);
	free(p);
}

struct fixture {
	const char *ref_name;   /* in the layout's index.json */
	const char *env;        /* RV_FX_*: how it was pushed, "fx/image:v1" or "fx/image@…" */
};

static const struct fixture FIX[] = {
	{ "image", "RV_FX_IMAGE" },   { "multi", "RV_FX_MULTI" },
	{ "docker", "RV_FX_DOCKER" }, { "child", "RV_FX_CHILD" },
	{ "dockerlist", "RV_FX_DOCKERLIST" }, { "sig", "RV_FX_SIG" },
	{ "artifact", "RV_FX_ARTIFACT" },
};

/* The full name of a fixture in an archive: "<plain>/fx/image:v1". */
static char *full_name(size_t i)
{
	return xasprintf("%s/%s", need("RV_REG_PLAIN"), need(FIX[i].env));
}

static void put_fixture(struct oci_store *s, const char *layout, json_t *index, size_t i)
{
	json_t *d;
	size_t k;
	char *name = full_name(i), *sep = strrchr(name, '@');
	int by_digest = sep != NULL;

	if (!sep)
		sep = strrchr(name, ':');
	json_array_foreach(json_object_get(index, "manifests"), k, d) {
		const char *rn = json_string_value(json_object_get(
			json_object_get(d, "annotations"), "org.opencontainers.image.ref.name"));

		if (!rn || strcmp(rn, FIX[i].ref_name))
			continue;
		*sep = '\0';
		put_tree(s, layout, name, by_digest ? NULL : sep + 1,
		         json_string_value(json_object_get(d, "digest")),
		         json_string_value(json_object_get(d, "mediaType")), 0);
		free(name);
		return;
	}
	fail_msg("fixture %s not in the layout", FIX[i].ref_name);
}

/* --- Checking with skopeo and umoci -------------------------------------------------------- */

static int run(const char *const argv[], char **out)
{
	int rc = harness_run(argv, 120, out);

	if (rc)
		print_message("%s %s %s: exit %d\n", argv[0], argv[1], argv[2], rc);
	return rc;
}

/* skopeo copy SRC to standby t/ocitar/<pid>/<dst>, then the standby's
 * bytes for that tag must hash to digest. */
static void copy_and_check(const char *src, const char *dst, const char *digest)
{
	char *to = xasprintf("docker://%s/t/ocitar/%ld/%s", need("RV_REG_STANDBY"), (long)getpid(), dst);
	const char *cp[] = { "skopeo", "--policy", need("RV_SKOPEO_POLICY"), "copy", "--quiet", "--all",
	                     "--preserve-digests", "--dest-tls-verify=false", src, to, NULL };
	const char *in[] = { "skopeo", "--policy", need("RV_SKOPEO_POLICY"), "inspect", "--raw",
	                     "--tls-verify=false", to, NULL };
	char *out = NULL, got[72];

	assert_int_equal(run(cp, NULL), 0);
	assert_int_equal(run(in, &out), 0);
	harness_sha256(out, strlen(out), got);
	if (strcmp(got, digest))
		fail_msg("%s: standby has %s, expected %s", to, got, digest);
	free(out);
	free(to);
}

static const char *fx_digest(size_t i)
{
	static char key[64];

	snprintf(key, sizeof(key), "%s_DIGEST", FIX[i].env);
	return need(key);
}

static void check_folder(const char *folder)
{
	for (size_t i = 0; i < sizeof(FIX) / sizeof(FIX[0]); i++) {
		char *name = full_name(i), *src = xasprintf("oci:%s:%s", folder, name);
		char *img = xasprintf("%s:%s", folder, name);
		const char *umoci[] = { "umoci", "stat", "--image", img, NULL };
		char *out = NULL;

		if (!strcmp(FIX[i].ref_name, "image") || !strcmp(FIX[i].ref_name, "child")) {
			assert_int_equal(run(umoci, &out), 0);
			assert_non_null(strstr(out, "LAYER"));
			free(out);
		}
		if (!strstr(FIX[i].ref_name, "docker")) {
			char *dst = xasprintf("store-%s:v1", FIX[i].ref_name);

			copy_and_check(src, dst, fx_digest(i));
			free(dst);
		}
		free(img);
		free(src);
		free(name);
	}
}

static json_t *load_index(const char *layout)
{
	char *p = xasprintf("%s/index.json", layout);
	json_t *j = json_load_file(p, 0, NULL);

	assert_non_null(j);
	free(p);
	return j;
}

/* Two runs into a store, all volumes extracted in order with GNU tar. */
static void test_store_is_a_layout(void **state)
{
	const char *layout = need("RV_FX_LAYOUT");
	char *tmp = harness_mkdtemp("rv-ocitar-live"), *dir = fs_path_join(tmp, "store");
	char *folder = fs_path_join(tmp, "extract");
	json_t *index = load_index(layout);
	struct ocitar_commit_info info;
	struct strlist vols = STRLIST_INIT;
	struct oci_store *s = NULL;

	(void)state;
	for (int runno = 0; runno < 2; runno++) {
		check(ocitar_open(&s, dir, OCITAR_WRITE), "open");
		for (size_t i = runno ? 3 : 0; i < (runno ? 7u : 3u); i++)
			put_fixture(s, layout, index, i);
		check(ocitar_commit(s, &info), "commit");
		ocitar_commit_info_release(&info);
		oci_store_close(s);
	}
	check(ocitar_open(&s, dir, OCITAR_READ), "reopen");
	check(ocitar_volumes(s, &vols), "volumes");
	assert_int_equal(vols.n, 2);
	assert_int_equal(fs_mkdir_p(folder, 0700), 0);
	for (size_t i = 0; i < vols.n; i++) {
		char *v = fs_path_join(dir, vols.v[i]);
		const char *x[] = { "tar", "-xf", v, "-C", folder, NULL };

		assert_int_equal(run(x, NULL), 0);
		free(v);
	}
	oci_store_close(s);
	check_folder(folder);
	strlist_release(&vols);
	json_decref(index);
	harness_rm_rf(tmp);
	free(folder);
	free(dir);
	free(tmp);
}

static void test_export_loads(void **state)
{
	const char *layout = need("RV_FX_LAYOUT");
	char *tmp = harness_mkdtemp("rv-ocitar-live"), *file = fs_path_join(tmp, "export.tar");
	json_t *index = load_index(layout);
	struct ocitar_commit_info info;
	struct oci_store *s = NULL;
	size_t pick[] = { 0, 1, 2, 6 };   /* image, multi, docker, artifact */

	(void)state;
	check(ocitar_export_open(&s, file), "export");
	for (size_t i = 0; i < 4; i++)
		put_fixture(s, layout, index, pick[i]);
	check(ocitar_commit(s, &info), "commit");
	ocitar_commit_info_release(&info);
	oci_store_close(s);
	for (size_t i = 0; i < 4; i++) {
		char *name = full_name(pick[i]), *src = xasprintf("oci-archive:%s:%s", file, name);
		char *dst = xasprintf("export-%s:v1", FIX[pick[i]].ref_name);

		if (pick[i] != 2)
			copy_and_check(src, dst, fx_digest(pick[i]));
		free(dst);
		free(src);
		free(name);
	}
	json_decref(index);
	harness_rm_rf(tmp);
	free(file);
	free(tmp);
}

/* The other way round: a tarball skopeo wrote (directory entries, Go's
 * archive/tar headers) opens as a store and hands out verified bytes. */
static void test_reads_skopeo_archive(void **state)
{
	const char *layout = need("RV_FX_LAYOUT");
	char *tmp = harness_mkdtemp("rv-ocitar-live"), *file = fs_path_join(tmp, "sk.tar");
	char *src = xasprintf("oci:%s:multi", layout), *dst = xasprintf("oci-archive:%s:fx/multi:v1", file);
	const char *cp[] = { "skopeo", "--policy", need("RV_SKOPEO_POLICY"), "copy", "--quiet", "--all",
	                     "--preserve-digests", src, dst, NULL };
	struct oci_store *s = NULL;
	struct oci_manifest *idx = NULL, *child = NULL;
	struct buf b = BUF_INIT;

	(void)state;
	assert_int_equal(run(cp, NULL), 0);
	check(ocitar_open_file(&s, file), "open skopeo archive");
	check(oci_store_manifest_get(s, "fx/multi", "v1", &idx), "manifest_get");
	assert_string_equal(idx->digest, need("RV_FX_MULTI_DIGEST"));
	assert_int_equal(idx->n_manifests, 2);
	check(oci_store_manifest_get(s, "fx/multi", idx->manifests[1].digest, &child), "child");
	for (size_t i = 0; i < child->n_layers; i++)
		check(oci_store_blob_read(s, "fx/multi", &child->layers[i], &b, 1 << 20), "layer");
	oci_manifest_free(child);
	oci_manifest_free(idx);
	oci_store_close(s);
	buf_release(&b);
	harness_rm_rf(tmp);
	free(src);
	free(dst);
	free(file);
	free(tmp);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_store_is_a_layout),
		cmocka_unit_test(test_export_loads),
		cmocka_unit_test(test_reads_skopeo_archive),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
