/*
 * str.c — string helpers: strict integers, globs, base64, sizes.
 */
#include <ctype.h>
#include <fnmatch.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util/error.h"
#include "util/str.h"
#include "util/banned.h"

int str_has_prefix(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

int str_has_suffix(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && memcmp(s + n - m, suffix, m) == 0;
}

int str_has_prefix_ci(const char *s, const char *prefix)
{
	return strncasecmp(s, prefix, strlen(prefix)) == 0;
}

/* Accumulates as a negative number so INT64_MIN parses without overflow. */
int str_to_int64(const char *s, int64_t *out)
{
	const char *p = s;
	int neg = 0;
	int64_t v = 0;

	if (*p == '-') {
		neg = 1;
		p++;
	}
	if (!*p)
		goto bad;
	for (; *p; p++) {
		int d = *p - '0';

		if (d < 0 || d > 9)
			goto bad;
		if (v < (INT64_MIN + d) / 10)
			goto bad;
		v = v * 10 - d;
	}
	if (!neg && v == INT64_MIN)
		goto bad;
	*out = neg ? v : -v;
	return 0;
bad:
	return error_set(RV_EINVALID, "invalid integer \"%s\"", s);
}

char *str_trim(char *s)
{
	size_t start = 0, end = strlen(s);

	while (start < end && isspace((unsigned char)s[start]))
		start++;
	while (end > start && isspace((unsigned char)s[end - 1]))
		end--;
	memmove(s, s + start, end - start);
	s[end - start] = '\0';
	return s;
}

int str_glob_match(const char *pattern, const char *s)
{
	return fnmatch(pattern, s, 0) == 0;
}

int str_has_glob(const char *s)
{
	return strpbrk(s, "*?[") != NULL;
}

char *str_printable(char *out, size_t outlen, const char *s)
{
	size_t i = 0;

	if (!outlen)
		return out;
	for (; s[i] && i + 1 < outlen; i++) {
		unsigned char c = (unsigned char)s[i];

		out[i] = c < 0x20 || c == 0x7f ? '?' : (char)c;
	}
	out[i] = '\0';
	if (s[i] && outlen >= 4)
		memcpy(out + outlen - 4, "...", 4);
	return out;
}

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

char *str_base64_encode(const void *data, size_t len)
{
	const unsigned char *p = data;
	char *out = xmalloc((len + 2) / 3 * 4 + 1), *o = out;

	for (size_t i = 0; i < len; i += 3) {
		uint32_t v = (uint32_t)p[i] << 16;

		if (i + 1 < len)
			v |= (uint32_t)p[i + 1] << 8;
		if (i + 2 < len)
			v |= p[i + 2];
		*o++ = b64[v >> 18 & 63];
		*o++ = b64[v >> 12 & 63];
		*o++ = i + 1 < len ? b64[v >> 6 & 63] : '=';
		*o++ = i + 2 < len ? b64[v & 63] : '=';
	}
	*o = '\0';
	return out;
}

/* Both alphabets: standard (RFC 4648 §4) and URL-safe (§5), as JWTs and
 * docker config "auth" values use one or the other. */
static int b64_value(char c)
{
	const char *p;

	if (c == '-')
		return 62;
	if (c == '_')
		return 63;
	p = c ? strchr(b64, c) : NULL;
	return p ? (int)(p - b64) : -1;
}

/* Collects the sextets of s, skipping CR/LF as Go's decoder does, and
 * checks that any '=' padding is well placed. Returns the count or -1. */
static long b64_sextets(const char *s, unsigned char *v)
{
	long n = 0, pad = 0;

	for (; *s; s++) {
		int x;

		if (*s == '\r' || *s == '\n')
			continue;
		if (*s == '=') {
			pad++;
			continue;
		}
		x = b64_value(*s);
		if (x < 0 || pad)
			return -1;
		v[n++] = (unsigned char)x;
	}
	if (n % 4 == 1 || pad > 2 || (pad && (n + pad) % 4 != 0))
		return -1;
	return n;
}

int str_base64_decode(struct buf *out, const char *s)
{
	size_t old_len = out->len;
	unsigned char *v = xmalloc(strlen(s) + 1);
	long n = b64_sextets(s, v);
	int rc = 0;

	if (n < 0) {
		free(v);
		return error_set(RV_EINVALID, "invalid base64 data");
	}
	for (long i = 0; i < n && !rc; i += 4) {
		long left = n - i;
		uint32_t w = (uint32_t)v[i] << 18 | (uint32_t)v[i + 1] << 12;
		unsigned char bytes[3];

		if (left > 2)
			w |= (uint32_t)v[i + 2] << 6;
		if (left > 3)
			w |= v[i + 3];
		bytes[0] = (unsigned char)(w >> 16);
		bytes[1] = (unsigned char)(w >> 8);
		bytes[2] = (unsigned char)w;
		rc = buf_add(out, bytes, left > 3 ? 3 : (size_t)left - 1);
	}
	free(v);
	if (rc) {
		out->len = old_len;
		if (out->alloc)
			out->ptr[old_len] = '\0';
	}
	return rc;
}

/* SI units (1 kB = 1000 B), the way registry UIs and `docker images` show
 * sizes. One decimal; a value that would round to 1000 moves up a unit. */
char *str_human_bytes(int64_t n, char *out, size_t outlen)
{
	static const char *const units[] = { "kB", "MB", "GB", "TB", "PB", "EB" };
	uint64_t mag = n < 0 ? (uint64_t)0 - (uint64_t)n : (uint64_t)n;
	const char *sign = n < 0 ? "-" : "";
	double v;
	size_t u = 0;

	if (mag < 1000) {
		snprintf(out, outlen, "%s%llu B", sign, (unsigned long long)mag);
		return out;
	}
	v = (double)mag / 1000.0;
	while (v >= 999.95 && u + 1 < sizeof(units) / sizeof(units[0])) {
		v /= 1000.0;
		u++;
	}
	snprintf(out, outlen, "%s%.1f %s", sign, v, units[u]);
	return out;
}
