/* Unit tests for oci/store.c: the wrappers reach the right op, and
 * oci_store_blob_read caps and verifies, against a tiny fake store. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "oci/store.h"
#include "util/error.h"
#include "util/xalloc.h"
#include "util/banned.h"

/* sha256 of "hello world" */
#define HELLO "sha256:b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9"

struct fake {
	struct oci_store base;   /* first, as implementations must */
	const char *last_op;
	const char *last_repo;
	const char *last_ref;
	const void *last_ptr;
	int rc;                  /* what every op returns */
	const char *blob;        /* what blob_get sends (it does not verify) */
	size_t chunk;
	int get_calls;
	int closed;
};

static struct fake *F(struct oci_store *s)
{
	return (struct fake *)s;
}

static int record(struct oci_store *s, const char *op, const char *repo, const char *ref,
                  const void *ptr)
{
	F(s)->last_op = op;
	F(s)->last_repo = repo;
	F(s)->last_ref = ref;
	F(s)->last_ptr = ptr;
	return F(s)->rc;
}

static int f_manifest_get(struct oci_store *s, const char *repo, const char *ref,
                          struct oci_manifest **out)
{
	return record(s, "manifest_get", repo, ref, out);
}

static int f_manifest_head(struct oci_store *s, const char *repo, const char *ref,
                           struct oci_manifest_info *out)
{
	return record(s, "manifest_head", repo, ref, out);
}

static int f_manifest_put(struct oci_store *s, const char *repo, const char *ref,
                          const struct oci_manifest *m, unsigned flags)
{
	(void)flags;
	return record(s, "manifest_put", repo, ref, m);
}

static int f_manifest_delete(struct oci_store *s, const char *repo, const char *digest)
{
	return record(s, "manifest_delete", repo, digest, NULL);
}

static int f_blob_exists(struct oci_store *s, const char *repo, const struct oci_descriptor *d)
{
	return record(s, "blob_exists", repo, d->digest, d);
}

/* Sends F(s)->blob in chunks, stopping at the first sink refusal; checks
 * nothing, so the wrapper's own verification is what is tested. */
static int f_blob_get(struct oci_store *s, const char *repo, const struct oci_descriptor *d,
                      const struct oci_sink *sink)
{
	size_t len = strlen(F(s)->blob), off = 0;

	F(s)->get_calls++;
	record(s, "blob_get", repo, d->digest, sink);
	while (off < len) {
		size_t n = len - off < F(s)->chunk ? len - off : F(s)->chunk;
		int rc = sink->write(sink->ctx, F(s)->blob + off, n);

		if (rc)
			return rc;
		off += n;
	}
	return F(s)->rc;
}

static int f_blob_put(struct oci_store *s, const char *repo, const struct oci_descriptor *d,
                      const struct oci_source *src)
{
	return record(s, "blob_put", repo, d->digest, src);
}

static int f_tags(struct oci_store *s, const char *repo, struct strlist *out)
{
	return record(s, "tags", repo, NULL, out);
}

static int f_repositories(struct oci_store *s, struct strlist *out)
{
	return record(s, "repositories", NULL, NULL, out);
}

static int f_referrers(struct oci_store *s, const char *repo, const char *digest,
                       struct oci_manifest **out)
{
	return record(s, "referrers", repo, digest, out);
}

static void f_close(struct oci_store *s)
{
	F(s)->closed++;
}

static const struct oci_store_ops full_ops = {
	.manifest_get = f_manifest_get,
	.manifest_head = f_manifest_head,
	.manifest_put = f_manifest_put,
	.manifest_delete = f_manifest_delete,
	.blob_exists = f_blob_exists,
	.blob_get = f_blob_get,
	.blob_put = f_blob_put,
	.tags = f_tags,
	.repositories = f_repositories,
	.referrers = f_referrers,
	.close = f_close,
};

static const struct oci_store_ops empty_ops = { 0 };

static void fake_init(struct fake *f, const struct oci_store_ops *ops)
{
	memset(f, 0, sizeof(*f));
	f->base.ops = ops;
	f->base.name = "fake store";
	f->blob = "hello world";
	f->chunk = 4;
}

static struct oci_descriptor hello_desc(void)
{
	struct oci_descriptor d;

	memset(&d, 0, sizeof(d));
	d.media_type = (char *)"application/octet-stream";
	memcpy(d.digest, HELLO, sizeof(HELLO));
	d.size = 11;
	return d;
}

static void test_wrappers_dispatch(void **state)
{
	struct fake f;
	struct oci_store *s = &f.base;
	struct oci_manifest *m = NULL;
	struct oci_manifest_info info;
	struct oci_descriptor d = hello_desc();
	struct oci_sink sink = { NULL, NULL };
	struct oci_source src = { NULL, NULL, NULL };
	struct strlist l = STRLIST_INIT;

	(void)state;
	fake_init(&f, &full_ops);
	f.rc = RV_ENOTFOUND;
	f.blob = "";
	assert_int_equal(oci_store_manifest_get(s, "r1", "t1", &m), RV_ENOTFOUND);
	assert_string_equal(f.last_op, "manifest_get");
	assert_string_equal(f.last_repo, "r1");
	assert_string_equal(f.last_ref, "t1");
	assert_ptr_equal(f.last_ptr, &m);
	assert_int_equal(oci_store_manifest_head(s, "r2", "t2", &info), RV_ENOTFOUND);
	assert_string_equal(f.last_op, "manifest_head");
	assert_ptr_equal(f.last_ptr, &info);
	f.rc = 0;
	assert_int_equal(oci_store_manifest_put(s, "r3", "t3", (struct oci_manifest *)&info, 0), 0);
	assert_string_equal(f.last_op, "manifest_put");
	assert_string_equal(f.last_ref, "t3");
	assert_int_equal(oci_store_manifest_delete(s, "r4", HELLO), 0);
	assert_string_equal(f.last_op, "manifest_delete");
	assert_string_equal(f.last_ref, HELLO);
	f.rc = RV_EDENIED;
	assert_int_equal(oci_store_blob_exists(s, "r5", &d), RV_EDENIED);
	assert_string_equal(f.last_op, "blob_exists");
	assert_ptr_equal(f.last_ptr, &d);
	assert_int_equal(oci_store_blob_get(s, "r6", &d, &sink), RV_EDENIED);
	assert_string_equal(f.last_op, "blob_get");
	assert_ptr_equal(f.last_ptr, &sink);
	assert_int_equal(oci_store_blob_put(s, "r7", &d, &src), RV_EDENIED);
	assert_string_equal(f.last_op, "blob_put");
	assert_ptr_equal(f.last_ptr, &src);
	assert_int_equal(oci_store_tags(s, "r8", &l), RV_EDENIED);
	assert_string_equal(f.last_op, "tags");
	assert_string_equal(f.last_repo, "r8");
	assert_int_equal(oci_store_repositories(s, &l), RV_EDENIED);
	assert_string_equal(f.last_op, "repositories");
	assert_ptr_equal(f.last_ptr, &l);
	assert_int_equal(oci_store_referrers(s, "r9", HELLO, &m), RV_EDENIED);
	assert_string_equal(f.last_op, "referrers");
	assert_string_equal(f.last_ref, HELLO);
	oci_store_close(s);
	assert_int_equal(f.closed, 1);
	oci_store_close(NULL);
}

static void test_missing_ops(void **state)
{
	struct fake f;
	struct strlist l = STRLIST_INIT;
	struct oci_descriptor d = hello_desc();

	(void)state;
	fake_init(&f, &empty_ops);
	assert_int_equal(oci_store_repositories(&f.base, &l), RV_EUNSUPPORTED);
	assert_string_equal(error_msg(), "fake store: repositories is not supported");
	assert_int_equal(oci_store_manifest_delete(&f.base, "r", HELLO), RV_EUNSUPPORTED);
	assert_string_equal(error_msg(), "fake store: manifest_delete is not supported");
	assert_int_equal(oci_store_blob_exists(&f.base, "r", &d), RV_EUNSUPPORTED);
	oci_store_close(&f.base);   /* no close op: nothing happens */
}

static void test_blob_read_ok(void **state)
{
	struct fake f;
	struct oci_descriptor d = hello_desc();
	struct buf out = BUF_INIT;

	(void)state;
	fake_init(&f, &full_ops);
	buf_addstr(&out, ">");
	assert_int_equal(oci_store_blob_read(&f.base, "repo", &d, &out, 11), 0);
	assert_string_equal(buf_cstr(&out), ">hello world");
	assert_string_equal(f.last_repo, "repo");
	assert_string_equal(f.last_ref, HELLO);
	buf_release(&out);
}

static void test_blob_read_refuses_big_descriptor(void **state)
{
	struct fake f;
	struct oci_descriptor d = hello_desc();
	struct buf out = BUF_INIT;

	(void)state;
	fake_init(&f, &full_ops);
	assert_int_equal(oci_store_blob_read(&f.base, "repo", &d, &out, 10), RV_ETOOBIG);
	assert_int_equal(f.get_calls, 0);
	assert_non_null(strstr(error_msg(), "11 bytes is over the 10-byte limit"));
	d.size = -1;
	assert_int_equal(oci_store_blob_read(&f.base, "repo", &d, &out, 10), RV_EINVALID);
	assert_int_equal(f.get_calls, 0);
	buf_release(&out);
}

static void test_blob_read_store_sends_too_much(void **state)
{
	struct fake f;
	struct oci_descriptor d = hello_desc();
	struct buf out = BUF_INIT;

	(void)state;
	fake_init(&f, &full_ops);
	/* The store lies: the descriptor says 11 bytes, it sends 26. */
	f.blob = "hello world, and then more";
	buf_addstr(&out, "keep");
	assert_int_equal(oci_store_blob_read(&f.base, "repo", &d, &out, 12), RV_ETOOBIG);
	assert_string_equal(buf_cstr(&out), "keep");
	assert_non_null(strstr(error_msg(), "over the 12-byte limit"));
	/* With room for it, the size check catches it instead. */
	assert_int_equal(oci_store_blob_read(&f.base, "repo", &d, &out, 100), RV_EDIGEST);
	assert_non_null(strstr(error_msg(), "expected 11 bytes, got 26"));
	assert_string_equal(buf_cstr(&out), "keep");
	buf_release(&out);
}

static void test_blob_read_wrong_bytes(void **state)
{
	struct fake f;
	struct oci_descriptor d = hello_desc();
	struct buf out = BUF_INIT;

	(void)state;
	fake_init(&f, &full_ops);
	f.blob = "hello WORLD";   /* right size, wrong bytes, store says 0 */
	assert_int_equal(oci_store_blob_read(&f.base, "repo", &d, &out, 64), RV_EDIGEST);
	assert_non_null(strstr(error_msg(), "digest mismatch"));
	assert_int_equal(out.len, 0);
	f.blob = "hello";
	assert_int_equal(oci_store_blob_read(&f.base, "repo", &d, &out, 64), RV_EDIGEST);
	assert_int_equal(out.len, 0);
	buf_release(&out);
}

static void test_blob_read_store_error_and_buf_cap(void **state)
{
	struct fake f;
	struct oci_descriptor d = hello_desc();
	struct buf out;

	(void)state;
	fake_init(&f, &full_ops);
	f.rc = RV_ETRANSIENT;
	buf_init(&out, 0);
	assert_int_equal(oci_store_blob_read(&f.base, "repo", &d, &out, 64), RV_ETRANSIENT);
	assert_int_equal(out.len, 0);
	buf_release(&out);
	/* The buf's own cap applies too. */
	f.rc = 0;
	buf_init(&out, 5);
	assert_int_equal(oci_store_blob_read(&f.base, "repo", &d, &out, 64), RV_ETOOBIG);
	assert_int_equal(out.len, 0);
	buf_release(&out);
}

static void test_blob_read_empty_blob(void **state)
{
	struct fake f;
	struct oci_descriptor d = hello_desc();
	struct buf out = BUF_INIT;

	(void)state;
	fake_init(&f, &full_ops);
	f.blob = "";
	memcpy(d.digest, "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
	       72);
	d.size = 0;
	assert_int_equal(oci_store_blob_read(&f.base, "repo", &d, &out, 0), 0);
	assert_int_equal(out.len, 0);
	buf_release(&out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_wrappers_dispatch),
		cmocka_unit_test(test_missing_ops),
		cmocka_unit_test(test_blob_read_ok),
		cmocka_unit_test(test_blob_read_refuses_big_descriptor),
		cmocka_unit_test(test_blob_read_store_sends_too_much),
		cmocka_unit_test(test_blob_read_wrong_bytes),
		cmocka_unit_test(test_blob_read_store_error_and_buf_cap),
		cmocka_unit_test(test_blob_read_empty_blob),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
