/*
 * test_backup_live.c — backup from the harness's real registries into an
 * archive store, and the catalog that records it:
 *
 *   - every fixture kind is stored and verified; the catalog lists it;
 *   - a second run of an unchanged registry writes no volume;
 *   - a new image stores only its new blobs; a known digest under a new
 *     name is listed without copying; a moved tag keeps its history;
 *   - a flipped byte in a volume fails deep verification and loses its
 *     copy row; a rebuilt catalog lists the same images and digests;
 *   - a 1 GiB layer is backed up by the real binary in bounded memory.
 *
 * Writes go to a temp dir and to repositories under t/backup/<pid>/.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "backup/backup.h"
#include "ocitar/ocitar.h"
#include "tests/harness/harness.h"
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

static void check(int rc)
{
	if (rc != 0)
		print_error("unexpected failure: %s\n", error_msg());
	assert_int_equal(rc, 0);
}

struct env {
	char *dir, *store, *db;
	catalog *cat;
	registry_session *s;
};

static void env_open(struct env *e)
{
	e->dir = harness_mkdtemp("rv-backup");
	assert_non_null(e->dir);
	e->store = xasprintf("%s/store", e->dir);
	e->db = xasprintf("%s/catalog.db", e->dir);
	check(catalog_open(&e->cat, e->db, CATALOG_WRITE));
	check(registry_session_new(&e->s, NULL));
}

static void env_close(struct env *e)
{
	catalog_close(e->cat);
	registry_session_free(e->s);
	harness_rm_rf(e->dir);
	free(e->dir);
	free(e->store);
	free(e->db);
}

static int run_backup(struct env *e, const char *const *sources, size_t n,
                      struct backup_report *rep)
{
	struct backup_options o = { 0 };
	o.sources = sources;
	o.n_sources = n;
	o.to = e->store;
	o.cat = e->cat;
	o.session = e->s;
	o.xfer = (struct xfer_options)XFER_OPTIONS_INIT;
	o.args_json = "[]";
	return backup_run(&o, rep);
}

static char *src(const char *key)
{
	return xasprintf("%s/%s", need("RV_REG_PLAIN"), need(key));
}

static const struct backup_item *item(const struct backup_report *r, const char *ref)
{
	for (size_t i = 0; i < r->n_items; i++)
		if (strstr(r->items[i].ref, ref))
			return &r->items[i];
	fail_msg("no item %s in the report", ref);
	return NULL;
}

struct listing {
	struct strlist names;
};

static int list_entry(const struct catalog_entry *e, void *ctx)
{
	struct listing *l = ctx;
	strlist_add_owned(&l->names, xasprintf("%s/%s:%s %s", e->registry, e->repository,
	                                       e->tag ? e->tag : "-", e->digest));
	return 0;
}

static void listing(catalog *cat, struct strlist *out)
{
	struct listing l = { STRLIST_INIT };
	check(catalog_entries(cat, NULL, list_entry, &l));
	strlist_sort(&l.names);
	*out = l.names;
}

static void test_backup_verify_rebuild(void **state)
{
	(void)state;
	struct env e = { 0 };
	char *s1 = src("RV_FX_IMAGE"), *s2 = src("RV_FX_MULTI"), *s3 = src("RV_FX_DOCKERLIST");
	const char *sources[] = { s1, s2, s3 };
	struct backup_report rep;
	struct verify_report vr;

	env_open(&e);
	check(run_backup(&e, sources, 3, &rep));
	assert_int_equal(rep.copied, 3);
	assert_non_null(rep.volume);
	assert_true(rep.bytes_written > 0);
	assert_string_equal(item(&rep, "fx/multi:v1")->digest, need("RV_FX_MULTI_DIGEST"));
	backup_report_release(&rep);
	check(backup_verify(e.cat, 1, &vr));
	assert_true(vr.checked > 10);
	assert_true(vr.bytes_hashed > 0);
	verify_report_release(&vr);

	/* Unchanged registry: nothing copied, no volume. */
	check(run_backup(&e, sources, 3, &rep));
	assert_int_equal(rep.unchanged, 3);
	assert_int_equal(rep.copied, 0);
	assert_null(rep.volume);
	assert_int_equal(rep.bytes_written, 0);
	backup_report_release(&rep);

	/* A lost catalog comes back from the volumes alone. */
	struct strlist before, after;
	listing(e.cat, &before);
	char *db2 = xasprintf("%s/rebuilt.db", e.dir);
	catalog *cat2 = NULL;
	struct rebuild_report rr;
	check(catalog_open(&cat2, db2, CATALOG_WRITE));
	check(backup_rebuild(cat2, e.store, &rr));
	assert_int_equal(rr.bad, 0);
	assert_true(rr.blobs > 10);
	listing(cat2, &after);
	assert_int_equal(after.n, before.n);
	for (size_t i = 0; i < before.n; i++)
		assert_string_equal(after.v[i], before.v[i]);
	strlist_release(&before);
	strlist_release(&after);
	catalog_close(cat2);
	free(db2);
	free(s1);
	free(s2);
	free(s3);
	env_close(&e);
}

static void test_flipped_byte_fails_deep_verify(void **state)
{
	(void)state;
	struct env e = { 0 };
	char *s1 = src("RV_FX_IMAGE");
	const char *sources[] = { s1 };
	struct backup_report rep;
	struct verify_report vr;
	const char *layers = need("RV_FX_IMAGE_LAYERS");
	char layer[OCI_DIGEST_MAX];

	snprintf(layer, sizeof(layer), "%.*s", (int)strcspn(layers, ","), layers);
	env_open(&e);
	check(run_backup(&e, sources, 1, &rep));
	backup_report_release(&rep);

	int64_t store_id;
	struct catalog_location loc;
	char *abs = realpath(e.store, NULL);
	check(catalog_store_id(e.cat, CATALOG_STORE_ARCHIVE, abs, &store_id));
	check(catalog_location_get(e.cat, store_id, layer, &loc));
	char *vol = xasprintf("%s/%s", e.store, loc.volume);
	size_t len;
	unsigned char *bytes = (unsigned char *)harness_read_file(vol, &len);
	assert_non_null(bytes);
	bytes[loc.offset + loc.length / 2] ^= 0x40;
	assert_int_equal(harness_write_file(vol, bytes, len), 0);

	/* Quick verify only checks presence; deep re-hashes and catches it. */
	check(backup_verify(e.cat, 0, &vr));
	verify_report_release(&vr);
	int vrc = backup_verify(e.cat, 1, &vr);
	if (vrc != RV_EDIGEST)
		print_error("verify: %s\n", error_msg());
	assert_int_equal(vrc, RV_EDIGEST);
	assert_int_equal(vr.n_failures, 1);
	assert_string_equal(vr.failures[0].digest, layer);
	verify_report_release(&vr);
	/* Not counted as a copy any more. */
	assert_int_equal(catalog_copy_has(e.cat, store_id, layer), RV_ENOTFOUND);
	free(bytes);
	free(vol);
	free(abs);
	free(s1);
	env_close(&e);
}

/* Copies src_ref of the plain registry to t/backup/<pid>/<name> there. */
static char *stage(registry_session *s, const char *src_repo, const char *src_ref,
                   const char *name, const char *tag)
{
	registry_client *c = NULL;
	struct oci_store *st = NULL;
	char *repo = xasprintf("t/backup/%d/%s", (int)getpid(), name);
	struct xfer_image img = { src_repo, src_ref, repo, tag };
	struct xfer_result r;

	check(registry_client_open(&c, s, need("RV_REG_PLAIN")));
	check(registry_store_new(&st, c));
	check(xfer_copy(st, st, &img, 1, NULL, &r));
	xfer_result_release(&r);
	oci_store_close(st);
	registry_client_close(c);
	return repo;
}

static int count_entry(const struct ocitar_entry *en, void *ctx)
{
	(void)en;
	(*(int *)ctx)++;
	return 0;
}

static void test_incremental_listed_and_moved(void **state)
{
	(void)state;
	struct env e = { 0 };
	struct backup_report rep;

	env_open(&e);
	char *app = stage(e.s, "fx/image", "v1", "app", "v1");
	char *src_app = xasprintf("%s/%s", need("RV_REG_PLAIN"), app);
	const char *one[] = { src_app };
	check(run_backup(&e, one, 1, &rep));
	assert_int_equal(rep.copied, 1);
	backup_report_release(&rep);

	/* Same digest under another name: listed from the catalog's bytes. */
	char *alias = stage(e.s, "fx/image", "v1", "alias", "v1");
	char *src_alias = xasprintf("%s/%s:v1", need("RV_REG_PLAIN"), alias);
	const char *two[] = { src_alias };
	check(run_backup(&e, two, 1, &rep));
	assert_int_equal(rep.listed, 1);
	assert_int_equal(rep.bytes_written, 0);
	backup_report_release(&rep);

	/* The tag moves to the child image: only its new blobs are stored. */
	free(stage(e.s, "fx/child", "v1", "app", "v1"));
	check(run_backup(&e, one, 1, &rep));
	assert_int_equal(rep.copied, 1);
	assert_true(rep.bytes_written > 0);
	/* New: one layer, the config, the manifest; the 3 shared layers stayed. */
	struct oci_store *ar = NULL;
	check(ocitar_open(&ar, e.store, OCITAR_READ));
	struct strlist vols = STRLIST_INIT;
	check(ocitar_volumes(ar, &vols));
	/* Run 1, the alias (a new index.json only), the moved tag. */
	assert_int_equal(vols.n, 3);
	int n_blobs = 0;
	check(ocitar_scan_volume(ar, vols.v[2], count_entry, &n_blobs));
	assert_int_equal(n_blobs, 3);
	n_blobs = 0;
	check(ocitar_scan_volume(ar, vols.v[1], count_entry, &n_blobs));
	assert_int_equal(n_blobs, 0);
	strlist_release(&vols);
	oci_store_close(ar);
	backup_report_release(&rep);

	struct catalog_tag_event *ev = NULL;
	size_t n = 0;
	check(catalog_tag_history(e.cat, need("RV_REG_PLAIN"), app, "v1", &ev, &n));
	assert_int_equal(n, 2);
	assert_string_equal(ev[0].digest, need("RV_FX_IMAGE_DIGEST"));
	assert_string_equal(ev[1].digest, need("RV_FX_CHILD_DIGEST"));
	free(ev);
	free(app);
	free(alias);
	free(src_app);
	free(src_alias);
	env_close(&e);
}

static int sum_entry(const struct ocitar_entry *en, void *ctx)
{
	*(int64_t *)ctx += en->length;
	return 0;
}

static int64_t volume_bytes(const char *store, const char *volume)
{
	struct oci_store *ar = NULL;
	int64_t sum = 0;

	check(ocitar_open(&ar, store, OCITAR_READ));
	check(ocitar_scan_volume(ar, volume, sum_entry, &sum));
	oci_store_close(ar);
	return sum;
}

/* --platform keeps some children of an index: the store holds them, but
 * the index's bytes name more, so no copy of the image as a whole may be
 * recorded — prune and restore must not count on it. */
static void test_platform_subset_is_partial(void **state)
{
	(void)state;
	struct env e = { 0 };
	char *s1 = src("RV_FX_MULTI");
	const char *sources[] = { s1 };
	const char *plat[] = { "linux/arm64" };
	struct backup_options o = { 0 };
	struct backup_report rep;
	int64_t store_id;

	env_open(&e);
	o.sources = sources;
	o.n_sources = 1;
	o.to = e.store;
	o.cat = e.cat;
	o.session = e.s;
	o.xfer = (struct xfer_options)XFER_OPTIONS_INIT;
	o.xfer.platforms = plat;
	o.xfer.n_platforms = 1;
	o.args_json = "[]";
	check(backup_run(&o, &rep));
	assert_int_equal(rep.partial, 1);
	assert_int_equal(rep.items[0].status, BACKUP_PARTIAL);
	char *abs = realpath(e.store, NULL);
	check(catalog_store_id(e.cat, CATALOG_STORE_ARCHIVE, abs, &store_id));
	assert_int_equal(catalog_copy_has(e.cat, store_id, need("RV_FX_MULTI_DIGEST")), RV_ENOTFOUND);
	check(catalog_copy_has(e.cat, store_id, need("RV_FX_MULTI_ARM64_DIGEST")));
	backup_report_release(&rep);
	free(abs);
	free(s1);
	env_close(&e);
}

/* The archive is a store like any other: the copy engine takes images out
 * of it again (archive → registry, the restore path), digests unchanged,
 * the cosign signature along with its image. */
static void test_archive_is_a_source(void **state)
{
	(void)state;
	struct env e = { 0 };
	char *s1 = src("RV_FX_IMAGE"), *s2 = src("RV_FX_MULTI");
	const char *sources[] = { s1, s2 };
	struct backup_report rep;
	struct oci_store *ar = NULL, *dst = NULL;
	registry_client *c = NULL;

	env_open(&e);
	check(run_backup(&e, sources, 2, &rep));
	backup_report_release(&rep);
	check(ocitar_open(&ar, e.store, OCITAR_READ));
	check(registry_client_open(&c, e.s, need("RV_REG_STANDBY")));
	check(registry_store_new(&dst, c));

	char *from_img = xasprintf("%s/fx/image", need("RV_REG_PLAIN"));
	char *from_multi = xasprintf("%s/fx/multi", need("RV_REG_PLAIN"));
	char *to_img = xasprintf("t/backup/%d/restored-image", (int)getpid());
	char *to_multi = xasprintf("t/backup/%d/restored-multi", (int)getpid());
	struct xfer_image img[2] = { { from_img, "v1", to_img, NULL },
	                             { from_multi, "v1", to_multi, NULL } };
	struct xfer_result r[2];
	struct oci_manifest_info info;
	check(xfer_copy(ar, dst, img, 2, NULL, r));
	check(oci_store_manifest_head(dst, to_img, "v1", &info));
	assert_string_equal(info.digest, need("RV_FX_IMAGE_DIGEST"));
	check(oci_store_manifest_head(dst, to_multi, "v1", &info));
	assert_string_equal(info.digest, need("RV_FX_MULTI_DIGEST"));
	check(oci_store_manifest_head(dst, to_img, need("RV_FX_SIG_TAG"), &info));
	assert_string_equal(info.digest, need("RV_FX_SIG_DIGEST"));
	assert_true(r[0].blobs_copied > 0);
	xfer_result_release(&r[0]);
	xfer_result_release(&r[1]);
	free(from_img);
	free(from_multi);
	free(to_img);
	free(to_multi);
	oci_store_close(dst);
	registry_client_close(c);
	oci_store_close(ar);
	free(s1);
	free(s2);
	env_close(&e);
}

/* Two tags of one digest and an image sharing its layers, in one run: the
 * bytes the report says were written are the bytes the volume holds. */
static void test_bytes_written_counted_once(void **state)
{
	(void)state;
	struct env e = { 0 };
	struct backup_report rep;

	env_open(&e);
	char *twin = stage(e.s, "fx/image", "v1", "twin", "v2");
	char *s1 = src("RV_FX_IMAGE"), *s2 = src("RV_FX_CHILD");
	char *s3 = xasprintf("%s/%s:v2", need("RV_REG_PLAIN"), twin);
	const char *sources[] = { s1, s2, s3 };
	check(run_backup(&e, sources, 3, &rep));
	assert_int_equal(rep.copied, 3);
	assert_int_equal(rep.bytes_written, volume_bytes(e.store, rep.volume));
	int64_t items = 0;
	for (size_t i = 0; i < rep.n_items; i++)
		items += rep.items[i].bytes_written;
	/* Per image: each blob counted for the first image only (manifests
	 * are in the volume but not in the per-image blob counts). */
	assert_true(items <= rep.bytes_written);
	assert_true(items > 0);
	backup_report_release(&rep);
	free(twin);
	free(s1);
	free(s2);
	free(s3);
	env_close(&e);
}

/* A deterministic byte stream: the same bytes on every pass, so it can be
 * hashed once and uploaded after (and rewound for a retry). */
struct gen {
	uint64_t state, left, total;
};

static ssize_t gen_read(void *ctx, void *buf, size_t cap)
{
	struct gen *g = ctx;
	unsigned char *p = buf;
	size_t n = cap < g->left ? cap : (size_t)g->left;

	for (size_t i = 0; i < n; i++) {
		g->state ^= g->state << 13;
		g->state ^= g->state >> 7;
		g->state ^= g->state << 17;
		p[i] = (unsigned char)g->state;
	}
	g->left -= n;
	return (ssize_t)n;
}

static int gen_rewind(void *ctx)
{
	struct gen *g = ctx;
	g->state = 88172645463325252ull;
	g->left = g->total;
	return 0;
}

struct memsrc {
	const char *p;
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

static void push_big_image(registry_session *s, const char *repo, uint64_t size)
{
	registry_client *c = NULL;
	struct gen g = { 0, 0, size };
	struct oci_source src = { gen_read, gen_rewind, &g };
	struct oci_descriptor layer = { 0 }, cfg = { 0 };
	unsigned char buf[1 << 16];
	ssize_t n;

	check(registry_client_open(&c, s, need("RV_REG_PLAIN")));
	gen_rewind(&g);
	oci_hasher *h = oci_hasher_new(OCI_SHA256);
	while ((n = gen_read(&g, buf, sizeof(buf))) > 0)
		oci_hasher_update(h, buf, (size_t)n);
	oci_hasher_final(h, layer.digest);
	oci_hasher_free(h);
	layer.size = (int64_t)size;
	layer.media_type = (char *)"application/vnd.oci.image.layer.v1.tar";
	gen_rewind(&g);
	check(registry_blob_put(c, repo, &layer, &src, 0));

	char *config = xasprintf("{\"architecture\":\"amd64\",\"os\":\"linux\",\"rootfs\":"
	                         "{\"type\":\"layers\",\"diff_ids\":[\"%s\"]}}", layer.digest);
	struct memsrc cs = { config, strlen(config), 0 };
	struct oci_source csrc = { mem_read, mem_rewind, &cs };
	oci_digest_compute(cfg.digest, OCI_SHA256, config, strlen(config));
	cfg.size = (int64_t)strlen(config);
	check(registry_blob_put(c, repo, &cfg, &csrc, 0));
	char *man = xasprintf("{\"schemaVersion\":2,\"mediaType\":\"%s\",\"config\":{\"mediaType\":"
	                      "\"%s\",\"digest\":\"%s\",\"size\":%lld},\"layers\":[{\"mediaType\":"
	                      "\"%s\",\"digest\":\"%s\",\"size\":%lld}]}",
	                      OCI_MT_IMAGE_MANIFEST, OCI_MT_IMAGE_CONFIG, cfg.digest,
	                      (long long)cfg.size, layer.media_type, layer.digest, (long long)size);
	check(registry_manifest_put(c, repo, "v1", OCI_MT_IMAGE_MANIFEST, man, strlen(man)));
	free(man);
	free(config);
	registry_client_close(c);
}

/* The real binary, so the whole path (CLI, engine, archive) is measured:
 * its peak RSS must not grow with the layer. */
static void test_one_gib_layer_bounded_memory(void **state)
{
	(void)state;
#if defined(__SANITIZE_ADDRESS__)
	skip();   /* ASan's shadow memory is not ours to measure */
#endif
	const char *bin = getenv("REGVAULT");
	const char *sz = getenv("RV_BIG_LAYER_BYTES");
	uint64_t size = sz ? strtoull(sz, NULL, 10) : (uint64_t)1 << 30;
	struct env e = { 0 };

	if (!bin)
		skip();
	env_open(&e);
	char *repo = xasprintf("t/backup/%d/big", (int)getpid());
	push_big_image(e.s, repo, size);
	char *ref = xasprintf("%s/%s:v1", need("RV_REG_PLAIN"), repo);
	catalog_close(e.cat);   /* the binary takes the writer lock itself */
	e.cat = NULL;
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		execl(bin, bin, "-q", "--catalog", e.db, "backup", ref, "--to", e.store, (char *)NULL);
		_exit(127);
	}
	int status = 0;
	struct rusage ru;
	assert_int_equal(wait4(pid, &status, 0, &ru), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	print_message("backup of a %llu-byte layer: peak RSS %ld KiB\n",
	              (unsigned long long)size, ru.ru_maxrss);
	assert_true(ru.ru_maxrss < 64 * 1024);
	free(ref);
	free(repo);
	env_close(&e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_backup_verify_rebuild),
		cmocka_unit_test(test_flipped_byte_fails_deep_verify),
		cmocka_unit_test(test_incremental_listed_and_moved),
		cmocka_unit_test(test_archive_is_a_source),
		cmocka_unit_test(test_platform_subset_is_partial),
		cmocka_unit_test(test_bytes_written_counted_once),
		cmocka_unit_test(test_one_gib_layer_bounded_memory),
	};
	/* The release pass runs only the bounded-memory case (CMakeLists.txt). */
	if (getenv("RV_TEST_FILTER"))
		cmocka_set_test_filter(getenv("RV_TEST_FILTER"));
	return cmocka_run_group_tests(tests, NULL, NULL);
}
