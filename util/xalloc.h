/*
 * xalloc.h — allocation that never returns NULL.
 *
 * regvault is a command-line tool: when memory runs out there is nothing
 * useful left to do, so these wrappers print one line and abort (git's
 * wrapper.c, tmux's xmalloc.c). Call sites stay free of NULL checks.
 */
#ifndef RV_UTIL_XALLOC_H
#define RV_UTIL_XALLOC_H

#include <stdarg.h>
#include <stddef.h>

#if defined(__GNUC__)
#define RV_PRINTF(fmt, args) __attribute__((format(printf, fmt, args)))
#define RV_NORETURN __attribute__((noreturn))
#else
#define RV_PRINTF(fmt, args)
#define RV_NORETURN
#endif

void *xmalloc(size_t size);
void *xcalloc(size_t nmemb, size_t size);
void *xrealloc(void *ptr, size_t size);
/* Grows an array of `*alloc` elements of `elem` bytes so it holds `need`. */
void *xgrow(void *ptr, size_t elem, size_t need, size_t *alloc);
char *xstrdup(const char *s);
/* NULL in, NULL out: handy for optional fields. */
char *xstrdup_or_null(const char *s);
char *xstrndup(const char *s, size_t n);
void *xmemdup(const void *p, size_t n);
char *xasprintf(const char *fmt, ...) RV_PRINTF(1, 2);
/* The va_list form, for functions that take a format themselves. */
char *xvasprintf(const char *fmt, va_list ap) RV_PRINTF(1, 0);

/* Prints "regvault: fatal: <msg>" to stderr and aborts. Only for the impossible. */
RV_NORETURN void xdie(const char *fmt, ...) RV_PRINTF(1, 2);

#endif
