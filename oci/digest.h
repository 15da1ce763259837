/*
 * digest.h — content digests (image-spec descriptor.md "Digests").
 *
 * A digest is kept as its string form "<alg>:<hex>" in a fixed buffer; the
 * registered algorithms sha256 and sha512 (lowercase hex only) are the ones
 * we can verify. Hashers stream: blobs are hashed as they pass, never held.
 */
#ifndef RV_OCI_DIGEST_H
#define RV_OCI_DIGEST_H

#include <stddef.h>

/* "sha512:" + 128 hex + NUL, rounded up. */
#define OCI_DIGEST_MAX 144

enum oci_digest_alg { OCI_SHA256 = 0, OCI_SHA512 = 1 };

/* 0 when s is a valid sha256/sha512 digest with lowercase hex of the right
 * length. RV_EUNSUPPORTED for a grammatical digest of another algorithm,
 * RV_EINVALID otherwise; the message quotes s. */
int oci_digest_validate(const char *s);
/* The algorithm of a digest that passed oci_digest_validate(). */
enum oci_digest_alg oci_digest_alg_of(const char *digest);
/* The part after ':' (the whole string when there is no ':'). */
const char *oci_digest_hex(const char *digest);
/* Hash of data in one call; out holds OCI_DIGEST_MAX bytes. */
void oci_digest_compute(char *out, enum oci_digest_alg alg, const void *data, size_t len);
/* 0 when data hashes to `expected` (which must validate), RV_EDIGEST with
 * "expected … got …" otherwise. `what` names the thing in the message. */
int oci_digest_verify(const char *expected, const void *data, size_t len, const char *what);

typedef struct oci_hasher oci_hasher;

/* Streaming hasher on OpenSSL EVP. Never fails except by running out of
 * memory (which aborts). */
oci_hasher *oci_hasher_new(enum oci_digest_alg alg);
void oci_hasher_update(oci_hasher *h, const void *data, size_t len);
/* Writes "<alg>:<hex>" to out (OCI_DIGEST_MAX bytes). The hasher may not be
 * updated afterwards, only freed. */
void oci_hasher_final(oci_hasher *h, char *out);
void oci_hasher_free(oci_hasher *h);

#endif
