/*
 * error.h — result codes and the one error message per thread.
 *
 * Functions return int: 0 on success, a negative RV_E* code on failure.
 * The message is set once, where the failure is seen, with error_set();
 * callers that only pass the failure up return the code and leave the
 * message alone (libgit2 docs/error-handling.md). Message style is git's:
 * lowercase, no trailing period, the failing thing in quotes:
 *   manifest "app@sha256:ab12…" on "reg.example.com": 404 MANIFEST_UNKNOWN
 */
#ifndef RV_UTIL_ERROR_H
#define RV_UTIL_ERROR_H

#include "util/xalloc.h"

enum rv_code {
	RV_OK = 0,
	RV_ERROR = -1,       /* anything not listed below */
	RV_ENOTFOUND = -2,   /* the thing does not exist (404, missing file) */
	RV_EAUTH = -3,       /* credentials missing or rejected (401) */
	RV_EDENIED = -4,     /* authenticated but not allowed (403, insufficient scope) */
	RV_EDIGEST = -5,     /* bytes do not hash to the expected digest, or wrong size */
	RV_ETRANSIENT = -6,  /* worth retrying later: 5xx, 429, resets, timeouts */
	RV_EINVALID = -7,    /* malformed input: reference, manifest, config, JSON */
	RV_EEXISTS = -8,     /* already exists */
	RV_EUNSUPPORTED = -9,/* understood but not supported (schema1, unknown digest alg) */
	RV_ETOOBIG = -10,    /* over a size cap */
	RV_ETLS = -11,       /* TLS handshake or certificate verification failed */
	RV_ECANCELLED = -12, /* stopped on request (a callback asked to abort) */
};

/* Sets this thread's message (replacing any older one) and returns `code`. */
int error_set(int code, const char *fmt, ...) RV_PRINTF(2, 3);
/* Prepends "<context>: " to the current message; returns `code`. For adding
 * what was being done when a lower layer failed, never to restate it. */
int error_wrap(int code, const char *fmt, ...) RV_PRINTF(2, 3);
/* The current message, or "" when none is set. Valid until the next set. */
const char *error_msg(void);
/* The code passed to the last error_set(), RV_OK when none. */
int error_code(void);
void error_clear(void);
/* A stable lowercase name for a code ("not_found", "digest_mismatch"…), for JSON. */
const char *error_code_name(int code);

#endif
