/*
 * internal.h — private to xfer/: the image graph and the blob pipe.
 */
#ifndef RV_XFER_INTERNAL_H
#define RV_XFER_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include "oci/store.h"
#include "util/strlist.h"
#include "xfer/xfer.h"

/* A manifest of the graph, in put order: children before parents, subjects
 * before referrers. */
struct gnode {
	struct oci_manifest *m;
	int top;          /* listed on its own (the image, a referrer, a tagged attachment) */
	char *tag;        /* put under this tag (NULL: by digest) */
	int incomplete;   /* an index some of whose children --platform left out */
};

/* A blob the image needs, once per digest. */
struct gblob {
	struct oci_descriptor d;
};

struct graph {
	const char *src_repo;
	struct gnode *nodes;
	size_t n_nodes, alloc_nodes;
	struct gblob *blobs;
	size_t n_blobs, alloc_blobs;
	int64_t total;                /* bytes of all blobs */
};

/* Per-copy cache of source tag lists, for finding cosign attachment tags. */
struct tag_cache {
	char **repos;
	struct strlist *tags;
	size_t n, alloc;
};

/* graph.c */
int graph_walk(struct graph *g, struct oci_store *src, const struct xfer_image *img,
               const struct xfer_options *o, struct tag_cache *tc);
void graph_release(struct graph *g);
void tag_cache_release(struct tag_cache *tc);

/* pipe.c — a bounded buffer between a blob GET (sink side) and a blob PUT
 * (source side) running concurrently on the same event loop. When one side
 * paused and the other made room or data, the pipe calls wake(ctx, side):
 * the engine resumes that transfer (stores allow it from inside callbacks). */
enum pipe_side { PIPE_GET, PIPE_PUT };
struct pipe;
struct pipe *pipe_new(size_t cap, void (*wake)(void *ctx, enum pipe_side side), void *ctx);
void pipe_free(struct pipe *p);
struct oci_sink pipe_sink(struct pipe *p);
struct oci_source pipe_source(struct pipe *p);
/* The reading (GET) side ended: rc 0 = all bytes are in the buffer. */
void pipe_writer_done(struct pipe *p, int rc);
/* The writing (PUT) side ended: a GET still running must stop. */
void pipe_reader_done(struct pipe *p, int rc);

#endif
