/*
 * xalloc.c — allocation wrappers that abort instead of returning NULL
 * (git wrapper.c, tmux xmalloc.c).
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/xalloc.h"
#include "util/banned.h"

void xdie(const char *fmt, ...)
{
	va_list ap;

	fputs("regvault: fatal: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	abort();
}

void *xmalloc(size_t size)
{
	/* malloc(0) may return NULL; ask for one byte so NULL always means OOM. */
	void *p = malloc(size ? size : 1);

	if (!p)
		xdie("out of memory allocating %zu bytes", size);
	return p;
}

void *xcalloc(size_t nmemb, size_t size)
{
	void *p;

	if (nmemb == 0 || size == 0)
		nmemb = size = 1;
	p = calloc(nmemb, size);
	if (!p)
		xdie("out of memory allocating %zu x %zu bytes", nmemb, size);
	return p;
}

void *xrealloc(void *ptr, size_t size)
{
	void *p = realloc(ptr, size ? size : 1);

	if (!p)
		xdie("out of memory reallocating %zu bytes", size);
	return p;
}

void *xgrow(void *ptr, size_t elem, size_t need, size_t *alloc)
{
	size_t n = *alloc;

	if (need <= n)
		return ptr;
	/* Grow by half again (git's alloc_nr) so appends stay amortised O(1). */
	n = n < 8 ? 8 : n;
	while (n < need) {
		if (n > SIZE_MAX / 3)
			xdie("array of %zu elements is too large", need);
		n = n + n / 2;
	}
	if (elem && n > SIZE_MAX / elem)
		xdie("array of %zu elements of %zu bytes is too large", n, elem);
	ptr = xrealloc(ptr, n * elem);
	*alloc = n;
	return ptr;
}

char *xstrdup(const char *s)
{
	return xmemdup(s, strlen(s) + 1);
}

char *xstrdup_or_null(const char *s)
{
	return s ? xstrdup(s) : NULL;
}

char *xstrndup(const char *s, size_t n)
{
	size_t len = strnlen(s, n);
	char *p = xmalloc(len + 1);

	memcpy(p, s, len);
	p[len] = '\0';
	return p;
}

void *xmemdup(const void *p, size_t n)
{
	void *q = xmalloc(n);

	if (n)
		memcpy(q, p, n);
	return q;
}

char *xvasprintf(const char *fmt, va_list ap)
{
	va_list ap2;
	int n;
	char *s;

	va_copy(ap2, ap);
	n = vsnprintf(NULL, 0, fmt, ap2);
	va_end(ap2);
	if (n < 0)
		xdie("invalid format string \"%s\"", fmt);
	s = xmalloc((size_t)n + 1);
	vsnprintf(s, (size_t)n + 1, fmt, ap);
	return s;
}

char *xasprintf(const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	s = xvasprintf(fmt, ap);
	va_end(ap);
	return s;
}
