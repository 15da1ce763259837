/* Unit tests for oci/digest.c: validation grammar and known vectors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "oci/digest.h"
#include "util/error.h"
#include "util/banned.h"

#define EMPTY256 "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
#define EMPTY512 "sha512:cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce" \
	"47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e"
#define ABC256 "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
#define ABC512 "sha512:ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a" \
	"2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f"
/* image-spec manifest.md "Guidance for an empty descriptor": the blob {}. */
#define EMPTY_JSON "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"
#define MILLION_A "sha256:cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"

static void test_validate_valid(void **state)
{
	(void)state;
	assert_int_equal(oci_digest_validate(EMPTY256), 0);
	assert_int_equal(oci_digest_validate(EMPTY512), 0);
	assert_int_equal(oci_digest_validate(EMPTY_JSON), 0);
}

static void test_validate_invalid(void **state)
{
	static const char *const bad[] = {
		"", "sha256", "sha256:", ":abc", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
		"sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b85",   /* 63 */
		"sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b8555", /* 65 */
		"sha256:E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855",  /* upper */
		"sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b85g",
		"sha256:zz", "SHA256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
		"sha512:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
		" sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
		"sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855 ",
		"sha256::e3b0", "-sha256:abc", "sha256-:abc", "sha+:abc", "sha256:ab/c", "sha256:ab c",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (oci_digest_validate(bad[i]) != RV_EINVALID)
			fail_msg("\"%s\" not RV_EINVALID", bad[i]);
	assert_int_equal(oci_digest_validate(NULL), RV_EINVALID);
	oci_digest_validate("sha256:zz");
	assert_string_equal(error_msg(), "invalid digest \"sha256:zz\"");
	oci_digest_validate("sha256:E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855");
	assert_non_null(strstr(error_msg(), "hex must be lowercase"));
	oci_digest_validate("sha256:a\nb");
	assert_null(strchr(error_msg(), '\n'));
}

static void test_validate_unsupported(void **state)
{
	/* Grammatical digests of algorithms we cannot verify (image-spec:
	 * "SHOULD pass validation" for the grammar, but we cannot check them). */
	static const char *const t[] = {
		"sha384:abcdef", "blake3:0123456789abcdef", "multihash+base58:QmRZxt2b1FVZPNqd8hsiykDL3TdBDeTSPX9Kv46HmX4Gx8",
		"sha256+b64u:LCa0a2j_xo_5m0U8HTBBNBNCLXBkg7-g-YpeiGJm564", "a.b_c-d:x=y",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		if (oci_digest_validate(t[i]) != RV_EUNSUPPORTED)
			fail_msg("\"%s\" not RV_EUNSUPPORTED", t[i]);
	oci_digest_validate("blake3:00ff");
	assert_string_equal(error_msg(), "unsupported digest algorithm \"blake3\" in \"blake3:00ff\"");
}

static void test_parts(void **state)
{
	(void)state;
	assert_int_equal(oci_digest_alg_of(EMPTY256), OCI_SHA256);
	assert_int_equal(oci_digest_alg_of(EMPTY512), OCI_SHA512);
	assert_string_equal(oci_digest_hex(ABC256), ABC256 + 7);
	assert_string_equal(oci_digest_hex("nocolon"), "nocolon");
}

static void test_known_vectors(void **state)
{
	char out[OCI_DIGEST_MAX];
	char *million = malloc(1000000);

	(void)state;
	oci_digest_compute(out, OCI_SHA256, "", 0);
	assert_string_equal(out, EMPTY256);
	oci_digest_compute(out, OCI_SHA512, "", 0);
	assert_string_equal(out, EMPTY512);
	oci_digest_compute(out, OCI_SHA256, "abc", 3);
	assert_string_equal(out, ABC256);
	oci_digest_compute(out, OCI_SHA512, "abc", 3);
	assert_string_equal(out, ABC512);
	oci_digest_compute(out, OCI_SHA256, "{}", 2);
	assert_string_equal(out, EMPTY_JSON);
	memset(million, 'a', 1000000);
	oci_digest_compute(out, OCI_SHA256, million, 1000000);
	assert_string_equal(out, MILLION_A);
	free(million);
}

static void test_streaming_equals_one_shot(void **state)
{
	unsigned char data[10007];
	char one[OCI_DIGEST_MAX], streamed[OCI_DIGEST_MAX];

	(void)state;
	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (unsigned char)(i * 31 + i / 7);
	for (int alg = OCI_SHA256; alg <= OCI_SHA512; alg++) {
		static const size_t chunks[] = { 1, 7, 64, 1000, 4096, 10007 };

		oci_digest_compute(one, (enum oci_digest_alg)alg, data, sizeof(data));
		for (size_t c = 0; c < sizeof(chunks) / sizeof(chunks[0]); c++) {
			oci_hasher *h = oci_hasher_new((enum oci_digest_alg)alg);

			for (size_t off = 0; off < sizeof(data); off += chunks[c]) {
				size_t n = sizeof(data) - off < chunks[c] ? sizeof(data) - off : chunks[c];

				oci_hasher_update(h, data + off, n);
				oci_hasher_update(h, data, 0);
			}
			oci_hasher_final(h, streamed);
			oci_hasher_free(h);
			assert_string_equal(streamed, one);
		}
	}
	oci_hasher_free(NULL);
}

static void test_verify(void **state)
{
	(void)state;
	assert_int_equal(oci_digest_verify(ABC256, "abc", 3, "blob"), 0);
	assert_int_equal(oci_digest_verify(ABC512, "abc", 3, "blob"), 0);
	assert_int_equal(oci_digest_verify(ABC256, "abd", 3, "layer 2"), RV_EDIGEST);
	assert_string_equal(error_msg(),
	                    "layer 2: digest mismatch: expected \"" ABC256 "\", got "
	                    "\"sha256:a52d159f262b2c6ddb724a61840befc36eb30c88877a4030b65cbe86298449c9\"");
	assert_int_equal(oci_digest_verify("sha256:zz", "abc", 3, "config"), RV_EINVALID);
	assert_string_equal(error_msg(), "config: invalid digest \"sha256:zz\"");
	assert_int_equal(oci_digest_verify("md5:900150983cd24fb0d6963f7d28e17f72", "abc", 3, "x"),
	                 RV_EUNSUPPORTED);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_validate_valid),
		cmocka_unit_test(test_validate_invalid),
		cmocka_unit_test(test_validate_unsupported),
		cmocka_unit_test(test_parts),
		cmocka_unit_test(test_known_vectors),
		cmocka_unit_test(test_streaming_equals_one_shot),
		cmocka_unit_test(test_verify),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
