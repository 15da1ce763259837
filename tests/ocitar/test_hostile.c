/*
 * test_hostile.c — archives that lie (issue 8), on the read path of
 * `regvault restore --from FILE.tar` (ocitar_open_file) and of
 * `regvault catalog rebuild --from DIR` (ocitar_open + backup_rebuild).
 *
 * The lies: path traversal (../x, absolute, hidden in a pax path record
 * or a GNU long name), symbolic and hard links, devices and FIFOs,
 * duplicate entries (the same blob twice, one copy wrong), wrong digests
 * (bytes not matching a blob's name; index.json naming a manifest or
 * config the tar does not hold), truncated volumes (in a blob, in a
 * header, before index.json), and a huge declared size. Each gives one
 * line naming the file and the entry (or, where the tar itself is sound,
 * fails the read of the lying blob with RV_EDIGEST), writes nothing
 * outside the test's directory, and leaves no verified copy of the image
 * in a rebuilt catalog (its copies table is read with SQLite). The
 * hostile tars are made here with libarchive, or by byte surgery on a
 * real volume written by ocitar. Runs under ASan in the sanitizer pass.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include <archive.h>
#include <archive_entry.h>
#include <sqlite3.h>

#include "backup/backup.h"
#include "catalog/catalog.h"
#include "helpers.h"
#include "ocitar/internal.h"
#include "ocitar/ocitar.h"
#include "tests/harness/harness.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/xalloc.h"
#include "util/banned.h"

#define REPO "reg.example.com/team/app"
#define CANARY "rv-hostile-canary"

struct fx {
	char *tmp;               /* the test's directory */
	char *work;              /* tmp/work: where stores and tars go */
	struct th_image img;
	char *good_vol;          /* a real volume written by ocitar */
	struct ocitar_commit_info info;
	char *index;             /* index.json naming the image as REPO:v1 */
};

static char *blob_name(const char *digest)
{
	size_t alg = strcspn(digest, ":");

	return xasprintf("blobs/%.*s/%s", (int)alg, digest, oci_digest_hex(digest));
}

static const struct ocitar_entry *entry_of(const struct fx *f, const char *digest)
{
	for (size_t i = 0; i < f->info.n_entries; i++)
		if (!strcmp(f->info.entries[i].digest, digest))
			return &f->info.entries[i];
	fail_msg("no entry for %s", digest);
	abort();   /* not reached: fail_msg jumps out */
}

static int setup(void **state)
{
	struct fx *f = xcalloc(1, sizeof(*f));
	struct oci_store *s = NULL;
	char *dir;

	f->tmp = harness_mkdtemp("rv-hostile");
	assert_non_null(f->tmp);
	f->work = fs_path_join(f->tmp, "work");
	assert_int_equal(fs_mkdir_p(f->work, 0700), 0);
	th_image_make(&f->img, 7, 2, "amd64", NULL, NULL);
	dir = fs_path_join(f->tmp, "good");
	assert_int_equal(ocitar_open(&s, dir, OCITAR_WRITE), 0);
	th_image_put(s, &f->img, REPO, "v1", 0);
	if (ocitar_commit(s, &f->info))
		fail_msg("commit: %s", error_msg());
	f->good_vol = fs_path_join(dir, f->info.volume);
	oci_store_close(s);
	free(dir);
	f->index = xasprintf("{\"schemaVersion\":2,\"mediaType\":\"%s\",\"manifests\":["
	                     "{\"mediaType\":\"%s\",\"digest\":\"%s\",\"size\":%zu,\"annotations\":"
	                     "{\"org.opencontainers.image.ref.name\":\"" REPO ":v1\"}}]}",
	                     OCI_MT_IMAGE_INDEX, OCI_MT_IMAGE_MANIFEST, f->img.m->digest,
	                     f->img.m->raw_len);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	char *canary = fs_path_join(f->tmp, CANARY);
	struct stat st;

	/* Nothing was ever extracted: the name every traversal aims at is
	 * not there, in the test's directory or its parent. */
	assert_int_not_equal(lstat(canary, &st), 0);
	free(canary);
	canary = xasprintf("/tmp/%s", CANARY);
	assert_int_not_equal(lstat(canary, &st), 0);
	free(canary);
	harness_rm_rf(f->tmp);
	free(f->tmp);
	free(f->work);
	free(f->good_vol);
	free(f->index);
	ocitar_commit_info_release(&f->info);
	th_image_free(&f->img);
	free(f);
	return 0;
}

/* --- Building tars ---------------------------------------------------------------------- */

struct ent {
	const char *name;
	unsigned type;           /* AE_IFREG, AE_IFLNK, ... */
	const void *data;
	size_t len;
	const char *link;
	int hard;
};

static void add(struct archive *a, const struct ent *x)
{
	struct archive_entry *e = archive_entry_new();

	archive_entry_set_pathname(e, x->name);
	archive_entry_set_filetype(e, x->type);
	archive_entry_set_perm(e, 0644);
	archive_entry_set_size(e, x->type == AE_IFREG && !x->link ? (la_int64_t)x->len : 0);
	if (x->link && x->hard)
		archive_entry_set_hardlink(e, x->link);
	else if (x->link)
		archive_entry_set_symlink(e, x->link);
	if (x->type == AE_IFCHR || x->type == AE_IFBLK)
		archive_entry_set_rdev(e, 0x0801);
	assert_int_equal(archive_write_header(a, e), ARCHIVE_OK);
	if (x->type == AE_IFREG && !x->link && x->len)
		assert_int_equal(archive_write_data(a, x->data, x->len), (la_ssize_t)x->len);
	archive_entry_free(e);
}

enum layout_part { WITH_MANIFEST = 1, WITH_CONFIG = 2, WITH_LAYERS = 4, WITH_ALL = 7 };

/* An OCI layout of the fixture's image (the parts asked for), then the
 * extra entries, then index.json; format "pax", "ustar" or "gnutar". */
static char *make_tar(struct fx *f, const char *name, const char *format, unsigned parts,
                      const struct ent *extra, size_t n_extra)
{
	char *path = fs_path_join(f->work, name), *n;
	struct archive *a = archive_write_new();
	struct ent e = { "oci-layout", AE_IFREG, OCI_LAYOUT_FILE, strlen(OCI_LAYOUT_FILE), NULL, 0 };

	if (!strcmp(format, "gnutar"))
		archive_write_set_format_gnutar(a);
	else if (!strcmp(format, "ustar"))
		archive_write_set_format_ustar(a);
	else
		archive_write_set_format_pax(a);
	assert_int_equal(archive_write_open_filename(a, path), ARCHIVE_OK);
	add(a, &e);
	if (parts & WITH_MANIFEST) {
		n = blob_name(f->img.m->digest);
		add(a, &(struct ent){ n, AE_IFREG, f->img.m->raw, f->img.m->raw_len, NULL, 0 });
		free(n);
	}
	if (parts & WITH_CONFIG) {
		n = blob_name(f->img.m->config.digest);
		add(a, &(struct ent){ n, AE_IFREG, f->img.config, strlen(f->img.config), NULL, 0 });
		free(n);
	}
	for (size_t i = 0; (parts & WITH_LAYERS) && i < f->img.n_layers; i++) {
		n = blob_name(f->img.m->layers[i].digest);
		add(a, &(struct ent){ n, AE_IFREG, f->img.layer[i], f->img.layer_len[i], NULL, 0 });
		free(n);
	}
	for (size_t i = 0; i < n_extra; i++)
		add(a, &extra[i]);
	add(a, &(struct ent){ "index.json", AE_IFREG, f->index, strlen(f->index), NULL, 0 });
	assert_int_equal(archive_write_close(a), ARCHIVE_OK);
	archive_write_free(a);
	return path;
}

/* A copy of the good volume with surgery applied by the caller. */
static char *copy_good(struct fx *f, const char *name)
{
	size_t len;
	char *data = harness_read_file(f->good_vol, &len), *path = fs_path_join(f->work, name);

	assert_non_null(data);
	assert_int_equal(harness_write_file(path, data, len), 0);
	free(data);
	return path;
}

static void poke(const char *path, int64_t off, unsigned char xor)
{
	int fd = open(path, O_RDWR);
	unsigned char c;

	assert_true(fd >= 0);
	assert_int_equal(pread(fd, &c, 1, off), 1);
	c ^= xor;
	assert_int_equal(pwrite(fd, &c, 1, off), 1);
	close(fd);
}

/* The ustar header of the entry whose data starts at data_off: the block
 * right before it (ocitar writes no pax header for small blobs). */
static void set_ustar_size(const char *path, int64_t data_off, const char *octal11)
{
	int fd = open(path, O_RDWR);
	unsigned char h[512];
	unsigned sum = 0;

	assert_true(fd >= 0);
	assert_int_equal(pread(fd, h, 512, data_off - 512), 512);
	assert_memory_equal(h + 257, "ustar", 5);
	memcpy(h + 124, octal11, 11);
	memset(h + 148, ' ', 8);
	for (int i = 0; i < 512; i++)
		sum += h[i];
	snprintf((char *)h + 148, 8, "%06o", sum);
	h[155] = ' ';
	assert_int_equal(pwrite(fd, h, 512, data_off - 512), 512);
	close(fd);
}

/* A store directory whose only volume is the file at tar. */
static char *store_of(struct fx *f, const char *name, const char *tar)
{
	char *dir = xasprintf("%s/store-%s", f->work, name), *vdir = fs_path_join(dir, "volumes");
	char *vol = fs_path_join(vdir, "000001-20260101T000000Z.tar");
	size_t len;
	char *data = harness_read_file(tar, &len);

	assert_int_equal(fs_mkdir_p(vdir, 0700), 0);
	assert_int_equal(harness_write_file(vol, data, len), 0);
	free(data);
	free(vol);
	free(vdir);
	return dir;
}

/* --- What a lie must lead to ---------------------------------------------------------------- */

static int one_line_naming(const char *msg, const char *a, const char *b)
{
	return msg && *msg && !strchr(msg, '\n') && (!a || strstr(msg, a)) && (!b || strstr(msg, b));
}

/* Rows of a rebuilt catalog's copies naming digest; store_refs rows. */
static int rows(const char *db, const char *table, const char *digest)
{
	sqlite3 *h = NULL;
	sqlite3_stmt *st = NULL;
	char sql[128];
	int n;

	if (access(db, F_OK))
		return 0;
	assert_int_equal(sqlite3_open_v2(db, &h, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM %s%s", table, digest ? " WHERE digest=?1" : "");
	assert_int_equal(sqlite3_prepare_v2(h, sql, -1, &st, NULL), SQLITE_OK);
	if (digest)
		sqlite3_bind_text(st, 1, digest, -1, SQLITE_STATIC);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	n = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(h);
	return n;
}

struct rebuilt {
	int rc;
	char msg[1024];
	struct rebuild_report rep;
	char *db;
};

/* `catalog rebuild --from dir` into a fresh catalog. */
static void rebuild(struct fx *f, const char *dir, struct rebuilt *out)
{
	catalog *cat = NULL;
	static int n;

	memset(out, 0, sizeof(*out));
	out->db = xasprintf("%s/cat-%d.db", f->work, ++n);
	assert_int_equal(catalog_open(&cat, out->db, CATALOG_WRITE), 0);
	out->rc = backup_rebuild(cat, dir, &out->rep);
	snprintf(out->msg, sizeof(out->msg), "%s", out->rc ? error_msg() : "");
	catalog_close(cat);
}

/* No verified copy of the image's manifest, nor of `blob` when given. */
static void nothing_verified(const struct rebuilt *r, const struct fx *f, const char *blob,
                             const char *what)
{
	if (rows(r->db, "copies", f->img.m->digest) || (blob && rows(r->db, "copies", blob)))
		fail_msg("%s: the rebuilt catalog records a verified copy", what);
}

/* A tar refused at open, as a tarball and as a store volume; the rebuild
 * fails the same way and records nothing. */
static void refused(struct fx *f, const char *what, const char *tar, int code,
                    const char *entry, const char *why)
{
	struct oci_store *s = NULL;
	struct rebuilt r;
	char *dir;
	int rc = ocitar_open_file(&s, tar);

	if (rc != code || !one_line_naming(error_msg(), tar, entry) ||
	    !one_line_naming(error_msg(), why, NULL))
		fail_msg("%s (file): rc %d, \"%s\"", what, rc, error_msg());
	if (getenv("RV_VERBOSE"))
		print_message("%s: %s\n", what, error_msg());
	assert_null(s);
	dir = store_of(f, what, tar);
	rc = ocitar_open(&s, dir, OCITAR_READ);
	if (rc != code || !one_line_naming(error_msg(), "000001-20260101T000000Z.tar", entry))
		fail_msg("%s (store): rc %d, \"%s\"", what, rc, error_msg());
	assert_null(s);
	rebuild(f, dir, &r);
	if (r.rc != code || !one_line_naming(r.msg, entry, why))
		fail_msg("%s (rebuild): rc %d, \"%s\"", what, r.rc, r.msg);
	if (getenv("RV_VERBOSE"))
		print_message("%s (rebuild): %s\n", what, r.msg);
	nothing_verified(&r, f, NULL, what);
	assert_int_equal(rows(r.db, "store_refs", NULL), 0);
	free(r.db);
	free(dir);
}

/* --- The lies ------------------------------------------------------------------------ */

static void test_control_tar_is_accepted(void **state)
{
	struct fx *f = *state;
	char *tar = make_tar(f, "ok.tar", "pax", WITH_ALL, NULL, 0), *dir;
	struct oci_store *s = NULL;
	struct oci_manifest *m = NULL;
	struct rebuilt r;

	/* The checks below would see a verified copy if there were one. */
	if (ocitar_open_file(&s, tar))
		fail_msg("%s", error_msg());
	assert_int_equal(oci_store_manifest_get(s, REPO, "v1", &m), 0);
	oci_manifest_free(m);
	oci_store_close(s);
	dir = store_of(f, "ok", tar);
	rebuild(f, dir, &r);
	if (r.rc)
		fail_msg("%s", r.msg);
	assert_int_equal(r.rep.images, 1);
	assert_int_equal(rows(r.db, "copies", f->img.m->digest), 1);
	free(r.db);
	free(dir);
	free(tar);
}

static void test_path_traversal(void **state)
{
	struct fx *f = *state;
	char longdots[400];
	static const struct {
		const char *file, *format, *why;
	} fmts[] = {
		{ "dotdot.tar", "ustar", "parent directory reference" },
		{ "dotdot-gnu.tar", "gnutar", "parent directory reference" },
	};

	for (size_t i = 0; i < 2; i++) {
		const struct ent e = { "../" CANARY, AE_IFREG, "x", 1, NULL, 0 };
		char *tar = make_tar(f, fmts[i].file, fmts[i].format, WITH_ALL, &e, 1);
		refused(f, fmts[i].file, tar, RV_EINVALID, "../" CANARY, fmts[i].why);
		free(tar);
	}
	{
		const struct ent e = { "blobs/../../" CANARY, AE_IFREG, "x", 1, NULL, 0 };
		char *tar = make_tar(f, "inner.tar", "ustar", WITH_ALL, &e, 1);
		refused(f, "inner", tar, RV_EINVALID, "blobs/../../" CANARY, "parent directory");
		free(tar);
	}
	{
		char *abs = xasprintf("%s/%s", f->tmp, CANARY);
		const struct ent e = { abs, AE_IFREG, "x", 1, NULL, 0 };
		char *tar = make_tar(f, "abs.tar", "gnutar", WITH_ALL, &e, 1);
		refused(f, "abs", tar, RV_EINVALID, abs, "absolute path");
		free(tar);
		free(abs);
	}
	/* Names too long for ustar: the real name sits in a pax "path" record
	 * or a GNU ././@LongLink entry, after a harmless-looking one. */
	snprintf(longdots, sizeof(longdots), "blobs/sha256/%0200d/../../../../" CANARY, 0);
	for (int gnu = 0; gnu < 2; gnu++) {
		const struct ent e = { longdots, AE_IFREG, "x", 1, NULL, 0 };
		char *tar = make_tar(f, gnu ? "long-gnu.tar" : "long-pax.tar", gnu ? "gnutar" : "pax",
		                     WITH_ALL, &e, 1);
		refused(f, gnu ? "long-gnu" : "long-pax", tar, RV_EINVALID, "../../" CANARY,
		        "parent directory reference");
		free(tar);
	}
}

static void test_links_and_devices(void **state)
{
	struct fx *f = *state;
	char *cfg = blob_name(f->img.m->config.digest);
	char *l0 = blob_name(f->img.m->layers[0].digest);
	const struct {
		struct ent e;
		unsigned parts;
		const char *why;
	} cases[] = {
		/* A link in a blob's place, pointing out or at another entry. */
		{ { cfg, AE_IFLNK, NULL, 0, "/etc/passwd", 0 }, WITH_MANIFEST | WITH_LAYERS,
		  "symbolic link" },
		{ { cfg, AE_IFLNK, NULL, 0, "../../" CANARY, 0 }, WITH_MANIFEST | WITH_LAYERS,
		  "symbolic link" },
		{ { "blobs/sha256", AE_IFLNK, NULL, 0, "/etc", 0 }, WITH_ALL, "symbolic link" },
		{ { cfg, AE_IFREG, NULL, 0, l0, 1 }, WITH_MANIFEST | WITH_LAYERS, "hard link" },
		{ { cfg, AE_IFREG, NULL, 0, "../../" CANARY, 1 }, WITH_MANIFEST | WITH_LAYERS,
		  "hard link" },
		{ { "index.json", AE_IFLNK, NULL, 0, "/etc/passwd", 0 }, WITH_ALL, "symbolic link" },
		{ { cfg, AE_IFCHR, NULL, 0, NULL, 0 }, WITH_MANIFEST | WITH_LAYERS, "not a regular file" },
		{ { cfg, AE_IFBLK, NULL, 0, NULL, 0 }, WITH_MANIFEST | WITH_LAYERS, "not a regular file" },
		{ { "oci-layout", AE_IFIFO, NULL, 0, NULL, 0 }, WITH_ALL, "not a regular file" },
		{ { "blobs/sha256/dir/", AE_IFDIR, NULL, 0, NULL, 0 }, WITH_ALL, "unexpected directory" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char name[32];
		snprintf(name, sizeof(name), "link-%zu.tar", i);
		char *tar = make_tar(f, name, "pax", cases[i].parts, &cases[i].e, 1);
		refused(f, name, tar, RV_EINVALID, cases[i].e.name, cases[i].why);
		free(tar);
	}
	free(cfg);
	free(l0);
}

/* The same blob twice, one copy wrong: an extraction keeps the last, an
 * index by digest the first; neither may be trusted. Our writer never
 * stores a blob twice in a volume, so the tar is refused either way. */
static void test_duplicate_entries(void **state)
{
	struct fx *f = *state;
	char *l0 = blob_name(f->img.m->layers[0].digest);
	unsigned char *bad = xmalloc(f->img.layer_len[0]);

	memcpy(bad, f->img.layer[0], f->img.layer_len[0]);
	bad[10] ^= 1;
	for (int bad_first = 0; bad_first < 3; bad_first++) {
		/* 0: good, then bad; 1: bad, then good; 2: the same bytes twice */
		const struct ent twice[2] = {
			{ l0, AE_IFREG, bad_first == 1 ? bad : f->img.layer[0], f->img.layer_len[0], NULL, 0 },
			{ l0, AE_IFREG, bad_first == 0 ? bad : f->img.layer[0], f->img.layer_len[0], NULL, 0 },
		};
		char name[32];
		snprintf(name, sizeof(name), "dup-%d.tar", bad_first);
		char *tar = make_tar(f, name, "pax", WITH_MANIFEST | WITH_CONFIG, twice, 2);
		refused(f, name, tar, RV_EINVALID, l0, "appears twice");
		free(tar);
	}
	free(bad);
	free(l0);
}

/* A sound tar whose bytes lie: blobs that do not hash to their names, an
 * index.json naming what the tar does not hold. Opening succeeds (only
 * headers are read); every read of the lie fails, and a rebuild records
 * no verified copy of the image. */
static void test_wrong_digests(void **state)
{
	struct fx *f = *state;
	const struct ocitar_entry *layer = entry_of(f, f->img.m->layers[1].digest);
	const struct ocitar_entry *man = entry_of(f, f->img.m->digest);
	struct oci_store *s = NULL;
	struct oci_manifest *m = NULL;
	struct buf b = BUF_INIT;
	struct rebuilt r;
	char *tar, *dir;

	/* A layer's bytes are not what its name says. */
	tar = copy_good(f, "badlayer.tar");
	poke(tar, layer->offset + layer->length / 2, 0x20);
	assert_int_equal(ocitar_open_file(&s, tar), 0);
	assert_int_equal(th_get(s, layer->digest, layer->length, &b), RV_EDIGEST);
	assert_true(one_line_naming(error_msg(), layer->digest, "bytes hash to"));
	oci_store_close(s);
	dir = store_of(f, "badlayer", tar);
	rebuild(f, dir, &r);
	if (r.rc)
		fail_msg("rebuild: %s", r.msg);
	assert_int_equal(r.rep.bad, 1);
	assert_int_equal(r.rep.images, 0);
	nothing_verified(&r, f, layer->digest, "bad layer");
	free(r.db);
	free(dir);
	free(tar);

	/* The manifest's bytes are not what its name says. */
	tar = copy_good(f, "badmanifest.tar");
	poke(tar, man->offset + 5, 0x01);
	assert_int_equal(ocitar_open_file(&s, tar), 0);
	assert_int_equal(oci_store_manifest_get(s, REPO, "v1", &m), RV_EDIGEST);
	assert_null(m);
	assert_true(one_line_naming(error_msg(), man->digest, tar));
	oci_store_close(s);
	dir = store_of(f, "badmanifest", tar);
	rebuild(f, dir, &r);
	if (r.rc)
		fail_msg("rebuild: %s", r.msg);
	assert_int_equal(r.rep.bad, 1);
	assert_int_equal(r.rep.images, 0);
	assert_int_equal(r.rep.skipped, 1);
	nothing_verified(&r, f, NULL, "bad manifest");
	free(r.db);
	free(dir);
	free(tar);

	/* index.json names a manifest the tar does not hold, then one whose
	 * config it does not hold. */
	static const unsigned missing[2] = { WITH_CONFIG | WITH_LAYERS, WITH_MANIFEST | WITH_LAYERS };
	for (int i = 0; i < 2; i++) {
		char name[32];
		snprintf(name, sizeof(name), "missing-%d.tar", i);
		tar = make_tar(f, name, "pax", missing[i], NULL, 0);
		assert_int_equal(ocitar_open_file(&s, tar), 0);
		if (i == 0) {
			assert_int_equal(oci_store_manifest_get(s, REPO, "v1", &m), RV_ENOTFOUND);
			assert_true(one_line_naming(error_msg(), f->img.m->digest, "not found"));
		} else {
			assert_int_equal(th_get(s, f->img.m->config.digest, f->img.m->config.size, &b),
			                 RV_ENOTFOUND);
			assert_true(one_line_naming(error_msg(), f->img.m->config.digest, "not found"));
		}
		oci_store_close(s);
		dir = store_of(f, name, tar);
		rebuild(f, dir, &r);
		if (r.rc)
			fail_msg("rebuild: %s", r.msg);
		assert_int_equal(r.rep.images, 0);
		assert_int_equal(r.rep.skipped, i == 0 ? 1 : 0);
		nothing_verified(&r, f, NULL, name);
		free(r.db);
		free(dir);
		free(tar);
	}
	buf_release(&b);
}

/* A volume cut short: in a blob, in a header, or cleanly before its
 * index.json (a tar may end without its end-of-archive blocks). */
static void test_truncated_volumes(void **state)
{
	struct fx *f = *state;
	const struct ocitar_entry *layer = entry_of(f, f->img.m->layers[0].digest);
	int64_t cuts[3];
	const char *why[3] = { "truncated", "not a valid tar", "no index.json" };
	const char *entry[3] = { NULL, NULL, NULL };
	char *l0 = blob_name(layer->digest);
	int64_t last = 0;

	for (size_t i = 0; i < f->info.n_entries; i++)
		if (f->info.entries[i].offset + f->info.entries[i].length > last)
			last = f->info.entries[i].offset + f->info.entries[i].length;
	cuts[0] = layer->offset + layer->length / 2;
	cuts[1] = layer->offset - 512 + 200;          /* inside the layer's header */
	cuts[2] = (last + 511) / 512 * 512;             /* after the last blob */
	entry[0] = l0;
	for (int i = 0; i < 3; i++) {
		char name[32];
		snprintf(name, sizeof(name), "cut-%d.tar", i);
		char *tar = copy_good(f, name);
		assert_int_equal(truncate(tar, cuts[i]), 0);
		refused(f, name, tar, RV_EINVALID, entry[i], why[i]);
		free(tar);
	}
	free(l0);
}

/* An older volume of a store cut cleanly after its first blob (a tar may
 * end without its end-of-archive blocks, and only the newest volume must
 * hold an index.json): the store opens, the rebuild salvages the image
 * whose blobs are all there and records no verified copy of the one that
 * lost blobs (or its manifest), with a warning. */
static void test_older_volume_cut_salvage(void **state)
{
	struct fx *f = *state;
	char *dir = fs_path_join(f->work, "two");
	struct th_image other;
	struct oci_store *s = NULL;
	struct ocitar_commit_info info = { 0 };
	struct strlist vols = STRLIST_INIT;
	struct rebuilt r;
	char *vol1;

	th_image_make(&other, 8, 1, "arm64", NULL, NULL);
	assert_int_equal(ocitar_open(&s, dir, OCITAR_WRITE), 0);
	th_image_put(s, &f->img, REPO, "v1", 0);
	assert_int_equal(ocitar_commit(s, &info), 0);
	ocitar_commit_info_release(&info);
	th_image_put(s, &other, REPO, "v2", 0);
	assert_int_equal(ocitar_commit(s, &info), 0);
	ocitar_commit_info_release(&info);
	assert_int_equal(ocitar_volumes(s, &vols), 0);
	assert_int_equal(vols.n, 2);
	vol1 = fs_path_join(dir, vols.v[0]);
	oci_store_close(s);
	/* Cut volume 1 after its first entry's data (rounded up to a block). */
	assert_int_equal(ocitar_open_file(&s, vol1), 0);
	{
		const struct ocitar_loc *first = NULL;
		for (size_t i = 0; i < ((struct ocitar *)s)->blobs.cap; i++) {
			const struct ocitar_loc *l = &((struct ocitar *)s)->blobs.slots[i];
			if (l->digest && (!first || l->offset < first->offset))
				first = l;
		}
		assert_non_null(first);
		assert_int_equal(truncate(vol1, (first->offset + first->length + 511) / 512 * 512), 0);
	}
	oci_store_close(s);
	rebuild(f, dir, &r);
	if (r.rc)
		fail_msg("rebuild: %s", r.msg);
	assert_int_equal(r.rep.volumes, 2);
	assert_int_equal(r.rep.images, 1);
	nothing_verified(&r, f, NULL, "cut volume 1");
	assert_int_equal(rows(r.db, "copies", other.m->digest), 1);
	free(r.db);
	free(vol1);
	free(dir);
	strlist_release(&vols);
	th_image_free(&other);
}

/* A size no file has: a blob's header claims 8 GiB in a volume of a few
 * kB. (Nothing is allocated or read for it: the scan compares it with the
 * file's size.) */
static void test_huge_declared_size(void **state)
{
	struct fx *f = *state;
	const struct ocitar_entry *layer = entry_of(f, f->img.m->layers[0].digest);
	char *l0 = blob_name(layer->digest), *tar = copy_good(f, "huge.tar");

	set_ustar_size(tar, layer->offset, "77777777777");
	refused(f, "huge", tar, RV_EINVALID, l0, "truncated");
	free(tar);
	free(l0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_control_tar_is_accepted, setup, teardown),
		cmocka_unit_test_setup_teardown(test_path_traversal, setup, teardown),
		cmocka_unit_test_setup_teardown(test_links_and_devices, setup, teardown),
		cmocka_unit_test_setup_teardown(test_duplicate_entries, setup, teardown),
		cmocka_unit_test_setup_teardown(test_wrong_digests, setup, teardown),
		cmocka_unit_test_setup_teardown(test_truncated_volumes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_older_volume_cut_salvage, setup, teardown),
		cmocka_unit_test_setup_teardown(test_huge_declared_size, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
