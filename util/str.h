/*
 * str.h — small string helpers that libc lacks or gets dangerously wrong.
 */
#ifndef RV_UTIL_STR_H
#define RV_UTIL_STR_H

#include <stddef.h>
#include <stdint.h>
#include "util/buf.h"

int str_has_prefix(const char *s, const char *prefix);
int str_has_suffix(const char *s, const char *suffix);
/* Case-insensitive (ASCII) prefix test, for HTTP header names. */
int str_has_prefix_ci(const char *s, const char *prefix);
/* Strict decimal parse of the whole string; RV_EINVALID on junk/overflow.
 * Use instead of atoi/strtol-without-checks (banned.h). */
int str_to_int64(const char *s, int64_t *out);
/* Trims ASCII whitespace in place; returns s. */
char *str_trim(char *s);
/* Shell-style glob (fnmatch without FNM_PATHNAME: '*' crosses '/'). 1 on match. */
int str_glob_match(const char *pattern, const char *s);
/* 1 when s holds any of the glob characters * ? [ */
int str_has_glob(const char *s);
/* Copies s into out (outlen bytes) fit to quote in a one-line message:
 * control characters become '?', and a string that does not fit is cut
 * and ends in "...". Returns out. For untrusted input (references, digests,
 * server replies) in error messages. */
char *str_printable(char *out, size_t outlen, const char *s);
/* Standard base64 with padding. */
char *str_base64_encode(const void *data, size_t len);
/* Decodes standard or URL-safe base64, padding optional; RV_EINVALID on junk. */
int str_base64_decode(struct buf *out, const char *s);
/* Formats a byte count for humans: "512 B", "1.4 MB" (SI, as registries' UIs do). */
char *str_human_bytes(int64_t n, char *out, size_t outlen);

#endif
