/*
 * strlist.h — a growable list of owned strings.
 */
#ifndef RV_UTIL_STRLIST_H
#define RV_UTIL_STRLIST_H

#include <stddef.h>

struct strlist {
	char **v;
	size_t n;
	size_t alloc;
};

#define STRLIST_INIT { NULL, 0, 0 }

/* Appends a copy of s. */
void strlist_add(struct strlist *l, const char *s);
/* Appends s and takes ownership of it. */
void strlist_add_owned(struct strlist *l, char *s);
void strlist_sort(struct strlist *l);
/* 1 when an equal string is present. */
int strlist_contains(const struct strlist *l, const char *s);
void strlist_release(struct strlist *l);

#endif
