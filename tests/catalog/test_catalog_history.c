/* Unit tests for catalog/: tag history (seen, resolve at a time, history). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "tests/catalog/fixture.h"
#include "util/error.h"
#include "util/banned.h"

#define D1 "sha256:1111111111111111111111111111111111111111111111111111111111111111"
#define D2 "sha256:2222222222222222222222222222222222222222222222222222222222222222"
#define D3 "sha256:3333333333333333333333333333333333333333333333333333333333333333"

static void resolve_is(catalog *c, const char *tag, int64_t at, const char *want)
{
	char d[OCI_DIGEST_MAX] = "";
	int rc = catalog_tag_resolve(c, "reg.example.com:5000", "team/app", tag, at, d);

	if (!want) {
		assert_int_equal(rc, RV_ENOTFOUND);
		return;
	}
	if (rc)
		fail_msg("resolve %s at %lld: %s", tag, (long long)at, error_msg());
	assert_string_equal(d, want);
}

static int seen(catalog *c, const char *tag, const char *digest, int64_t when)
{
	return catalog_tag_seen(c, "reg.example.com:5000", "team/app", tag, digest, when, 0);
}

static void test_same_digest_extends(void **state)
{
	struct fx *f = *state;
	struct catalog_tag_event *ev = NULL;
	size_t n = 0;
	int64_t run = 0;

	assert_int_equal(catalog_run_start(f->c, "backup", "{}", &run), 0);
	assert_int_equal(catalog_tag_seen(f->c, "reg.example.com:5000", "team/app", "v1", D1,
	                                  100, run), 0);
	assert_int_equal(seen(f->c, "v1", D1, 200), 0);
	assert_int_equal(seen(f->c, "v1", D1, 150), 0);   /* out of order: no shrink */
	assert_int_equal(catalog_tag_history(f->c, "reg.example.com:5000", "team/app", "v1", &ev,
	                                     &n), 0);
	assert_int_equal(n, 1);
	assert_string_equal(ev[0].digest, D1);
	assert_int_equal(ev[0].first_seen, 100);
	assert_int_equal(ev[0].last_seen, 200);
	free(ev);
}

static void test_moves_and_resolve_at(void **state)
{
	struct fx *f = *state;
	struct catalog_tag_event *ev = NULL;
	size_t n = 0;

	/* v1: D1 during [100, 200], D2 during [300, 400], back to D1 at 500. */
	assert_int_equal(seen(f->c, "v1", D1, 100), 0);
	assert_int_equal(seen(f->c, "v1", D1, 200), 0);
	assert_int_equal(seen(f->c, "v1", D2, 300), 0);
	assert_int_equal(seen(f->c, "v1", D2, 400), 0);
	assert_int_equal(seen(f->c, "v1", D1, 500), 0);
	/* Another tag and another repository do not interfere. */
	assert_int_equal(seen(f->c, "v2", D3, 250), 0);
	assert_int_equal(catalog_tag_seen(f->c, "reg.example.com:5000", "team/other", "v1", D3,
	                                  350, 0), 0);

	resolve_is(f->c, "v1", 50, NULL);
	assert_non_null(strstr(error_msg(), "reg.example.com:5000/team/app:v1"));
	assert_non_null(strstr(error_msg(), "1970-01-01T00:00:50Z"));
	resolve_is(f->c, "v1", 100, D1);
	resolve_is(f->c, "v1", 250, D1);   /* between: last seen before the move */
	resolve_is(f->c, "v1", 300, D2);
	resolve_is(f->c, "v1", 450, D2);
	resolve_is(f->c, "v1", 9999, D1);
	resolve_is(f->c, "v1", 0, D1);
	resolve_is(f->c, "v2", 0, D3);
	resolve_is(f->c, "nope", 0, NULL);

	assert_int_equal(catalog_tag_history(f->c, "reg.example.com:5000", "team/app", "v1", &ev,
	                                     &n), 0);
	assert_int_equal(n, 3);
	assert_string_equal(ev[0].digest, D1);
	assert_int_equal(ev[0].first_seen, 100);
	assert_int_equal(ev[0].last_seen, 200);
	assert_string_equal(ev[1].digest, D2);
	assert_int_equal(ev[1].first_seen, 300);
	assert_int_equal(ev[1].last_seen, 400);
	assert_string_equal(ev[2].digest, D1);
	assert_int_equal(ev[2].first_seen, 500);
	free(ev);
}

static void test_unknown_and_invalid(void **state)
{
	struct fx *f = *state;
	struct catalog_tag_event *ev = (void *)1;
	char d[OCI_DIGEST_MAX];
	size_t n = 7;

	assert_int_equal(catalog_tag_history(f->c, "reg", "app", "v1", &ev, &n), RV_ENOTFOUND);
	assert_null(ev);
	assert_int_equal(n, 0);
	assert_int_equal(catalog_tag_resolve(f->c, "reg", "app", "v1", 0, d), RV_ENOTFOUND);
	assert_non_null(strstr(error_msg(), "\"reg/app:v1\""));
	assert_int_equal(seen(f->c, "v1", "sha256:zz", 1), RV_EINVALID);
	assert_int_equal(seen(f->c, "", D1, 1), RV_EINVALID);
	assert_int_equal(catalog_tag_seen(f->c, "", "app", "v1", D1, 1, 0), RV_EINVALID);
	assert_int_equal(catalog_tag_seen(f->c, "reg", "app", "v1", D1, 1, 424242), RV_ENOTFOUND);
	assert_int_equal(catalog_tag_resolve(f->c, "reg", "app", "v1", 0, d), RV_ENOTFOUND);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_same_digest_extends, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_moves_and_resolve_at, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_unknown_and_invalid, fx_setup, fx_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
