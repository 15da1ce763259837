/*
 * buf.c — the capped growable buffer (git strbuf invariants, curl dynbuf's
 * "toobig" cap).
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/buf.h"
#include "util/error.h"
#include "util/banned.h"

void buf_init(struct buf *b, size_t max)
{
	b->ptr = NULL;
	b->len = 0;
	b->alloc = 0;
	b->max = max;
}

void buf_release(struct buf *b)
{
	free(b->ptr);
	buf_init(b, b->max);
}

void buf_reset(struct buf *b)
{
	b->len = 0;
	if (b->alloc)
		b->ptr[0] = '\0';
}

/* Makes room for `extra` more bytes plus the NUL, or refuses at the cap.
 * The cap is checked before anything changes so a refused append leaves
 * b exactly as it was. */
static int reserve(struct buf *b, size_t extra)
{
	if (extra > SIZE_MAX - b->len - 1 || (b->max && b->len + extra > b->max))
		return error_set(RV_ETOOBIG, "over the %zu-byte limit", b->max);
	b->ptr = xgrow(b->ptr, 1, b->len + extra + 1, &b->alloc);
	return 0;
}

int buf_add(struct buf *b, const void *data, size_t len)
{
	int rc = reserve(b, len);

	if (rc)
		return rc;
	if (len)
		memcpy(b->ptr + b->len, data, len);
	b->len += len;
	b->ptr[b->len] = '\0';
	return 0;
}

int buf_addstr(struct buf *b, const char *s)
{
	return buf_add(b, s, strlen(s));
}

int buf_addch(struct buf *b, char c)
{
	return buf_add(b, &c, 1);
}

int buf_addf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	int n, rc;

	/* Measure first so the cap is checked before anything is written. */
	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return error_set(RV_ERROR, "invalid format string \"%s\"", fmt);
	rc = reserve(b, (size_t)n);
	if (rc)
		return rc;
	va_start(ap, fmt);
	vsnprintf(b->ptr + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
	return 0;
}

const char *buf_cstr(const struct buf *b)
{
	return b->alloc ? b->ptr : "";
}

char *buf_detach(struct buf *b, size_t *len_out)
{
	char *p;

	if (len_out)
		*len_out = b->len;
	if (!b->alloc) {
		p = xmalloc(1);
		p[0] = '\0';
	} else {
		p = b->ptr;
	}
	buf_init(b, b->max);
	return p;
}
