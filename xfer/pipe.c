/*
 * pipe.c — a bounded ring buffer between a blob download and an upload.
 *
 * Registry to registry, a blob streams from the source GET straight into
 * the destination PUT: memory stays at the buffer size whatever the blob
 * size, and nothing touches the disk. The buffer must hold at least one
 * whole write of the downloader (libcurl hands over up to its buffer size,
 * 512 KiB here, and a sink takes all of a write or none of it).
 *
 * The source side never sees "paused" twice for one wait: the pipe
 * remembers which side it told to wait and wakes exactly that side once
 * there is data (or room, or an end) for it.
 */
#include <stdlib.h>
#include <string.h>

#include "util/error.h"
#include "xfer/internal.h"
#include "util/banned.h"

struct pipe {
	unsigned char *buf;
	size_t cap, head, len;   /* data at [head, head+len) modulo cap */
	int writer_done;         /* the GET ended (writer_rc says how) */
	int writer_rc;
	int reader_rc;           /* the PUT failed: the GET must stop */
	int get_paused, put_paused;
	void (*wake)(void *ctx, enum pipe_side side);
	void *ctx;
};

struct pipe *pipe_new(size_t cap, void (*wake)(void *ctx, enum pipe_side side), void *ctx)
{
	struct pipe *p = xcalloc(1, sizeof(*p));
	p->cap = cap;
	p->buf = xmalloc(cap);
	p->wake = wake;
	p->ctx = ctx;
	return p;
}

static void wake(struct pipe *p, enum pipe_side side)
{
	int *paused = side == PIPE_GET ? &p->get_paused : &p->put_paused;
	if (*paused) {
		*paused = 0;
		p->wake(p->ctx, side);
	}
}

void pipe_free(struct pipe *p)
{
	if (!p)
		return;
	free(p->buf);
	free(p);
}

static int pipe_write(void *ctx, const void *data, size_t len)
{
	struct pipe *p = ctx;
	const unsigned char *d = data;

	if (p->reader_rc)
		return error_set(RV_ECANCELLED, "upload side of the copy failed");
	if (len > p->cap - p->len) {
		p->get_paused = 1;
		return OCI_IO_PAUSE;
	}
	size_t tail = (p->head + p->len) % p->cap;
	size_t first = len < p->cap - tail ? len : p->cap - tail;
	memcpy(p->buf + tail, d, first);
	memcpy(p->buf, d + first, len - first);
	p->len += len;
	wake(p, PIPE_PUT);
	return 0;
}

static ssize_t pipe_read(void *ctx, void *out, size_t cap)
{
	struct pipe *p = ctx;

	if (p->len == 0) {
		if (p->writer_done)
			return p->writer_rc ? p->writer_rc : 0;
		p->put_paused = 1;
		return OCI_IO_AGAIN;
	}
	size_t n = cap < p->len ? cap : p->len;
	size_t first = n < p->cap - p->head ? n : p->cap - p->head;
	memcpy(out, p->buf + p->head, first);
	memcpy((unsigned char *)out + first, p->buf, n - first);
	p->head = (p->head + n) % p->cap;
	p->len -= n;
	/* Resume the download only once a whole write fits again. */
	if (p->cap - p->len >= p->cap / 2)
		wake(p, PIPE_GET);
	return (ssize_t)n;
}

struct oci_sink pipe_sink(struct pipe *p)
{
	struct oci_sink s = { pipe_write, p };
	return s;
}

struct oci_source pipe_source(struct pipe *p)
{
	/* No rewind: the bytes already passed are gone. A failed upload is
	 * retried by the engine as a whole new GET + PUT. */
	struct oci_source s = { pipe_read, NULL, p };
	return s;
}

void pipe_writer_done(struct pipe *p, int rc)
{
	p->writer_done = 1;
	p->writer_rc = rc < 0 ? rc : 0;
	wake(p, PIPE_PUT);
}

void pipe_reader_done(struct pipe *p, int rc)
{
	p->reader_rc = rc < 0 ? rc : RV_ECANCELLED;
	wake(p, PIPE_GET);   /* let it see the failure on its next write */
}

