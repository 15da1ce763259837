/*
 * digest.c — content digests on OpenSSL EVP (image-spec descriptor.md
 * "Digests").
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "oci/digest.h"
#include "util/error.h"
#include "util/str.h"
#include "util/xalloc.h"
#include "util/banned.h"

struct oci_hasher {
	EVP_MD_CTX *ctx;
	enum oci_digest_alg alg;
};

static int is_lower_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

/* algorithm ::= component (separator component)*, component ::= [a-z0-9]+,
 * separator ::= [+._-] (image-spec descriptor.md "Digests"). */
static int algorithm_grammatical(const char *s, size_t len)
{
	int need_component = 1;

	for (size_t i = 0; i < len; i++) {
		if (is_lower_alnum(s[i]))
			need_component = 0;
		else if (strchr("+._-", s[i]) && !need_component)
			need_component = 1;
		else
			return 0;
	}
	return len > 0 && !need_component;
}

/* encoded ::= [a-zA-Z0-9=_-]+ */
static int encoded_grammatical(const char *s)
{
	if (!*s)
		return 0;
	for (; *s; s++)
		if (!is_lower_alnum(*s) && !(*s >= 'A' && *s <= 'Z') && !strchr("=_-", *s))
			return 0;
	return 1;
}

/* Registered algorithms MUST use lowercase hex of the exact length. */
static int hex_ok(const char *s, size_t want, int *uppercase)
{
	size_t n = 0;

	*uppercase = 0;
	for (; s[n]; n++) {
		if (s[n] >= 'A' && s[n] <= 'F')
			*uppercase = 1;
		else if (!(s[n] >= '0' && s[n] <= '9') && !(s[n] >= 'a' && s[n] <= 'f'))
			return 0;
	}
	return n == want && !*uppercase;
}

int oci_digest_validate(const char *s)
{
	char q[160];
	const char *colon = s ? strchr(s, ':') : NULL;
	size_t alen, want;
	int upper = 0;

	if (!colon || !algorithm_grammatical(s, (size_t)(colon - s)) ||
	    !encoded_grammatical(colon + 1))
		return error_set(RV_EINVALID, "invalid digest \"%s\"",
		                 s ? str_printable(q, sizeof(q), s) : "");
	alen = (size_t)(colon - s);
	if (alen == 6 && memcmp(s, "sha256", 6) == 0)
		want = 64;
	else if (alen == 6 && memcmp(s, "sha512", 6) == 0)
		want = 128;
	else
		return error_set(RV_EUNSUPPORTED, "unsupported digest algorithm \"%.*s\" in \"%s\"",
		                 (int)(alen > 32 ? 32 : alen), s, str_printable(q, sizeof(q), s));
	if (hex_ok(colon + 1, want, &upper))
		return 0;
	if (upper)
		return error_set(RV_EINVALID, "invalid digest \"%s\": hex must be lowercase",
		                 str_printable(q, sizeof(q), s));
	return error_set(RV_EINVALID, "invalid digest \"%s\"", str_printable(q, sizeof(q), s));
}

enum oci_digest_alg oci_digest_alg_of(const char *digest)
{
	return strncmp(digest, "sha512:", 7) == 0 ? OCI_SHA512 : OCI_SHA256;
}

const char *oci_digest_hex(const char *digest)
{
	const char *colon = strchr(digest, ':');

	return colon ? colon + 1 : digest;
}

oci_hasher *oci_hasher_new(enum oci_digest_alg alg)
{
	oci_hasher *h = xmalloc(sizeof(*h));

	h->alg = alg;
	h->ctx = EVP_MD_CTX_new();
	/* Neither fails for a built-in digest except on allocation failure,
	 * which the xalloc contract treats as fatal. */
	if (!h->ctx || !EVP_DigestInit_ex(h->ctx, alg == OCI_SHA512 ? EVP_sha512() : EVP_sha256(),
	                                  NULL))
		xdie("cannot initialise a %s hasher", alg == OCI_SHA512 ? "sha512" : "sha256");
	return h;
}

void oci_hasher_update(oci_hasher *h, const void *data, size_t len)
{
	if (len && !EVP_DigestUpdate(h->ctx, data, len))
		xdie("digest update failed");
}

void oci_hasher_final(oci_hasher *h, char *out)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;
	const char *name = h->alg == OCI_SHA512 ? "sha512:" : "sha256:";
	size_t o = strlen(name);

	if (!EVP_DigestFinal_ex(h->ctx, md, &n))
		xdie("digest final failed");
	memcpy(out, name, o);
	for (unsigned int i = 0; i < n; i++) {
		out[o++] = hex[md[i] >> 4];
		out[o++] = hex[md[i] & 15];
	}
	out[o] = '\0';
}

void oci_hasher_free(oci_hasher *h)
{
	if (!h)
		return;
	EVP_MD_CTX_free(h->ctx);
	free(h);
}

void oci_digest_compute(char *out, enum oci_digest_alg alg, const void *data, size_t len)
{
	oci_hasher *h = oci_hasher_new(alg);

	oci_hasher_update(h, data, len);
	oci_hasher_final(h, out);
	oci_hasher_free(h);
}

int oci_digest_verify(const char *expected, const void *data, size_t len, const char *what)
{
	char got[OCI_DIGEST_MAX];
	int rc = oci_digest_validate(expected);

	if (rc)
		return error_wrap(rc, "%s", what);
	oci_digest_compute(got, oci_digest_alg_of(expected), data, len);
	if (strcmp(got, expected) != 0)
		return error_set(RV_EDIGEST, "%s: digest mismatch: expected \"%s\", got \"%s\"",
		                 what, expected, got);
	return 0;
}
