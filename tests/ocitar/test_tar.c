/* Unit tests for the tar side of ocitar/: offsets found in tars written by
 * GNU tar, headers for sizes of 8 GiB and more, failed places turned into
 * valid entries, and the entries a volume or tarball is refused for. */
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

#include "helpers.h"
#include "ocitar/internal.h"
#include "ocitar/ocitar.h"
#include "tests/harness/harness.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/xalloc.h"
#include "util/banned.h"

#define GIB ((int64_t)1 << 30)
#define EMPTY_INDEX "{\"schemaVersion\":2,\"manifests\":[]}"

static int setup(void **state)
{
	*state = harness_mkdtemp("rv-ocitar-tar");
	assert_non_null(*state);
	return 0;
}

static int teardown(void **state)
{
	harness_rm_rf(*state);
	free(*state);
	return 0;
}

static void write_file(const char *dir, const char *name, const void *data, size_t len)
{
	char *p = fs_path_join(dir, name), *slash = strrchr(p, '/');

	*slash = '\0';
	assert_int_equal(fs_mkdir_p(p, 0755), 0);
	*slash = '/';
	assert_int_equal(harness_write_file(p, data, len), 0);
	free(p);
}

static char *blob_name(const char *digest)
{
	return xasprintf("blobs/%.*s/%s", (int)(strchr(digest, ':') - digest), digest,
	                 oci_digest_hex(digest));
}

/* --- Offsets in tars we did not write ------------------------------------------------------ */

struct layout {
	unsigned char *data[4];
	size_t len[4];
	char digest[4][OCI_DIGEST_MAX];
	char *name[4];
};

static void make_layout(const char *dir, struct layout *l)
{
	static const size_t sizes[4] = { 0, 1000, 100000, 5000 };

	write_file(dir, "oci-layout", OCI_LAYOUT_FILE, strlen(OCI_LAYOUT_FILE));
	write_file(dir, "index.json", EMPTY_INDEX, strlen(EMPTY_INDEX));
	for (int i = 0; i < 4; i++) {
		l->len[i] = sizes[i];
		l->data[i] = th_random(40 + (unsigned)i, sizes[i]);
		oci_digest_compute(l->digest[i], i == 3 ? OCI_SHA512 : OCI_SHA256, l->data[i],
		                   sizes[i]);
		l->name[i] = blob_name(l->digest[i]);
		write_file(dir, l->name[i], l->data[i], sizes[i]);
	}
}

struct offs {
	int fd;
	size_t n;
};

/* Each offset ocitar reports points at the first data byte. */
static int check_offset(const struct ocitar_entry *e, void *ctx)
{
	struct offs *o = ctx;
	unsigned char *p = xmalloc((size_t)e->length + 1);
	char got[OCI_DIGEST_MAX];

	assert_int_equal(pread(o->fd, p, (size_t)e->length, e->offset), e->length);
	oci_digest_compute(got, oci_digest_alg_of(e->digest), p, (size_t)e->length);
	assert_string_equal(got, e->digest);
	free(p);
	o->n++;
	return 0;
}

static void check_gnu_tar(const char *tmp, const char *src, struct layout *l, const char *format,
                          int with_sha512)
{
	char *tar = xasprintf("%s/%s.tar", tmp, format), *fmt = xasprintf("--format=%s", format);
	const char *cmd[] = { "tar", "-C", src, fmt, "-cf", tar, "oci-layout", "index.json",
	                      l->name[0], l->name[1], l->name[2], with_sha512 ? l->name[3] : NULL,
	                      NULL };
	struct oci_store *s = NULL;
	struct offs o = { -1, 0 };
	struct buf b = BUF_INIT;

	assert_int_equal(harness_run(cmd, 30, NULL), 0);
	if (ocitar_open_file(&s, tar))
		fail_msg("%s: %s", format, error_msg());
	for (int i = 0; i < 3 + with_sha512; i++) {
		assert_int_equal(th_get(s, l->digest[i], (int64_t)l->len[i], &b), 0);
		assert_int_equal(b.len, l->len[i]);
	}
	o.fd = open(tar, O_RDONLY);
	assert_int_equal(ocitar_scan_volume(s, tar, check_offset, &o), 0);
	assert_int_equal(o.n, 3 + (size_t)with_sha512);
	close(o.fd);
	oci_store_close(s);
	buf_release(&b);
	free(tar);
	free(fmt);
}

static void test_gnu_tar_offsets(void **state)
{
	const char *tmp = *state;
	char *src = fs_path_join(tmp, "layout");
	struct layout l;

	make_layout(src, &l);
	check_gnu_tar(tmp, src, &l, "posix", 1);
	check_gnu_tar(tmp, src, &l, "gnu", 1);
	check_gnu_tar(tmp, src, &l, "ustar", 0);
	for (int i = 0; i < 4; i++) {
		free(l.data[i]);
		free(l.name[i]);
	}
	free(src);
}

/* --- Headers we write ------------------------------------------------------------------------ */

static void read_header(const struct buf *h, int64_t *size, int64_t *data_off, const char **name)
{
	struct archive *a = archive_read_new();
	struct archive_entry *e;
	static char got[256];

	archive_read_support_format_tar(a);
	assert_int_equal(archive_read_open_memory(a, h->ptr, h->len), ARCHIVE_OK);
	assert_int_equal(archive_read_next_header(a, &e), ARCHIVE_OK);
	*size = archive_entry_size(e);
	*data_off = archive_filter_bytes(a, 0);
	snprintf(got, sizeof(got), "%s", archive_entry_pathname(e));
	*name = got;
	archive_read_free(a);
}

static void test_big_sizes(void **state)
{
	struct buf h = BUF_INIT;
	int64_t size, off;
	const char *name;
	char n512[160];

	(void)state;
	/* Up to 8 GiB - 1: plain ustar, one block. */
	assert_int_equal(ocitar_hdr_make(&h, "blobs/sha256/abc", 8 * GIB - 1, 0), 0);
	assert_int_equal(h.len, 512);
	read_header(&h, &size, &off, &name);
	assert_int_equal(size, 8 * GIB - 1);
	assert_int_equal(off, 512);
	/* From 8 GiB on the size goes in a pax record. */
	buf_reset(&h);
	assert_int_equal(ocitar_hdr_make(&h, "blobs/sha256/abc", 10 * GIB, 0), 0);
	assert_int_equal(h.len, 1536);
	assert_non_null(memmem(h.ptr, h.len, "size=10737418240\n", 17));
	read_header(&h, &size, &off, &name);
	assert_int_equal(size, 10 * GIB);
	assert_int_equal(off, 1536);
	assert_string_equal(name, "blobs/sha256/abc");
	/* A sha512 name does not fit ustar: pax path record. */
	buf_reset(&h);
	snprintf(n512, sizeof(n512), "blobs/sha512/%0128d", 7);
	assert_int_equal(ocitar_hdr_make(&h, n512, 5, 0), 0);
	assert_int_equal(h.len, 1536);
	read_header(&h, &size, &off, &name);
	assert_string_equal(name, n512);
	assert_int_equal(size, 5);
	assert_int_equal(off, 1536);
	buf_release(&h);
}

struct found {
	char digest[OCI_DIGEST_MAX];
	int64_t offset;
};

static int found_blob(void *ctx, const char *digest, int64_t offset, int64_t length)
{
	struct found *f = ctx;

	(void)length;
	snprintf(f->digest, sizeof(f->digest), "%s", digest);
	f->offset = offset;
	return 0;
}

static char *find_temp(const char *vdir)
{
	DIR *d = opendir(vdir);
	struct dirent *de;
	char *p = NULL;

	assert_non_null(d);
	while ((de = readdir(d)) != NULL)
		if (!strncmp(de->d_name, ".tmp-", 5))
			p = fs_path_join(vdir, de->d_name);
	closedir(d);
	return p;
}

/* A failed 9 GiB place becomes a valid ".unused" entry (pax size record,
 * header length found by the fixed-point loop) and the entry after it
 * stays where it was. The file is sparse: nothing of the 9 GiB is written. */
static void test_dead_huge(void **state)
{
	const char *tmp = *state;
	char *dir = fs_path_join(tmp, "store"), *vdir = fs_path_join(dir, "volumes"), *t;
	struct oci_store *s = NULL;
	struct oci_descriptor big, small;
	struct oci_sink sink;
	struct found f = { "", 0 };
	struct ocitar_scan_cb cb = { found_blob, NULL, &f };
	struct strlist names = STRLIST_INIT;
	void *h;

	assert_int_equal(ocitar_open(&s, dir, OCITAR_WRITE), 0);
	th_desc(&big, "whatever", 8);
	big.size = 9 * GIB;
	assert_int_equal(s->ops->blob_writer_open(s, &big, &sink, &h), 0);
	assert_int_equal(sink.write(sink.ctx, "partial", 7), 0);
	assert_int_equal(th_put(s, "after", 5), 0);
	assert_int_equal(s->ops->blob_writer_close(s, h, 0), 0);
	t = find_temp(vdir);
	assert_non_null(t);
	assert_int_equal(ocitar_scan(t, "temp", &cb), 0);
	th_desc(&small, "after", 5);
	assert_string_equal(f.digest, small.digest);
	/* the 9 GiB header itself needs a pax size record: 3 blocks */
	assert_int_equal(f.offset, 1536 + 9 * GIB + 512);
	assert_int_equal(th_tar_names(t, &names), 0);
	assert_int_equal(names.n, 2);
	assert_string_equal(names.v[0], ".unused/1");
	strlist_release(&names);
	oci_store_close(s);
	free(t);
	free(vdir);
	free(dir);
}

/* --- Refusals ------------------------------------------------------------------------------------ */

struct ent {
	const char *name;
	unsigned type;
	const char *link;     /* symlink target or hardlink source */
	int hard;
};

static void add(struct archive *a, const char *name, unsigned type, const void *data, size_t len,
                const char *link, int hard)
{
	struct archive_entry *e = archive_entry_new();

	archive_entry_set_pathname(e, name);
	archive_entry_set_filetype(e, type);
	archive_entry_set_perm(e, 0644);
	archive_entry_set_size(e, type == AE_IFREG && !link ? (la_int64_t)len : 0);
	if (link && hard)
		archive_entry_set_hardlink(e, link);
	else if (link)
		archive_entry_set_symlink(e, link);
	if (type == AE_IFCHR)
		archive_entry_set_rdev(e, 0x0501);
	assert_int_equal(archive_write_header(a, e), ARCHIVE_OK);
	if (type == AE_IFREG && !link && len)
		assert_int_equal(archive_write_data(a, data, len), (la_ssize_t)len);
	archive_entry_free(e);
}

/* A valid layout plus one more entry. */
static void bad_tar(const char *path, const struct ent *bad)
{
	struct archive *a = archive_write_new();

	archive_write_set_format_pax_restricted(a);
	assert_int_equal(archive_write_open_filename(a, path), ARCHIVE_OK);
	add(a, "oci-layout", AE_IFREG, OCI_LAYOUT_FILE, strlen(OCI_LAYOUT_FILE), NULL, 0);
	add(a, "index.json", AE_IFREG, EMPTY_INDEX, strlen(EMPTY_INDEX), NULL, 0);
	add(a, bad->name, bad->type, "data", 4, bad->link, bad->hard);
	assert_int_equal(archive_write_close(a), ARCHIVE_OK);
	archive_write_free(a);
}

static void test_unsafe_entries(void **state)
{
	const char *tmp = *state;
	char hexname[160], upper[160];
	const struct ent bad[] = {
		{ "../x", AE_IFREG, NULL, 0 },
		{ "blobs/../../etc/x", AE_IFREG, NULL, 0 },
		{ "/abs/x", AE_IFREG, NULL, 0 },
		{ hexname, AE_IFLNK, "/etc/passwd", 0 },
		{ hexname, AE_IFREG, "oci-layout", 1 },
		{ "blobs/sha256/nothex", AE_IFREG, NULL, 0 },
		{ upper, AE_IFREG, NULL, 0 },
		{ "blobs/md5/0123456789abcdef0123456789abcdef", AE_IFREG, NULL, 0 },
		{ "etc/passwd", AE_IFREG, NULL, 0 },
		{ "etc", AE_IFDIR, NULL, 0 },
		{ "blobs/sha256/x/y", AE_IFREG, NULL, 0 },
		{ "fifo", AE_IFIFO, NULL, 0 },
		{ "blobs/sha256/dev", AE_IFCHR, NULL, 0 },
	};
	char *path = fs_path_join(tmp, "bad.tar");

	snprintf(hexname, sizeof(hexname), "blobs/sha256/%064d", 0);
	snprintf(upper, sizeof(upper), "blobs/sha256/%064d", 0);
	upper[13] = 'A';
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct oci_store *s = NULL;
		int rc;

		bad_tar(path, &bad[i]);
		rc = ocitar_open_file(&s, path);
		if (rc != RV_EINVALID)
			fail_msg("entry %zu \"%s\": rc %d (%s)", i, bad[i].name, rc, error_msg());
		assert_null(s);
		if (!th_contains(error_msg(), bad[i].name) || !th_contains(error_msg(), path))
			fail_msg("message does not name \"%s\": %s", bad[i].name, error_msg());
	}
	free(path);
}

/* The same check for a store volume: the store is refused, naming both. */
static void test_unsafe_volume(void **state)
{
	const char *tmp = *state;
	char *dir = fs_path_join(tmp, "store"), *vdir = fs_path_join(dir, "volumes");
	char *vol = fs_path_join(vdir, "000001-20260101T000000Z.tar");
	const struct ent e = { "../../escape", AE_IFREG, NULL, 0 };
	struct oci_store *s = NULL;

	assert_int_equal(fs_mkdir_p(vdir, 0700), 0);
	bad_tar(vol, &e);
	assert_int_equal(ocitar_open(&s, dir, OCITAR_READ), RV_EINVALID);
	assert_true(th_contains(error_msg(), "000001-20260101T000000Z.tar"));
	assert_true(th_contains(error_msg(), "../../escape"));
	assert_int_equal(ocitar_open(&s, dir, OCITAR_WRITE), RV_EINVALID);
	assert_null(s);
	free(vol);
	free(vdir);
	free(dir);
}

static void test_not_plain_tar(void **state)
{
	const char *tmp = *state;
	char *src = fs_path_join(tmp, "layout"), *tgz = fs_path_join(tmp, "x.tar.gz");
	char *junk = fs_path_join(tmp, "junk.tar"), *noidx = fs_path_join(tmp, "noidx.tar");
	const char *cmd[] = { "tar", "-C", src, "-czf", tgz, "oci-layout", "index.json", NULL };
	const char *cmd2[] = { "tar", "-C", src, "-cf", noidx, "oci-layout", NULL };
	unsigned char *r = th_random(1, 4096);
	struct oci_store *s = NULL;

	write_file(src, "oci-layout", OCI_LAYOUT_FILE, strlen(OCI_LAYOUT_FILE));
	write_file(src, "index.json", EMPTY_INDEX, strlen(EMPTY_INDEX));
	assert_int_equal(harness_run(cmd, 30, NULL), 0);
	assert_int_equal(ocitar_open_file(&s, tgz), RV_EINVALID);
	assert_int_equal(harness_write_file(junk, r, 4096), 0);
	assert_int_equal(ocitar_open_file(&s, junk), RV_EINVALID);
	assert_int_equal(harness_run(cmd2, 30, NULL), 0);
	assert_int_equal(ocitar_open_file(&s, noidx), RV_EINVALID);
	assert_true(th_contains(error_msg(), "no index.json"));
	assert_int_equal(ocitar_open_file(&s, "/nonexistent/x.tar"), RV_ENOTFOUND);
	assert_null(s);
	free(r);
	free(src);
	free(tgz);
	free(junk);
	free(noidx);
}

static int collect_ref(const struct ocitar_ref *r, void *ctx)
{
	strlist_add(ctx, r->name);
	return 0;
}

/* What skopeo's oci-archive and other tools write: directory entries, "./"
 * prefixes, bare ref.names, unnamed entries. */
static void test_foreign_tarball(void **state)
{
	const char *tmp = *state;
	char *path = fs_path_join(tmp, "foreign.tar");
	struct th_image img;
	struct archive *a = archive_write_new();
	struct oci_store *s = NULL;
	struct oci_manifest *m = NULL;
	struct strlist l = STRLIST_INIT;
	char *index, *n;

	th_image_make(&img, 5, 1, "amd64", NULL, NULL);
	index = xasprintf("{\"schemaVersion\":2,\"manifests\":["
	                  "{\"mediaType\":\"%s\",\"digest\":\"%s\",\"size\":%zu,"
	                  "\"annotations\":{\"org.opencontainers.image.ref.name\":\"latest\"}},"
	                  "{\"mediaType\":\"%s\",\"digest\":\"%s\",\"size\":%zu}]}",
	                  OCI_MT_IMAGE_MANIFEST, img.m->digest, img.m->raw_len,
	                  OCI_MT_IMAGE_MANIFEST, img.m->digest, img.m->raw_len);
	archive_write_set_format_gnutar(a);
	assert_int_equal(archive_write_open_filename(a, path), ARCHIVE_OK);
	add(a, "./", AE_IFDIR, NULL, 0, NULL, 0);
	add(a, "./blobs/", AE_IFDIR, NULL, 0, NULL, 0);
	add(a, "./blobs/sha256/", AE_IFDIR, NULL, 0, NULL, 0);
	n = blob_name(img.m->digest);
	add(a, n, AE_IFREG, img.m->raw, img.m->raw_len, NULL, 0);
	free(n);
	n = blob_name(img.m->config.digest);
	add(a, n, AE_IFREG, img.config, strlen(img.config), NULL, 0);
	free(n);
	add(a, "./oci-layout", AE_IFREG, OCI_LAYOUT_FILE, strlen(OCI_LAYOUT_FILE), NULL, 0);
	add(a, "./index.json", AE_IFREG, index, strlen(index), NULL, 0);
	assert_int_equal(archive_write_close(a), ARCHIVE_OK);
	archive_write_free(a);

	if (ocitar_open_file(&s, path))
		fail_msg("%s", error_msg());
	assert_int_equal(oci_store_manifest_get(s, "", "latest", &m), 0);
	assert_memory_equal(m->raw, img.m->raw, m->raw_len);
	oci_manifest_free(m);
	assert_int_equal(ocitar_refs(s, collect_ref, &l), 0);
	assert_int_equal(l.n, 2);
	n = xasprintf("@%s", img.m->digest);
	assert_string_equal(l.v[0], n);   /* the unnamed entry */
	assert_string_equal(l.v[1], "latest");
	free(n);
	strlist_release(&l);
	assert_int_equal(oci_store_tags(s, "", &l), 0);
	assert_int_equal(l.n, 1);
	assert_string_equal(l.v[0], "latest");
	strlist_release(&l);
	assert_int_equal(oci_store_repositories(s, &l), 0);
	assert_int_equal(l.n, 0);
	{
		struct buf b = BUF_INIT;

		assert_int_equal(th_get(s, img.m->config.digest, img.m->config.size, &b), 0);
		buf_release(&b);
	}
	/* Read-only. */
	assert_int_equal(th_put(s, "x", 1), RV_EUNSUPPORTED);
	oci_store_close(s);
	th_image_free(&img);
	free(index);
	free(path);
}

/* "repo@<digest A>" listed with digest B: the name would hand out B. */
static void test_name_of_other_digest(void **state)
{
	const char *tmp = *state;
	char *path = fs_path_join(tmp, "lying-name.tar");
	struct th_image img;
	struct archive *a = archive_write_new();
	struct oci_store *s = NULL;
	char other[OCI_DIGEST_MAX], *index, *n;

	th_image_make(&img, 6, 1, "amd64", NULL, NULL);
	oci_digest_compute(other, OCI_SHA256, "other", 5);
	index = xasprintf("{\"schemaVersion\":2,\"manifests\":["
	                  "{\"mediaType\":\"%s\",\"digest\":\"%s\",\"size\":%zu,"
	                  "\"annotations\":{\"org.opencontainers.image.ref.name\":\"r/app@%s\"}}]}",
	                  OCI_MT_IMAGE_MANIFEST, img.m->digest, img.m->raw_len, other);
	archive_write_set_format_gnutar(a);
	assert_int_equal(archive_write_open_filename(a, path), ARCHIVE_OK);
	n = blob_name(img.m->digest);
	add(a, n, AE_IFREG, img.m->raw, img.m->raw_len, NULL, 0);
	free(n);
	add(a, "index.json", AE_IFREG, index, strlen(index), NULL, 0);
	assert_int_equal(archive_write_close(a), ARCHIVE_OK);
	archive_write_free(a);

	assert_int_equal(ocitar_open_file(&s, path), RV_EINVALID);
	assert_null(s);
	assert_true(th_contains(error_msg(), "is not of digest"));
	th_image_free(&img);
	free(index);
	free(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_gnu_tar_offsets, setup, teardown),
		cmocka_unit_test_setup_teardown(test_big_sizes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dead_huge, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unsafe_entries, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unsafe_volume, setup, teardown),
		cmocka_unit_test_setup_teardown(test_not_plain_tar, setup, teardown),
		cmocka_unit_test_setup_teardown(test_foreign_tarball, setup, teardown),
		cmocka_unit_test_setup_teardown(test_name_of_other_digest, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
