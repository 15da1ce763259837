/*
 * buf.h — one growable byte buffer with an optional size cap.
 *
 * Invariants (git strbuf): ptr is NUL-terminated whenever alloc > 0, so
 * buf_cstr() is always a valid C string; len never counts that NUL.
 * A cap (curl dynbuf's "toobig") bounds what a peer can make us hold:
 * manifests, token responses and error bodies are read into capped bufs,
 * blobs never are.
 */
#ifndef RV_UTIL_BUF_H
#define RV_UTIL_BUF_H

#include <stddef.h>
#include "util/xalloc.h"

struct buf {
	char *ptr;
	size_t len;
	size_t alloc;
	size_t max;   /* 0 = no cap */
};

#define BUF_INIT { NULL, 0, 0, 0 }

void buf_init(struct buf *b, size_t max);
/* Frees the memory and leaves an empty buf with the same cap. */
void buf_release(struct buf *b);
/* Empties without freeing. */
void buf_reset(struct buf *b);
/* Appends; RV_ETOOBIG (and b unchanged) when the cap would be exceeded,
 * with the message "over the <max>-byte limit" for the caller to wrap. */
int buf_add(struct buf *b, const void *data, size_t len);
int buf_addstr(struct buf *b, const char *s);
int buf_addch(struct buf *b, char c);
int buf_addf(struct buf *b, const char *fmt, ...) RV_PRINTF(2, 3);
/* The contents as a C string ("" when empty, never NULL). */
const char *buf_cstr(const struct buf *b);
/* Hands the memory to the caller (free() it) and empties b. Never NULL. */
char *buf_detach(struct buf *b, size_t *len_out);

#endif
