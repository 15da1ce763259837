/* Unit tests for oci/config.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "oci/config.h"
#include "util/error.h"
#include "util/banned.h"

static int parse(struct oci_config *c, const char *json)
{
	return oci_config_parse(c, json, strlen(json));
}

static void test_oci_config(void **state)
{
	struct oci_config c = OCI_CONFIG_INIT;
	const char *json =
		"{\"created\":\"2024-05-01T12:00:00.123456789Z\",\"architecture\":\"arm64\","
		"\"variant\":\"v8\",\"os\":\"linux\",\"config\":{\"Env\":[\"PATH=/bin\"]},"
		"\"rootfs\":{\"type\":\"layers\",\"diff_ids\":["
		"\"sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\","
		"\"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a\"]},"
		"\"history\":[{\"created_by\":\"x\"}]}";

	(void)state;
	assert_int_equal(parse(&c, json), 0);
	assert_true(c.created == 1714564800);
	assert_string_equal(c.os, "linux");
	assert_string_equal(c.architecture, "arm64");
	assert_string_equal(c.variant, "v8");
	assert_int_equal(c.n_diff_ids, 2);
	oci_config_release(&c);
	assert_null(c.os);
	assert_int_equal(c.n_diff_ids, 0);
}

static void test_docker_config_with_offset(void **state)
{
	struct oci_config c = OCI_CONFIG_INIT;
	const char *json =
		"{\"architecture\":\"amd64\",\"os\":\"linux\",\"docker_version\":\"24.0.7\","
		"\"created\":\"2024-05-01T14:00:00+02:00\",\"container_config\":{},"
		"\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"a\",\"b\",\"c\"]}}";

	(void)state;
	assert_int_equal(parse(&c, json), 0);
	assert_true(c.created == 1714564800);
	assert_null(c.variant);
	assert_int_equal(c.n_diff_ids, 3);
	oci_config_release(&c);
}

static void test_missing_and_odd_fields(void **state)
{
	static const char *const zero_created[] = {
		"{}",
		"{\"created\":\"yesterday\"}",
		"{\"created\":12345}",
		"{\"created\":null}",
		"{\"created\":\"0001-01-01T00:00:00Z\"}", /* Go zero time */
		"{\"created\":\"1969-12-31T23:59:59Z\"}",
	};
	struct oci_config c = OCI_CONFIG_INIT;

	(void)state;
	for (size_t i = 0; i < sizeof(zero_created) / sizeof(zero_created[0]); i++) {
		assert_int_equal(parse(&c, zero_created[i]), 0);
		assert_true(c.created == 0);
		oci_config_release(&c);
	}
	assert_int_equal(parse(&c, "{\"created\":\"1970-01-01T00:00:01Z\",\"os\":7,"
	                           "\"architecture\":null,\"rootfs\":{\"diff_ids\":{}}}"), 0);
	assert_true(c.created == 1);
	assert_null(c.os);
	assert_null(c.architecture);
	assert_int_equal(c.n_diff_ids, 0);
	oci_config_release(&c);
	assert_int_equal(parse(&c, "{\"rootfs\":[]}"), 0);
	assert_int_equal(c.n_diff_ids, 0);
	oci_config_release(&c);
}

static void test_invalid(void **state)
{
	static const char *const bad[] = { "", "not json", "[]", "\"s\"", "{\"a\":1", "{}{}", "null" };
	struct oci_config c = { 5, (char *)"keep", NULL, NULL, 9 };

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (parse(&c, bad[i]) != RV_EINVALID)
			fail_msg("accepted \"%s\"", bad[i]);
		assert_int_equal(strncmp(error_msg(), "config: ", 8), 0);
	}
	assert_string_equal(c.os, "keep");
	assert_int_equal(c.n_diff_ids, 9);
}

static void test_cap(void **state)
{
	size_t n = OCI_CONFIG_MAX + 1;
	char *big = malloc(n);
	struct oci_config c = OCI_CONFIG_INIT;

	(void)state;
	memset(big, ' ', n);
	big[0] = '{';
	big[n - 1] = '}';
	assert_int_equal(oci_config_parse(&c, big, n), RV_ETOOBIG);
	/* Just at the cap it parses. */
	big[n - 2] = '}';
	assert_int_equal(oci_config_parse(&c, big, n - 1), 0);
	oci_config_release(&c);
	free(big);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_oci_config),
		cmocka_unit_test(test_docker_config_with_offset),
		cmocka_unit_test(test_missing_and_odd_fields),
		cmocka_unit_test(test_invalid),
		cmocka_unit_test(test_cap),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
