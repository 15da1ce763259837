/* Unit tests for the archive store directory: write, commit, reopen, read
 * back; incremental runs; failed writers; killed runs; corruption; lock. */
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
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "helpers.h"
#include "ocitar/ocitar.h"
#include "tests/harness/harness.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/xalloc.h"
#include "util/banned.h"

#define REPO "reg.example.com:5000/team/app"

struct fx {
	char *tmp;
	char *dir;
	char *vdir;
};

static int setup(void **state)
{
	struct fx *f = xcalloc(1, sizeof(*f));

	f->tmp = harness_mkdtemp("rv-ocitar");
	assert_non_null(f->tmp);
	f->dir = fs_path_join(f->tmp, "store");
	f->vdir = fs_path_join(f->dir, "volumes");
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	harness_rm_rf(f->tmp);
	free(f->tmp);
	free(f->dir);
	free(f->vdir);
	free(f);
	return 0;
}

static struct oci_store *open_ok(const char *dir, unsigned flags)
{
	struct oci_store *s = NULL;
	int rc = ocitar_open(&s, dir, flags);

	if (rc)
		fail_msg("ocitar_open: %s", error_msg());
	return s;
}

static void commit_ok(struct oci_store *s, struct ocitar_commit_info *info)
{
	int rc = ocitar_commit(s, info);

	if (rc)
		fail_msg("ocitar_commit: %s", error_msg());
}

static void check_blob(struct oci_store *s, const void *data, size_t len)
{
	struct oci_descriptor d;
	struct buf b = BUF_INIT;
	int rc;

	th_desc(&d, data, len);
	rc = th_get(s, d.digest, d.size, &b);
	if (rc)
		fail_msg("blob_get %s: %s", d.digest, error_msg());
	assert_int_equal(b.len, len);
	assert_memory_equal(b.ptr ? b.ptr : "", data, len);
	buf_release(&b);
}

static int collect_ref(const struct ocitar_ref *r, void *ctx)
{
	strlist_add(ctx, r->name);
	return 0;
}

static char *vol_path(struct fx *f, const struct ocitar_commit_info *info)
{
	return fs_path_join(f->dir, info->volume);
}

/* --- Write, commit, reopen ------------------------------------------------------------ */

struct wbuf {
	struct oci_descriptor d;
	unsigned char *data;
	size_t len;
	struct oci_sink sink;
	void *h;
};

static void sha512_desc(struct oci_descriptor *d, const void *data, size_t len)
{
	memset(d, 0, sizeof(*d));
	oci_digest_compute(d->digest, OCI_SHA512, data, len);
	d->size = (int64_t)len;
}

/* Three writers (one of them sha512, one empty) filled in alternation and
 * closed out of order. */
static void write_interleaved(struct oci_store *s, struct wbuf *w)
{
	size_t pos[3] = { 0, 0, 0 }, step[3] = { 7001, 100, 1 };
	int more = 1;

	w[0].len = 300000;
	w[0].data = th_random(11, w[0].len);
	th_desc(&w[0].d, w[0].data, w[0].len);
	w[1].len = 5000;
	w[1].data = th_random(12, w[1].len);
	sha512_desc(&w[1].d, w[1].data, w[1].len);
	w[2].len = 0;
	w[2].data = th_random(13, 0);
	th_desc(&w[2].d, w[2].data, 0);
	for (int i = 0; i < 3; i++)
		assert_int_equal(s->ops->blob_writer_open(s, &w[i].d, &w[i].sink, &w[i].h), 0);
	while (more) {
		more = 0;
		for (int i = 0; i < 3; i++) {
			size_t n = w[i].len - pos[i] < step[i] ? w[i].len - pos[i] : step[i];

			if (!n)
				continue;
			assert_int_equal(w[i].sink.write(w[i].sink.ctx, w[i].data + pos[i], n), 0);
			pos[i] += n;
			more = 1;
		}
	}
	assert_int_equal(s->ops->blob_writer_close(s, w[1].h, 1), 0);
	assert_int_equal(s->ops->blob_writer_close(s, w[2].h, 1), 0);
	assert_int_equal(s->ops->blob_writer_close(s, w[0].h, 1), 0);
}

/* Every entry of the commit is at its offset in the volume file. */
static void check_entries(const char *path, const struct ocitar_commit_info *info)
{
	int fd = open(path, O_RDONLY);
	int64_t last = -1;

	assert_true(fd >= 0);
	for (size_t i = 0; i < info->n_entries; i++) {
		const struct ocitar_entry *e = &info->entries[i];
		unsigned char *p = xmalloc((size_t)e->length + 1);
		char got[OCI_DIGEST_MAX];

		assert_true(e->offset > last);
		last = e->offset;
		assert_int_equal(pread(fd, p, (size_t)e->length, e->offset), e->length);
		oci_digest_compute(got, oci_digest_alg_of(e->digest), p, (size_t)e->length);
		assert_string_equal(got, e->digest);
		free(p);
	}
	close(fd);
}

static void check_reopened(struct fx *f, struct wbuf *w, struct th_image *a, struct th_image *b,
                           struct th_image *art, struct th_image *child)
{
	struct oci_store *s = open_ok(f->dir, OCITAR_READ);
	struct strlist l = STRLIST_INIT;
	struct oci_manifest *m = NULL;
	struct oci_manifest_info mi;

	for (int i = 0; i < 3; i++) {
		struct buf bb = BUF_INIT;

		assert_int_equal(th_get(s, w[i].d.digest, w[i].d.size, &bb), 0);
		assert_int_equal(bb.len, w[i].len);
		assert_memory_equal(bb.len ? bb.ptr : "", w[i].data, w[i].len);
		buf_release(&bb);
	}
	for (size_t i = 0; i < a->n_layers; i++)
		check_blob(s, a->layer[i], a->layer_len[i]);
	check_blob(s, a->config, strlen(a->config));
	assert_int_equal(oci_store_manifest_get(s, REPO, "v1", &m), 0);
	assert_int_equal(m->raw_len, a->m->raw_len);
	assert_memory_equal(m->raw, a->m->raw, m->raw_len);
	oci_manifest_free(m);
	assert_int_equal(oci_store_manifest_get(s, REPO, b->m->digest, &m), 0);
	assert_memory_equal(m->raw, b->m->raw, m->raw_len);
	oci_manifest_free(m);
	/* Children are stored, found by digest, but not listed. */
	assert_int_equal(oci_store_manifest_get(s, REPO, child->m->digest, &m), 0);
	oci_manifest_free(m);
	assert_int_equal(oci_store_manifest_head(s, REPO, "v1", &mi), 0);
	assert_string_equal(mi.digest, a->m->digest);
	assert_string_equal(mi.media_type, OCI_MT_IMAGE_MANIFEST);
	assert_int_equal(mi.size, a->m->raw_len);
	assert_int_equal(oci_store_manifest_head(s, REPO, art->m->digest, &mi), 0);
	assert_int_equal(mi.size, art->m->raw_len);

	assert_int_equal(oci_store_tags(s, REPO, &l), 0);
	assert_int_equal(l.n, 1);
	assert_string_equal(l.v[0], "v1");
	strlist_release(&l);
	assert_int_equal(oci_store_repositories(s, &l), 0);
	assert_int_equal(l.n, 1);
	assert_string_equal(l.v[0], REPO);
	strlist_release(&l);
	assert_int_equal(ocitar_refs(s, collect_ref, &l), 0);
	assert_int_equal(l.n, 3);
	assert_true(strlist_contains(&l, REPO ":v1"));
	{
		char *nb = xasprintf("%s@%s", REPO, b->m->digest);
		char *na = xasprintf("%s@%s", REPO, art->m->digest);

		assert_true(strlist_contains(&l, nb));
		assert_true(strlist_contains(&l, na));
		free(nb);
		free(na);
	}
	strlist_release(&l);

	assert_int_equal(oci_store_referrers(s, REPO, a->m->digest, &m), 0);
	assert_int_equal(m->n_manifests, 1);
	assert_string_equal(m->manifests[0].digest, art->m->digest);
	assert_string_equal(m->manifests[0].artifact_type, "application/vnd.example.sbom");
	oci_manifest_free(m);
	assert_int_equal(oci_store_referrers(s, REPO, b->m->digest, &m), 0);
	assert_int_equal(m->n_manifests, 0);
	oci_manifest_free(m);

	assert_int_equal(ocitar_volumes(s, &l), 0);
	assert_int_equal(l.n, 1);
	assert_true(!strncmp(l.v[0], "volumes/000001-", 15));
	strlist_release(&l);
	assert_string_equal(ocitar_path(s), f->dir);

	/* What is not there. */
	assert_int_equal(oci_store_manifest_get(s, REPO, "nope", &m), RV_ENOTFOUND);
	assert_true(th_contains(error_msg(), "nope"));
	assert_int_equal(oci_store_tags(s, "other/repo", &l), RV_ENOTFOUND);
	assert_int_equal(th_put(s, "new", 3), RV_EUNSUPPORTED);
	{
		struct oci_descriptor d = w[0].d;

		d.size++;
		assert_int_equal(oci_store_blob_exists(s, "x", &d), RV_ENOTFOUND);
		d.size--;
		assert_int_equal(oci_store_blob_exists(s, "x", &d), 0);
	}
	oci_store_close(s);
}

static void test_roundtrip(void **state)
{
	struct fx *f = *state;
	struct oci_store *s = open_ok(f->dir, OCITAR_WRITE);
	struct ocitar_commit_info info;
	struct wbuf w[3];
	struct th_image a, b, art, child;
	struct strlist names = STRLIST_INIT;
	char *lock = fs_path_join(f->dir, ".lock"), *vp, sha[80];

	memset(w, 0, sizeof(w));
	assert_int_equal(th_mode(f->dir), 0700);
	assert_int_equal(th_mode(f->vdir), 0700);
	assert_int_equal(th_mode(lock), 0600);
	write_interleaved(s, w);
	assert_int_equal(th_count_prefix(f->vdir, ".tmp-"), 1);
	th_image_make(&a, 1, 3, "amd64", NULL, NULL);
	th_image_make(&b, 2, 2, "amd64", NULL, NULL);
	th_image_make(&art, 3, 1, "amd64", a.m->digest, "application/vnd.example.sbom");
	th_image_make(&child, 4, 1, "arm64", NULL, NULL);
	th_image_put(s, &a, REPO, "v1", 0);
	th_image_put(s, &b, REPO, NULL, 0);
	th_image_put(s, &art, REPO, NULL, 0);
	th_image_put(s, &child, REPO, NULL, OCI_PUT_CHILD);
	/* This run's puts are readable before the commit. */
	check_blob(s, w[0].data, w[0].len);

	commit_ok(s, &info);
	assert_non_null(info.volume);
	assert_true(!strncmp(info.volume, "volumes/000001-", 15));
	assert_int_equal(strlen(info.volume), strlen("volumes/000001-20261123T190000Z.tar"));
	vp = vol_path(f, &info);
	assert_int_equal(th_mode(vp), 0600);
	th_file_sha256(vp, sha);
	assert_string_equal(info.sha256, sha);
	{
		struct stat st;

		assert_int_equal(stat(vp, &st), 0);
		assert_int_equal(st.st_size, info.size);
		assert_int_equal(st.st_size % 512, 0);
	}
	/* 3 blobs + 4 configs + 7 layers + 4 manifests */
	assert_int_equal(info.n_entries, 18);
	check_entries(vp, &info);
	assert_int_equal(th_count_prefix(f->vdir, ".tmp-"), 0);
	/* libarchive reads it, metadata last */
	assert_int_equal(th_tar_names(vp, &names), 0);
	assert_int_equal(names.n, 20);
	assert_string_equal(names.v[18], "oci-layout");
	assert_string_equal(names.v[19], "index.json");
	strlist_release(&names);
	/* Still usable after the commit. */
	{
		struct buf bb = BUF_INIT;

		assert_int_equal(th_get(s, w[1].d.digest, w[1].d.size, &bb), 0);
		assert_memory_equal(bb.ptr, w[1].data, w[1].len);
		buf_release(&bb);
	}
	oci_store_close(s);

	check_reopened(f, w, &a, &b, &art, &child);
	ocitar_commit_info_release(&info);
	for (int i = 0; i < 3; i++)
		free(w[i].data);
	th_image_free(&a);
	th_image_free(&b);
	th_image_free(&art);
	th_image_free(&child);
	free(vp);
	free(lock);
}

/* --- A second run ------------------------------------------------------------------------ */

static int count_entry(const struct ocitar_entry *e, void *ctx)
{
	(void)e;
	(*(size_t *)ctx)++;
	return 0;
}

static void test_second_run(void **state)
{
	struct fx *f = *state;
	struct oci_store *s = open_ok(f->dir, OCITAR_WRITE);
	struct ocitar_commit_info i1, i2, i3, i4;
	struct th_image a, b;
	struct strlist l = STRLIST_INIT;
	struct oci_manifest *m = NULL;
	unsigned char *extra = th_random(99, 4096);
	char *old_name;
	size_t n = 0;

	th_image_make(&a, 1, 2, "amd64", NULL, NULL);
	th_image_make(&b, 2, 2, "amd64", NULL, NULL);
	th_image_put(s, &a, REPO, "v1", 0);
	commit_ok(s, &i1);
	oci_store_close(s);

	/* Run 2: the same image again (nothing new), a new blob, and v1 moves. */
	s = open_ok(f->dir, OCITAR_WRITE);
	th_image_put(s, &a, REPO, "v1", 0);
	assert_int_equal(th_put(s, extra, 4096), 0);
	th_image_put(s, &b, REPO, "v1", 0);
	commit_ok(s, &i2);
	assert_true(!strncmp(i2.volume, "volumes/000002-", 15));
	/* only b's config, 2 layers, manifest, and extra */
	assert_int_equal(i2.n_entries, 5);
	assert_int_equal(ocitar_scan_volume(s, i2.volume, count_entry, &n), 0);
	assert_int_equal(n, 5);
	n = 0;
	assert_int_equal(ocitar_scan_volume(s, i1.volume, count_entry, &n), 0);
	assert_int_equal(n, 4);

	/* Run 2b on the same store: nothing changed → no volume. */
	commit_ok(s, &i3);
	assert_null(i3.volume);
	/* Only a new tag: a volume with index.json and no blobs. */
	th_image_put(s, &a, REPO, "stable", 0);
	commit_ok(s, &i4);
	assert_non_null(i4.volume);
	assert_true(!strncmp(i4.volume, "volumes/000003-", 15));
	assert_int_equal(i4.n_entries, 0);
	oci_store_close(s);

	s = open_ok(f->dir, OCITAR_READ);
	assert_int_equal(ocitar_refs(s, collect_ref, &l), 0);
	old_name = xasprintf("%s@%s", REPO, a.m->digest);
	/* "stable" names a's digest, so the @digest name went away again. */
	assert_int_equal(l.n, 2);
	assert_true(strlist_contains(&l, REPO ":v1"));
	assert_true(strlist_contains(&l, REPO ":stable"));
	strlist_release(&l);
	assert_int_equal(oci_store_manifest_get(s, REPO, "v1", &m), 0);
	assert_string_equal(m->digest, b.m->digest);
	oci_manifest_free(m);
	assert_int_equal(oci_store_manifest_get(s, REPO, "stable", &m), 0);
	assert_string_equal(m->digest, a.m->digest);
	oci_manifest_free(m);
	check_blob(s, extra, 4096);
	check_blob(s, a.layer[0], a.layer_len[0]);
	assert_int_equal(ocitar_volumes(s, &l), 0);
	assert_int_equal(l.n, 3);
	strlist_release(&l);
	oci_store_close(s);
	free(old_name);

	ocitar_commit_info_release(&i1);
	ocitar_commit_info_release(&i2);
	ocitar_commit_info_release(&i3);
	ocitar_commit_info_release(&i4);
	th_image_free(&a);
	th_image_free(&b);
	free(extra);
}

/* A moved tag leaves the old image as <repo>@<old digest>, in index.json. */
static void test_moved_tag(void **state)
{
	struct fx *f = *state;
	struct oci_store *s = open_ok(f->dir, OCITAR_WRITE);
	struct ocitar_commit_info info;
	struct th_image a, b;
	struct strlist l = STRLIST_INIT;
	char *old_name;

	th_image_make(&a, 1, 1, "amd64", NULL, NULL);
	th_image_make(&b, 2, 1, "amd64", NULL, NULL);
	th_image_put(s, &a, REPO, "v1", 0);
	commit_ok(s, &info);
	ocitar_commit_info_release(&info);
	oci_store_close(s);
	s = open_ok(f->dir, OCITAR_WRITE);
	th_image_put(s, &b, REPO, "v1", 0);
	commit_ok(s, &info);
	oci_store_close(s);

	s = open_ok(f->dir, OCITAR_READ);
	assert_int_equal(ocitar_refs(s, collect_ref, &l), 0);
	old_name = xasprintf("%s@%s", REPO, a.m->digest);
	assert_int_equal(l.n, 2);
	assert_string_equal(l.v[0], REPO ":v1");
	assert_string_equal(l.v[1], old_name);
	strlist_release(&l);
	oci_store_close(s);
	/* The volume's own index.json says the same, as umoci/skopeo see it. */
	{
		char *vp = vol_path(f, &info), *out = NULL;
		const char *cmd[] = { "tar", "-xOf", vp, "index.json", NULL };

		assert_int_equal(harness_run(cmd, 30, &out), 0);
		assert_true(th_contains(out, old_name));
		assert_true(th_contains(out, "\"io.containerd.image.name\":\"" REPO ":v1\""));
		assert_true(th_contains(out, "\"org.opencontainers.image.ref.name\":\"" REPO ":v1\""));
		free(out);
		free(vp);
	}
	ocitar_commit_info_release(&info);
	free(old_name);
	th_image_free(&a);
	th_image_free(&b);
}

/* --- Failed writers ------------------------------------------------------------------------- */

static void test_failed_writer(void **state)
{
	struct fx *f = *state;
	struct oci_store *s = open_ok(f->dir, OCITAR_WRITE);
	struct ocitar_commit_info info;
	struct oci_descriptor da, db, dc, dd, de, dl;
	struct oci_sink sa, sb, sc, sd, sl;
	void *ha, *hb, *hc, *hd, *hl;
	unsigned char *A = th_random(1, 3000), *B = th_random(2, 3000), *E = th_random(5, 700);
	struct strlist names = STRLIST_INIT;
	char *vp;
	int dead = 0;

	th_desc(&da, A, 3000);
	th_desc(&db, B, 3000);
	th_desc(&dc, B, 2999);      /* will get too many bytes */
	th_desc(&dd, E, 600);       /* will get too few */
	th_desc(&de, E, 700);
	assert_int_equal(s->ops->blob_writer_open(s, &da, &sa, &ha), 0);
	assert_int_equal(s->ops->blob_writer_open(s, &db, &sb, &hb), 0);
	assert_int_equal(s->ops->blob_writer_open(s, &dc, &sc, &hc), 0);
	assert_int_equal(s->ops->blob_writer_open(s, &dd, &sd, &hd), 0);
	assert_int_equal(sa.write(sa.ctx, B, 3000), 0);          /* wrong bytes, right size */
	assert_int_equal(sb.write(sb.ctx, B, 3000), 0);
	assert_int_equal(sc.write(sc.ctx, B, 3000), RV_EDIGEST);  /* beyond d->size */
	assert_int_equal(sd.write(sd.ctx, E, 500), 0);
	assert_int_equal(s->ops->blob_writer_close(s, ha, 1), RV_EDIGEST);
	assert_true(th_contains(error_msg(), da.digest));
	assert_int_equal(oci_store_blob_exists(s, "r", &da), RV_ENOTFOUND);
	/* The same digest may be tried again (the copy engine retries). */
	assert_int_equal(s->ops->blob_writer_open(s, &da, &sa, &ha), 0);
	assert_int_equal(sa.write(sa.ctx, A, 3000), 0);
	assert_int_equal(s->ops->blob_writer_close(s, ha, 1), 0);
	assert_int_equal(s->ops->blob_writer_close(s, hb, 1), 0);
	assert_int_equal(s->ops->blob_writer_close(s, hc, 1), RV_EDIGEST);
	/* A place after d, so that d's place is not the last one. */
	assert_int_equal(th_put(s, E, 700), 0);
	assert_int_equal(s->ops->blob_writer_close(s, hd, 1), RV_EDIGEST);
	/* Discarding on purpose is not an error; as the last place it is
	 * simply taken back. */
	th_desc(&dl, A, 100);
	assert_int_equal(s->ops->blob_writer_open(s, &dl, &sl, &hl), 0);
	assert_int_equal(sl.write(sl.ctx, A, 100), 0);
	assert_int_equal(s->ops->blob_writer_close(s, hl, 0), 0);
	assert_int_equal(oci_store_blob_exists(s, "r", &dl), RV_ENOTFOUND);
	commit_ok(s, &info);
	assert_int_equal(info.n_entries, 3);
	oci_store_close(s);

	vp = vol_path(f, &info);
	assert_int_equal(th_tar_names(vp, &names), 0);
	for (size_t i = 0; i < names.n; i++)
		dead += !strncmp(names.v[i], ".unused/", 8);
	assert_int_equal(dead, 3);
	assert_int_equal(names.n, 3 + 3 + 2);
	strlist_release(&names);
	{
		/* GNU tar agrees the file is a valid tar. */
		const char *cmd[] = { "tar", "-tf", vp, NULL };
		char *out = NULL;

		assert_int_equal(harness_run(cmd, 30, &out), 0);
		assert_true(th_contains(out, ".unused/1"));
		free(out);
	}
	s = open_ok(f->dir, OCITAR_READ);
	assert_int_equal(oci_store_blob_exists(s, "r", &dc), RV_ENOTFOUND);
	assert_int_equal(oci_store_blob_exists(s, "r", &dl), RV_ENOTFOUND);
	check_blob(s, A, 3000);
	assert_int_equal(oci_store_blob_exists(s, "r", &dd), RV_ENOTFOUND);
	check_blob(s, B, 3000);
	check_blob(s, E, 700);
	oci_store_close(s);
	ocitar_commit_info_release(&info);
	free(vp);
	free(A);
	free(B);
	free(E);
}

static void test_exists(void **state)
{
	struct fx *f = *state;
	struct oci_store *s = open_ok(f->dir, OCITAR_WRITE);
	struct oci_descriptor d, d2;
	struct oci_sink sink, sink2;
	void *h, *h2;
	struct ocitar_commit_info info;

	assert_int_equal(th_put(s, "stored", 6), 0);
	th_desc(&d, "stored", 6);
	assert_int_equal(s->ops->blob_writer_open(s, &d, &sink, &h), RV_EEXISTS);
	/* blob_put is idempotent, like an upload to a registry */
	assert_int_equal(th_put(s, "stored", 6), 0);
	th_desc(&d2, "moving", 6);
	assert_int_equal(s->ops->blob_writer_open(s, &d2, &sink, &h), 0);
	assert_int_equal(s->ops->blob_writer_open(s, &d2, &sink2, &h2), RV_EEXISTS);
	assert_true(th_contains(error_msg(), "being written"));
	/* A commit with an open writer is refused. */
	assert_int_equal(ocitar_commit(s, &info), RV_EINVALID);
	assert_int_equal(sink.write(sink.ctx, "moving", 6), 0);
	assert_int_equal(s->ops->blob_writer_close(s, h, 1), 0);
	commit_ok(s, &info);
	ocitar_commit_info_release(&info);
	/* Stored in an earlier volume. */
	assert_int_equal(s->ops->blob_writer_open(s, &d, &sink, &h), RV_EEXISTS);
	oci_store_close(s);
}

/* --- Crashes and corruption ------------------------------------------------------------------ */

static void test_killed_run(void **state)
{
	struct fx *f = *state;
	struct oci_store *s = open_ok(f->dir, OCITAR_WRITE);
	struct ocitar_commit_info info;
	struct strlist l = STRLIST_INIT;
	pid_t pid;
	int status;

	assert_int_equal(th_put(s, "first", 5), 0);
	commit_ok(s, &info);
	ocitar_commit_info_release(&info);
	oci_store_close(s);

	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		/* A run killed halfway: blobs written, no commit, no close. */
		struct oci_store *c = NULL;

		if (ocitar_open(&c, f->dir, OCITAR_WRITE) || th_put(c, "second", 6))
			_exit(1);
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_int_equal(WEXITSTATUS(status), 0);
	assert_int_equal(th_count_prefix(f->vdir, ".tmp-"), 1);

	/* Readers ignore it. */
	s = open_ok(f->dir, OCITAR_READ);
	assert_int_equal(ocitar_volumes(s, &l), 0);
	assert_int_equal(l.n, 1);
	strlist_release(&l);
	{
		struct oci_descriptor d;

		th_desc(&d, "second", 6);
		assert_int_equal(oci_store_blob_exists(s, "r", &d), RV_ENOTFOUND);
	}
	oci_store_close(s);
	assert_int_equal(th_count_prefix(f->vdir, ".tmp-"), 1);
	/* The next writer removes it. */
	s = open_ok(f->dir, OCITAR_WRITE);
	assert_int_equal(th_count_prefix(f->vdir, ".tmp-"), 0);
	oci_store_close(s);
}

static void test_close_discards(void **state)
{
	struct fx *f = *state;
	struct oci_store *s = open_ok(f->dir, OCITAR_WRITE);

	assert_int_equal(th_put(s, "gone", 4), 0);
	assert_int_equal(th_count_prefix(f->vdir, ".tmp-"), 1);
	oci_store_close(s);
	assert_int_equal(th_count_prefix(f->vdir, ""), 2);   /* "." and ".." */
	assert_int_equal(ocitar_open(&s, f->dir, OCITAR_READ), RV_ENOTFOUND);
	assert_null(s);
}

static void flip(const char *path, int64_t off)
{
	int fd = open(path, O_RDWR);
	unsigned char c;

	assert_true(fd >= 0);
	assert_int_equal(pread(fd, &c, 1, off), 1);
	c ^= 0x20;
	assert_int_equal(pwrite(fd, &c, 1, off), 1);
	close(fd);
}

static void test_flipped_byte(void **state)
{
	struct fx *f = *state;
	struct oci_store *s = open_ok(f->dir, OCITAR_WRITE);
	struct ocitar_commit_info info;
	unsigned char *x = th_random(7, 50000), *y = th_random(8, 1000);
	struct oci_descriptor dx, dy;
	const struct ocitar_entry *ex = NULL, *ey = NULL;
	struct buf b = BUF_INIT;
	char *vp;

	th_desc(&dx, x, 50000);
	th_desc(&dy, y, 1000);
	assert_int_equal(th_put(s, x, 50000), 0);
	assert_int_equal(th_put(s, y, 1000), 0);
	commit_ok(s, &info);
	oci_store_close(s);
	for (size_t i = 0; i < info.n_entries; i++) {
		if (!strcmp(info.entries[i].digest, dx.digest))
			ex = &info.entries[i];
		if (!strcmp(info.entries[i].digest, dy.digest))
			ey = &info.entries[i];
	}
	assert_non_null(ex);
	assert_non_null(ey);
	vp = vol_path(f, &info);
	flip(vp, ex->offset + 40000);

	s = open_ok(f->dir, OCITAR_READ);
	assert_int_equal(th_get(s, dx.digest, dx.size, &b), RV_EDIGEST);
	assert_true(th_contains(error_msg(), dx.digest));
	assert_int_equal(ocitar_verify_range(s, info.volume, ex->offset, ex->length, dx.digest),
	                 RV_EDIGEST);
	assert_true(th_contains(error_msg(), dx.digest));
	/* An absolute path works too, and intact blobs verify. */
	assert_int_equal(ocitar_verify_range(s, vp, ey->offset, ey->length, dy.digest), 0);
	assert_int_equal(ocitar_verify_range(s, info.volume, ey->offset, ey->length, dy.digest), 0);
	check_blob(s, y, 1000);
	assert_int_equal(ocitar_verify_range(s, info.volume, info.size - 10, 11, dy.digest),
	                 RV_ENOTFOUND);
	assert_int_equal(ocitar_verify_range(s, "volumes/000009-20200101T000000Z.tar", 0, 1,
	                                     dy.digest), RV_ENOTFOUND);
	oci_store_close(s);

	/* A damaged header: the volume is refused, by name. */
	flip(vp, ey->offset - 512 + 150);   /* the ustar checksum field */
	assert_int_equal(ocitar_open(&s, f->dir, OCITAR_READ), RV_EINVALID);
	assert_true(th_contains(error_msg(), info.volume));
	buf_release(&b);
	ocitar_commit_info_release(&info);
	free(vp);
	free(x);
	free(y);
}

/* The read-back at commit catches bytes that changed on the way to disk. */
static void test_verify_at_commit(void **state)
{
	struct fx *f = *state;
	struct oci_store *s = open_ok(f->dir, OCITAR_WRITE);
	struct ocitar_commit_info info;
	unsigned char *x = th_random(9, 20000);
	struct oci_descriptor dx;
	struct dirent *de;
	DIR *d;
	char *tmp = NULL;

	th_desc(&dx, x, 20000);
	assert_int_equal(th_put(s, x, 20000), 0);
	d = opendir(f->vdir);
	while ((de = readdir(d)) != NULL)
		if (!strncmp(de->d_name, ".tmp-", 5))
			tmp = fs_path_join(f->vdir, de->d_name);
	closedir(d);
	assert_non_null(tmp);
	flip(tmp, 512 + 1234);   /* inside the blob, after its header */
	assert_int_equal(ocitar_commit(s, &info), RV_EDIGEST);
	assert_true(th_contains(error_msg(), dx.digest));
	assert_null(info.volume);
	/* Nothing renamed; the temp stays until close. */
	assert_int_equal(th_count_prefix(f->vdir, "0"), 0);
	assert_int_equal(th_count_prefix(f->vdir, ".tmp-"), 1);
	oci_store_close(s);
	assert_int_equal(th_count_prefix(f->vdir, ".tmp-"), 0);
	free(tmp);
	free(x);
}

/* --- Lock, opening, guards ---------------------------------------------------------------------- */

static void test_lock(void **state)
{
	struct fx *f = *state;
	struct oci_store *s = open_ok(f->dir, OCITAR_WRITE), *t = NULL, *r;
	struct ocitar_commit_info info;

	assert_int_equal(th_put(s, "x", 1), 0);
	commit_ok(s, &info);
	ocitar_commit_info_release(&info);
	assert_int_equal(ocitar_open(&t, f->dir, OCITAR_WRITE), RV_EEXISTS);
	assert_null(t);
	assert_true(th_contains(error_msg(), f->dir));
	assert_true(th_contains(error_msg(), "busy"));
	/* Readers take no lock. */
	r = open_ok(f->dir, OCITAR_READ);
	oci_store_close(r);
	oci_store_close(s);
	t = open_ok(f->dir, OCITAR_WRITE);
	oci_store_close(t);
}

static void test_open_missing(void **state)
{
	struct fx *f = *state;
	struct oci_store *s = (struct oci_store *)1;

	assert_int_equal(ocitar_open(&s, f->dir, OCITAR_READ), RV_ENOTFOUND);
	assert_null(s);
	assert_int_equal(ocitar_open(&s, "", OCITAR_READ), RV_EINVALID);
}

static void test_manifest_put_checks(void **state)
{
	struct fx *f = *state;
	struct oci_store *s = open_ok(f->dir, OCITAR_WRITE);
	struct th_image a, b;
	struct ocitar_commit_info info;

	th_image_make(&a, 1, 1, "amd64", NULL, NULL);
	th_image_make(&b, 2, 1, "amd64", NULL, NULL);
	assert_int_equal(oci_store_manifest_put(s, REPO, b.m->digest, a.m, 0), RV_EINVALID);
	assert_int_equal(oci_store_manifest_put(s, REPO, "bad tag", a.m, 0), RV_EINVALID);
	assert_int_equal(oci_store_manifest_put(s, "has space", "v1", a.m, 0), RV_EINVALID);
	assert_int_equal(oci_store_manifest_put(s, "", "v1", a.m, 0), RV_EINVALID);
	a.m->raw[10] ^= 1;   /* bytes no longer match the digest */
	assert_int_equal(oci_store_manifest_put(s, REPO, "v1", a.m, 0), RV_EDIGEST);
	a.m->raw[10] ^= 1;
	assert_int_equal(oci_store_manifest_put(s, REPO, "v1", a.m, 0), 0);
	/* Putting the same tag and digest twice changes nothing. */
	assert_int_equal(oci_store_manifest_put(s, REPO, "v1", a.m, 0), 0);
	/* Manifest delete is not an archive operation. */
	assert_int_equal(oci_store_manifest_delete(s, REPO, a.m->digest), RV_EUNSUPPORTED);
	commit_ok(s, &info);
	assert_int_equal(info.n_entries, 1);
	ocitar_commit_info_release(&info);
	oci_store_close(s);
	th_image_free(&a);
	th_image_free(&b);
}

static void read_all(const struct oci_source *src, struct buf *out)
{
	char chunk[777];
	ssize_t n;

	buf_reset(out);
	while ((n = src->read(src->ctx, chunk, sizeof(chunk))) > 0)
		assert_int_equal(buf_add(out, chunk, (size_t)n), 0);
	assert_int_equal(n, 0);
}

static void test_reader(void **state)
{
	struct fx *f = *state;
	struct oci_store *s = open_ok(f->dir, OCITAR_WRITE);
	unsigned char *x = th_random(3, 10000);
	struct oci_descriptor d;
	struct oci_source src;
	struct ocitar_commit_info info;
	struct buf b = BUF_INIT;
	void *h;

	th_desc(&d, x, 10000);
	assert_int_equal(th_put(s, x, 10000), 0);
	assert_int_equal(s->ops->blob_reader_open(s, &d, &src, &h), 0);
	read_all(&src, &b);
	assert_int_equal(b.len, 10000);
	assert_memory_equal(b.ptr, x, 10000);
	/* The same reader keeps working across the commit that moves the blob. */
	commit_ok(s, &info);
	assert_int_equal(src.rewind(src.ctx), 0);
	read_all(&src, &b);
	assert_memory_equal(b.ptr, x, 10000);
	s->ops->blob_reader_close(s, h);
	d.size = 9;
	assert_int_equal(s->ops->blob_reader_open(s, &d, &src, &h), RV_EDIGEST);
	ocitar_commit_info_release(&info);
	oci_store_close(s);
	buf_release(&b);
	free(x);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_roundtrip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_second_run, setup, teardown),
		cmocka_unit_test_setup_teardown(test_moved_tag, setup, teardown),
		cmocka_unit_test_setup_teardown(test_failed_writer, setup, teardown),
		cmocka_unit_test_setup_teardown(test_exists, setup, teardown),
		cmocka_unit_test_setup_teardown(test_killed_run, setup, teardown),
		cmocka_unit_test_setup_teardown(test_close_discards, setup, teardown),
		cmocka_unit_test_setup_teardown(test_flipped_byte, setup, teardown),
		cmocka_unit_test_setup_teardown(test_verify_at_commit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lock, setup, teardown),
		cmocka_unit_test_setup_teardown(test_open_missing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_manifest_put_checks, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reader, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
