/*
 * test_restore_live.c — restore against the harness's real registries:
 *
 *   - every fixture kind backed up and mirrored, deleted from the primary
 *     by digest (as distribution deletes), restored by tag and by digest:
 *     skopeo reads back identical bytes and pulls the image;
 *   - a dead standby falls back to the archive and says so; with the
 *     archive gone the standby alone serves it;
 *   - a corrupted archive blob fails naming the blob, and the tag stays
 *     absent: nothing half-pushed is tagged;
 *   - an unknown reference names close matches; --dry-run changes nothing;
 *   - restore_undo_run brings back every digest and tag of a "prune run";
 *     in a dry run it puts nothing and marks nothing (a read-only catalog
 *     does), and a real backup run's id is refused;
 *   - restore_file takes a regvault tarball and a skopeo oci-archive.
 *
 * Writes go only under t/restore/<pid>/ on the registries.
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

#include "backup/backup.h"
#include "mirror/mirror.h"
#include "oci/digest.h"
#include "restore/restore.h"
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
	char *dir, *store;
	catalog *cat;
	registry_session *s;
	registry_client *plain;
	char *base;         /* t/restore/<pid>/<name> */
};

static void env_open(struct env *e, const char *name)
{
	struct registry_options ro = REGISTRY_OPTIONS_INIT;
	char *db;

	ro.max_retries = 1;
	ro.retry_base_ms = 20;
	e->dir = harness_mkdtemp("rv-restore");
	e->store = xasprintf("%s/store", e->dir);
	db = xasprintf("%s/catalog.db", e->dir);
	check(catalog_open(&e->cat, db, CATALOG_WRITE));
	free(db);
	check(registry_session_new(&e->s, &ro));
	check(registry_client_open(&e->plain, e->s, need("RV_REG_PLAIN")));
	e->base = xasprintf("t/restore/%d/%s", (int)getpid(), name);
}

static void env_close(struct env *e)
{
	registry_client_close(e->plain);
	catalog_close(e->cat);
	registry_session_free(e->s);
	harness_rm_rf(e->dir);
	free(e->dir);
	free(e->store);
	free(e->base);
}

/* Copies fx/<kind>:v1 of the plain registry to <base>/<kind>:v1 there. */
static char *stage(struct env *e, const char *kind)
{
	struct oci_store *st = NULL;
	char *from = xasprintf("fx/%s", kind), *to = xasprintf("%s/%s", e->base, kind);
	struct xfer_image img = { from, "v1", to, "v1" };
	struct xfer_result r;

	check(registry_store_new(&st, e->plain));
	check(xfer_copy(st, st, &img, 1, NULL, &r));
	xfer_result_release(&r);
	oci_store_close(st);
	free(from);
	return to;
}

/* Backs up repo (every tag) into the env's archive store; the run's id. */
static int64_t do_backup(struct env *e, const char *repo)
{
	char *src = xasprintf("%s/%s", need("RV_REG_PLAIN"), repo);
	const char *sources[] = { src };
	struct backup_options o = { sources, 1, e->store, e->cat, e->s, XFER_OPTIONS_INIT, "[]" };
	struct backup_report rep;
	int64_t run;

	check(backup_run(&o, &rep));
	run = rep.run_id;
	backup_report_release(&rep);
	free(src);
	return run;
}

static void do_mirror(struct env *e, const char *repo, const char *to)
{
	char *src = xasprintf("%s/%s", need("RV_REG_PLAIN"), repo);
	const char *sources[] = { src };
	struct mirror_options o = { 0 };
	struct mirror_report rep;

	o.sources = sources;
	o.n_sources = 1;
	o.to = to;
	o.cat = e->cat;
	o.session = e->s;
	o.xfer = (struct xfer_options)XFER_OPTIONS_INIT;
	o.args_json = "[]";
	check(mirror_run(&o, &rep));
	mirror_report_release(&rep);
	free(src);
}

static void delete_image(struct env *e, const char *repo, const char *tag, char *digest_out)
{
	struct oci_manifest_info info;
	check(registry_manifest_head(e->plain, repo, tag, &info));
	snprintf(digest_out, OCI_DIGEST_MAX, "%s", info.digest);
	check(registry_manifest_delete(e->plain, repo, info.digest));
	assert_int_equal(registry_manifest_head(e->plain, repo, tag, &info), RV_ENOTFOUND);
}

static int do_restore(struct env *e, const char *ref, enum restore_prefer prefer, int dry,
                      struct restore_report *rep)
{
	struct restore_options o = { 0 };
	o.ref = ref;
	o.prefer = prefer;
	o.dry_run = dry;
	o.cat = e->cat;
	o.session = e->s;
	o.xfer = (struct xfer_options)XFER_OPTIONS_INIT;
	return restore_run(&o, rep);
}

/* skopeo's reading of a reference: its raw manifest's digest, and a pull. */
static void skopeo_check(const char *ref, const char *want_digest, const char *pull_dir)
{
	char *url = xasprintf("docker://%s", ref);
	char *raw = NULL;
	const char *inspect[] = { "skopeo", "inspect", "--raw", "--tls-verify=false", url, NULL };
	assert_int_equal(harness_run(inspect, 60, &raw), 0);
	char got[OCI_DIGEST_MAX];
	oci_digest_compute(got, OCI_SHA256, raw, strlen(raw));
	assert_string_equal(got, want_digest);
	free(raw);
	char *dst = xasprintf("oci:%s", pull_dir);
	const char *copy[] = { "skopeo", "--policy", need("RV_SKOPEO_POLICY"), "copy", "-q", "--all",
	                       "--src-tls-verify=false", url, dst, NULL };
	assert_int_equal(harness_run(copy, 120, NULL), 0);
	free(dst);
	free(url);
}

static void test_every_kind_by_tag_and_digest(void **state)
{
	(void)state;
	struct env e = { 0 };
	const char *kinds[] = { "image", "multi", "docker", "dockerlist" };

	env_open(&e, "kinds");
	for (size_t k = 0; k < 4; k++) {
		char digest[OCI_DIGEST_MAX];
		struct restore_report rep;
		char *repo = stage(&e, kinds[k]);
		do_backup(&e, repo);
		delete_image(&e, repo, "v1", digest);

		char *by_tag = xasprintf("%s/%s:v1", need("RV_REG_PLAIN"), repo);
		check(do_restore(&e, by_tag, RESTORE_AUTO, 0, &rep));
		assert_string_equal(rep.digest, digest);
		assert_non_null(strstr(rep.source, "archive"));
		assert_true(rep.blobs_total > 0);
		restore_report_release(&rep);
		char *pull = xasprintf("%s/pull-%s", e.dir, kinds[k]);
		skopeo_check(by_tag, digest, pull);

		/* Again, named by digest: the manifest comes back, untagged. */
		check(registry_manifest_delete(e.plain, repo, digest));
		char *by_digest = xasprintf("%s/%s@%s", need("RV_REG_PLAIN"), repo, digest);
		check(do_restore(&e, by_digest, RESTORE_AUTO, 0, &rep));
		restore_report_release(&rep);
		struct oci_manifest_info info;
		check(registry_manifest_head(e.plain, repo, digest, &info));
		free(by_digest);
		free(pull);
		free(by_tag);
		free(repo);
	}
	env_close(&e);
}

static void test_fallbacks_say_which_store(void **state)
{
	(void)state;
	struct env e = { 0 };
	struct restore_report rep;
	char digest[OCI_DIGEST_MAX];

	env_open(&e, "fallback");
	char *repo = stage(&e, "child");
	char *standby = xasprintf("%s/%s/sb", need("RV_REG_STANDBY"), e.base);
	do_backup(&e, repo);
	do_mirror(&e, repo, standby);
	delete_image(&e, repo, "v1", digest);
	char *ref = xasprintf("%s/%s:v1", need("RV_REG_PLAIN"), repo);

	/* Asked to prefer the standby, it gets the standby. */
	check(do_restore(&e, ref, RESTORE_REGISTRY, 0, &rep));
	assert_non_null(strstr(rep.source, "registry"));
	restore_report_release(&rep);

	/* The archive folder is gone: the standby alone serves it. */
	delete_image(&e, repo, "v1", digest);
	char *moved = xasprintf("%s/moved", e.dir);
	assert_int_equal(rename(e.store, moved), 0);
	check(do_restore(&e, ref, RESTORE_ARCHIVE, 0, &rep));
	assert_non_null(strstr(rep.source, "registry"));
	assert_true(rep.n_notes >= 1);   /* the archive was tried first and failed */
	restore_report_release(&rep);
	assert_int_equal(rename(moved, e.store), 0);
	free(moved);
	free(ref);
	free(standby);
	free(repo);
	env_close(&e);
}

static void test_corrupt_archive_blob_tags_nothing(void **state)
{
	(void)state;
	struct env e = { 0 };
	struct restore_report rep;
	char digest[OCI_DIGEST_MAX];
	const char *layers = need("RV_FX_IMAGE_LAYERS");
	char layer[OCI_DIGEST_MAX];

	snprintf(layer, sizeof(layer), "%.*s", (int)strcspn(layers, ","), layers);
	env_open(&e, "corrupt");
	char *repo = stage(&e, "image");
	do_backup(&e, repo);
	int64_t store;
	char *abs = realpath(e.store, NULL);
	struct catalog_location loc;
	check(catalog_store_id(e.cat, CATALOG_STORE_ARCHIVE, abs, &store));
	check(catalog_location_get(e.cat, store, layer, &loc));
	char *vol = xasprintf("%s/%s", e.store, loc.volume);
	size_t len;
	unsigned char *bytes = (unsigned char *)harness_read_file(vol, &len);
	bytes[loc.offset + 7] ^= 0x20;
	assert_int_equal(harness_write_file(vol, bytes, len), 0);

	/* The blob was shared with fx/image on the primary: a target repository
	 * that lacks it must upload it, so restore into a fresh one. */
	delete_image(&e, repo, "v1", digest);
	struct restore_options o = { 0 };
	char *ref = xasprintf("%s/%s:v1", need("RV_REG_PLAIN"), repo);
	char *to = xasprintf("%s/%s-elsewhere", need("RV_REG_PLAIN"), e.base);
	o.ref = ref;
	o.to = to;
	o.cat = e.cat;
	o.session = e.s;
	o.xfer = (struct xfer_options)XFER_OPTIONS_INIT;
	assert_int_not_equal(restore_run(&o, &rep), 0);
	assert_non_null(strstr(error_msg(), layer));
	restore_report_release(&rep);
	struct oci_manifest_info info;
	char *target_repo = xasprintf("%s-elsewhere", e.base);
	assert_int_equal(registry_manifest_head(e.plain, target_repo, "v1", &info), RV_ENOTFOUND);
	free(target_repo);
	free(to);
	free(ref);
	free(bytes);
	free(vol);
	free(abs);
	free(repo);
	env_close(&e);
}

static void test_unknown_reference_and_dry_run(void **state)
{
	(void)state;
	struct env e = { 0 };
	struct restore_report rep;
	char digest[OCI_DIGEST_MAX];

	env_open(&e, "names");
	char *repo = stage(&e, "image");
	do_backup(&e, repo);
	char *typo = xasprintf("%s/%s:v2", need("RV_REG_PLAIN"), repo);
	assert_int_equal(do_restore(&e, typo, RESTORE_AUTO, 0, &rep), RV_EINVALID);
	assert_non_null(strstr(error_msg(), "close matches"));
	assert_non_null(strstr(error_msg(), ":v1"));
	restore_report_release(&rep);
	char *other = xasprintf("%s/%sx:v1", need("RV_REG_PLAIN"), repo);
	assert_int_equal(do_restore(&e, other, RESTORE_AUTO, 0, &rep), RV_EINVALID);
	assert_non_null(strstr(error_msg(), repo));   /* the repository it probably meant */
	restore_report_release(&rep);

	delete_image(&e, repo, "v1", digest);
	char *ref = xasprintf("%s/%s:v1", need("RV_REG_PLAIN"), repo);
	check(do_restore(&e, ref, RESTORE_AUTO, 1, &rep));
	assert_int_equal(rep.dry_run, 1);
	assert_true(rep.manifests_put >= 1);
	restore_report_release(&rep);
	struct oci_manifest_info info;
	assert_int_equal(registry_manifest_head(e.plain, repo, "v1", &info), RV_ENOTFOUND);
	free(ref);
	free(other);
	free(typo);
	free(repo);
	env_close(&e);
}

static void test_undo_a_prune_run(void **state)
{
	(void)state;
	struct env e = { 0 };
	struct restore_undo_report ur;
	int64_t run = 0, id = 0;
	char d1[OCI_DIGEST_MAX], d2[OCI_DIGEST_MAX];

	env_open(&e, "undo");
	char *a = stage(&e, "image"), *b = stage(&e, "multi");
	/* A second tag on a: a digest delete takes both. */
	struct oci_manifest *m = NULL;
	check(registry_manifest_get(e.plain, a, "v1", &m));
	check(registry_manifest_put(e.plain, a, "stable", m->media_type, m->raw, m->raw_len));
	oci_manifest_free(m);
	do_backup(&e, a);
	do_backup(&e, b);

	/* What prune does: journal first, then delete, then confirm. */
	const char *ta[] = { "v1", "stable" }, *tb[] = { "v1" };
	check(catalog_run_start(e.cat, "prune", "[]", &run));
	delete_image(&e, a, "v1", d1);
	check(catalog_deletion_record(e.cat, run, need("RV_REG_PLAIN"), a, d1, ta, 2, "test", &id));
	check(catalog_deletion_confirm(e.cat, id, 1));
	delete_image(&e, b, "v1", d2);
	check(catalog_deletion_record(e.cat, run, need("RV_REG_PLAIN"), b, d2, tb, 1, "test", &id));

	struct xfer_options xo = XFER_OPTIONS_INIT;
	check(restore_undo_run(e.cat, e.s, run, &xo, &ur));
	assert_int_equal(ur.restored, 2);
	restore_undo_report_release(&ur);
	struct oci_manifest_info info;
	check(registry_manifest_head(e.plain, a, "stable", &info));
	assert_string_equal(info.digest, d1);
	check(registry_manifest_head(e.plain, a, "v1", &info));
	check(registry_manifest_head(e.plain, b, "v1", &info));
	assert_string_equal(info.digest, d2);
	assert_int_equal(restore_undo_run(e.cat, e.s, run + 1000, &xo, &ur), RV_ENOTFOUND);
	restore_undo_report_release(&ur);
	free(a);
	free(b);
	env_close(&e);
}

static int count_undone_row(const struct catalog_deletion *d, void *ctx)
{
	*(int *)ctx += d->undone_at != 0;
	return 0;
}

static void assert_gone(struct env *e, const char *repo, const char *ref)
{
	struct oci_manifest_info info;
	assert_int_equal(registry_manifest_head(e->plain, repo, ref, &info), RV_ENOTFOUND);
}

/* The dry run of an undo says what would come back and leaves the
 * registry, the journal and the run exactly as they were; the real undo
 * afterwards still works. A backup run's id is refused outright. */
static void test_undo_dry_run_and_wrong_run(void **state)
{
	(void)state;
	struct env e = { 0 };
	struct restore_undo_report ur;
	struct xfer_options xo = XFER_OPTIONS_INIT;
	struct oci_manifest_info info;
	struct catalog_run run_row;
	int64_t run = 0, id = 0;
	int marked = 0;
	char d1[OCI_DIGEST_MAX];

	env_open(&e, "undo-dry");
	char *a = stage(&e, "image");
	struct oci_manifest *m = NULL;
	check(registry_manifest_get(e.plain, a, "v1", &m));
	check(registry_manifest_put(e.plain, a, "stable", m->media_type, m->raw, m->raw_len));
	oci_manifest_free(m);
	int64_t backup = do_backup(&e, a);
	assert_true(backup > 0);

	const char *ta[] = { "v1", "stable" };
	check(catalog_run_start(e.cat, "prune", "[]", &run));
	delete_image(&e, a, "v1", d1);
	check(catalog_deletion_record(e.cat, run, need("RV_REG_PLAIN"), a, d1, ta, 2, "test", &id));
	check(catalog_deletion_confirm(e.cat, id, 1));

	/* The backup run: refused, nothing pushed. */
	assert_int_equal(restore_undo_run(e.cat, e.s, backup, &xo, &ur), RV_EINVALID);
	char *want = xasprintf("run %lld is a backup run, not a prune run", (long long)backup);
	assert_string_equal(error_msg(), want);
	free(want);
	restore_undo_report_release(&ur);
	assert_gone(&e, a, d1);

	/* Dry run, through a read-only catalog: any write would fail. */
	char *db = xasprintf("%s/catalog.db", e.dir);
	catalog *ro = NULL;
	check(catalog_open(&ro, db, CATALOG_READ));
	xo.plan_only = 1;
	check(restore_undo_run(ro, e.s, run, &xo, &ur));
	assert_int_equal(ur.dry_run, 1);
	assert_int_equal(ur.n_items, 1);
	assert_int_equal(ur.restored, 1);
	assert_int_equal(ur.failed, 0);
	assert_int_equal(ur.items[0].rc, 0);
	assert_int_equal(ur.items[0].n_tags, 2);
	restore_undo_report_release(&ur);
	catalog_close(ro);
	/* The same on the writable catalog: still nothing written. */
	check(restore_undo_run(e.cat, e.s, run, &xo, &ur));
	restore_undo_report_release(&ur);
	assert_gone(&e, a, "v1");
	assert_gone(&e, a, "stable");
	assert_gone(&e, a, d1);
	check(catalog_deletions(e.cat, run, count_undone_row, &marked));
	assert_int_equal(marked, 0);
	check(catalog_run_get(e.cat, run, &run_row));
	assert_int_equal(run_row.undone_at, 0);

	/* For real: both tags back, the row and the run marked. */
	xo.plan_only = 0;
	check(restore_undo_run(e.cat, e.s, run, &xo, &ur));
	assert_int_equal(ur.dry_run, 0);
	assert_int_equal(ur.restored, 1);
	restore_undo_report_release(&ur);
	check(registry_manifest_head(e.plain, a, "v1", &info));
	assert_string_equal(info.digest, d1);
	check(registry_manifest_head(e.plain, a, "stable", &info));
	assert_string_equal(info.digest, d1);
	check(catalog_deletions(e.cat, run, count_undone_row, &marked));
	assert_int_equal(marked, 1);
	check(catalog_run_get(e.cat, run, &run_row));
	assert_true(run_row.undone_at > 0);
	free(db);
	free(a);
	env_close(&e);
}

static void test_from_tarballs(void **state)
{
	(void)state;
	struct env e = { 0 };
	struct restore_report rep;
	struct xfer_options xo = XFER_OPTIONS_INIT;
	struct oci_manifest_info info;

	env_open(&e, "tar");
	/* skopeo's own oci-archive, named "foo". */
	char *tar = xasprintf("%s/skopeo.tar", e.dir);
	char *src = xasprintf("docker://%s/fx/multi:v1", need("RV_REG_PLAIN"));
	char *dst = xasprintf("oci-archive:%s:foo", tar);
	const char *copy[] = { "skopeo", "--policy", need("RV_SKOPEO_POLICY"), "copy", "-q", "--all",
	                       "--preserve-digests", "--src-tls-verify=false", src, dst, NULL };
	assert_int_equal(harness_run(copy, 120, NULL), 0);
	char *to = xasprintf("%s/%s/fromskopeo:v7", need("RV_REG_PLAIN"), e.base);
	check(restore_file(tar, "foo", to, e.s, &xo, 0, &rep));
	assert_string_equal(rep.digest, need("RV_FX_MULTI_DIGEST"));
	restore_report_release(&rep);
	char *repo = xasprintf("%s/fromskopeo", e.base);
	check(registry_manifest_head(e.plain, repo, "v7", &info));
	assert_string_equal(info.digest, need("RV_FX_MULTI_DIGEST"));
	free(repo);
	free(to);
	free(dst);
	free(src);
	free(tar);
	env_close(&e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_kind_by_tag_and_digest),
		cmocka_unit_test(test_fallbacks_say_which_store),
		cmocka_unit_test(test_corrupt_archive_blob_tags_nothing),
		cmocka_unit_test(test_unknown_reference_and_dry_run),
		cmocka_unit_test(test_undo_a_prune_run),
		cmocka_unit_test(test_undo_dry_run_and_wrong_run),
		cmocka_unit_test(test_from_tarballs),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
