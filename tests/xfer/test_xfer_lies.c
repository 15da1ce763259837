/* The archive writer hashes the bytes handed to the volume, whatever the
 * source says about them (the commit's read-back then checks the disk). A source store whose transfers report success
 * while handing over a flipped byte — a lying store, or a flip anywhere
 * between the download's own check and the volume — must not produce a
 * kept blob, an image, or anything the commit lists. No server: the source
 * is a scripted concurrent store, the destination a real archive store. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "ocitar/ocitar.h"
#include "tests/harness/harness.h"
#include "tests/ocitar/helpers.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/xalloc.h"
#include "xfer/xfer.h"
#include "util/banned.h"

#define REPO "reg.example.com/team/app"
#define CHUNK 700   /* bytes per sink write: several writes per blob */

/* A transfer started and not yet delivered. */
struct pending {
	const struct oci_descriptor *d;
	struct oci_sink sink;
	oci_done_fn done;
	void *ctx;
};

struct fake {
	struct oci_store base;           /* first: the store handle is this struct */
	struct th_image img;
	const char *lie_about;           /* a digest whose bytes arrive with one flipped */
	int gets;                        /* blob transfers started */
	int lies;                        /* of which flipped */
	struct pending q[16];
	size_t n;
};

static struct fake *F(struct oci_store *s)
{
	return (struct fake *)s;
}

static int f_manifest_get(struct oci_store *s, const char *repo, const char *ref,
                          struct oci_manifest **out)
{
	const struct oci_manifest *m = F(s)->img.m;

	if (strcmp(repo, REPO) || (strcmp(ref, "v1") && strcmp(ref, m->digest)))
		return error_set(RV_ENOTFOUND, "manifest \"%s\" not found", ref);
	return oci_manifest_parse(out, m->raw, m->raw_len, m->media_type);
}

static int f_blob_get_start(struct oci_store *s, const char *repo,
                            const struct oci_descriptor *d, const struct oci_sink *sink,
                            oci_done_fn done, void *ctx, void **handle)
{
	struct fake *f = F(s);

	(void)repo;
	assert_true(f->n < sizeof(f->q) / sizeof(f->q[0]));
	f->q[f->n++] = (struct pending){ d, *sink, done, ctx };
	f->gets++;
	*handle = f;
	return 0;
}

static void f_resume(struct oci_store *s, void *handle)
{
	(void)s;
	(void)handle;   /* the archive's sink never pauses */
}

static const unsigned char *bytes_of(struct fake *f, const char *digest, size_t *len)
{
	char d[OCI_DIGEST_MAX];

	oci_digest_compute(d, OCI_SHA256, f->img.config, strlen(f->img.config));
	if (!strcmp(d, digest)) {
		*len = strlen(f->img.config);
		return (const unsigned char *)f->img.config;
	}
	for (size_t i = 0; i < f->img.n_layers; i++) {
		oci_digest_compute(d, OCI_SHA256, f->img.layer[i], f->img.layer_len[i]);
		if (!strcmp(d, digest)) {
			*len = f->img.layer_len[i];
			return f->img.layer[i];
		}
	}
	fail_msg("the copy asked for unknown blob %s", digest);
	return NULL;
}

/* Delivers the oldest transfer whole, then says it went well — even when
 * it flipped a byte on the way (a source checks its own download, so the
 * bytes that reach the sink are not what it hashed). */
static int f_run(struct oci_store *s, int timeout_ms)
{
	struct fake *f = F(s);
	struct pending p;
	const unsigned char *data;
	unsigned char *copy;
	size_t len = 0;
	int rc = 0;

	(void)timeout_ms;
	if (!f->n)
		return 0;
	p = f->q[0];
	memmove(f->q, f->q + 1, --f->n * sizeof(f->q[0]));
	data = bytes_of(f, p.d->digest, &len);
	copy = xmalloc(len);
	memcpy(copy, data, len);
	if (f->lie_about && !strcmp(p.d->digest, f->lie_about)) {
		copy[len / 2] ^= 0x01;
		f->lies++;
	}
	for (size_t off = 0; rc == 0 && off < len; off += CHUNK)
		rc = p.sink.write(p.sink.ctx, copy + off, len - off < CHUNK ? len - off : CHUNK);
	free(copy);
	p.done(p.ctx, rc, rc ? error_msg() : "");
	return (int)f->n;
}

static const struct oci_store_ops fake_ops = {
	.manifest_get = f_manifest_get,
	.blob_get_start = f_blob_get_start,
	.resume = f_resume,
	.run = f_run,
};

struct fx {
	char *tmp, *dir;
	struct fake src;
	struct oci_store *dst;
};

static int setup(void **state)
{
	struct fx *x = xcalloc(1, sizeof(*x));

	x->tmp = harness_mkdtemp("rv-xfer-lies");
	assert_non_null(x->tmp);
	x->dir = fs_path_join(x->tmp, "store");
	x->src.base.ops = &fake_ops;
	x->src.base.name = "lying store";
	th_image_make(&x->src.img, 3, 2, "amd64", NULL, NULL);
	if (ocitar_open(&x->dst, x->dir, OCITAR_WRITE))
		fail_msg("ocitar_open: %s", error_msg());
	*state = x;
	return 0;
}

static int teardown(void **state)
{
	struct fx *x = *state;

	oci_store_close(x->dst);
	th_image_free(&x->src.img);
	harness_rm_rf(x->tmp);
	free(x->tmp);
	free(x->dir);
	free(x);
	return 0;
}

static const struct xfer_image image = { REPO, "v1", REPO, NULL };

static int has_entry(const struct ocitar_commit_info *info, const char *digest)
{
	for (size_t i = 0; i < info->n_entries; i++)
		if (!strcmp(info->entries[i].digest, digest))
			return 1;
	return 0;
}

/* The control: an honest source gives a committed image whose every blob
 * verifies from the medium. */
static void test_honest_source(void **state)
{
	struct fx *x = *state;
	struct xfer_result r;
	struct ocitar_commit_info info;

	assert_int_equal(xfer_copy(&x->src.base, x->dst, &image, 1, NULL, &r), 0);
	assert_int_equal(r.rc, 0);
	assert_int_equal(r.blobs_copied, 3);
	assert_int_equal(ocitar_commit(x->dst, &info), 0);
	assert_int_equal(info.n_entries, 4);   /* config, 2 layers, the manifest */
	for (size_t i = 0; i < info.n_entries; i++)
		assert_int_equal(ocitar_verify_range(x->dst, info.volume, info.entries[i].offset,
		                                     info.entries[i].length,
		                                     info.entries[i].digest), 0);
	ocitar_commit_info_release(&info);
	xfer_result_release(&r);
}

/* The lie is caught by the volume's writer at every attempt; the image
 * fails naming the blob, and the commit keeps only the honest blobs. */
static void test_lying_source(void **state)
{
	struct fx *x = *state;
	const char *bad = x->src.img.m->layers[1].digest;
	struct xfer_options o = XFER_OPTIONS_INIT;
	struct oci_descriptor d = { 0 };
	struct xfer_result r;
	struct ocitar_commit_info info;

	x->src.lie_about = bad;
	o.jobs = 2;
	assert_int_equal(xfer_copy(&x->src.base, x->dst, &image, 1, &o, &r), RV_ERROR);
	assert_int_not_equal(r.rc, 0);
	assert_non_null(r.msg);
	assert_true(th_contains(r.msg, bad));
	assert_true(th_contains(r.msg, "hash"));
	/* A flipped byte may not happen twice: every attempt went again to
	 * the source, and every one was refused. */
	assert_int_equal(x->src.lies, o.blob_attempts);
	assert_int_equal(x->src.gets, 2 + o.blob_attempts);
	snprintf(d.digest, sizeof(d.digest), "%s", bad);
	d.size = x->src.img.m->layers[1].size;
	assert_int_equal(oci_store_blob_exists(x->dst, REPO, &d), RV_ENOTFOUND);

	assert_int_equal(ocitar_commit(x->dst, &info), 0);
	assert_false(has_entry(&info, bad));
	assert_false(has_entry(&info, x->src.img.m->digest));   /* no manifest, no image */
	assert_true(has_entry(&info, x->src.img.m->layers[0].digest));
	assert_true(has_entry(&info, x->src.img.m->config.digest));
	assert_int_equal(info.n_entries, 2);
	ocitar_commit_info_release(&info);
	xfer_result_release(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_honest_source, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lying_source, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
