/*
 * error.c — the one error message per thread (libgit2 docs/error-handling.md).
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "util/error.h"
#include "util/banned.h"

/* Long enough for a quoted reference, digest and registry reply; longer
 * messages are cut (vsnprintf never overruns) and end in "...". */
#define MSG_MAX 1536

static _Thread_local char msg[MSG_MAX];
static _Thread_local int code_last;

/* Formats into a scratch buffer first: callers may pass error_msg() itself
 * as an argument, and vsnprintf into its own source is undefined. */
static void format_into(char *dst, const char *fmt, va_list ap)
{
	int n = vsnprintf(dst, MSG_MAX, fmt, ap);

	if (n < 0)
		dst[0] = '\0';
	else if (n >= MSG_MAX)
		memcpy(dst + MSG_MAX - 4, "...", 4);
}

int error_set(int code, const char *fmt, ...)
{
	char tmp[MSG_MAX];
	va_list ap;

	va_start(ap, fmt);
	format_into(tmp, fmt, ap);
	va_end(ap);
	memcpy(msg, tmp, sizeof(msg));
	code_last = code;
	return code;
}

int error_wrap(int code, const char *fmt, ...)
{
	char ctx[MSG_MAX], tmp[MSG_MAX];
	va_list ap;
	int n;

	va_start(ap, fmt);
	format_into(ctx, fmt, ap);
	va_end(ap);
	if (!msg[0]) {
		memcpy(msg, ctx, sizeof(msg));
		return code;
	}
	n = snprintf(tmp, sizeof(tmp), "%s: %s", ctx, msg);
	if (n >= MSG_MAX)
		memcpy(tmp + MSG_MAX - 4, "...", 4);
	memcpy(msg, tmp, sizeof(msg));
	return code;
}

const char *error_msg(void)
{
	return msg;
}

int error_code(void)
{
	return code_last;
}

void error_clear(void)
{
	msg[0] = '\0';
	code_last = RV_OK;
}

const char *error_code_name(int code)
{
	switch (code) {
	case RV_OK: return "ok";
	case RV_ERROR: return "error";
	case RV_ENOTFOUND: return "not_found";
	case RV_EAUTH: return "auth";
	case RV_EDENIED: return "denied";
	case RV_EDIGEST: return "digest_mismatch";
	case RV_ETRANSIENT: return "transient";
	case RV_EINVALID: return "invalid";
	case RV_EEXISTS: return "exists";
	case RV_EUNSUPPORTED: return "unsupported";
	case RV_ETOOBIG: return "too_big";
	case RV_ETLS: return "tls";
	case RV_ECANCELLED: return "cancelled";
	}
	return "unknown";
}
