/*
 * xfer.c — the copy engine: walk, move blobs concurrently, put manifests.
 *
 * Blobs are the bulk of every copy, so they are pooled across all images
 * of a call: each (destination repository, digest) is moved once, up to
 * `jobs` at a time, whichever image asked first. How a blob moves depends
 * on what the two stores can do (oci/store.h):
 *
 *   registry → archive   GET streams into the archive's writer sink
 *   archive → registry   PUT reads the archive's rewindable source
 *   registry → registry  GET and PUT joined by a bounded pipe
 *   otherwise            one blocking copy
 *
 * Manifests are put image by image, in graph order, only for images whose
 * every blob arrived — each image as soon as its blobs are settled, in
 * image order, while later images' blobs are still moving: with a registry
 * on the other end the manifest round trips (HEAD, PUT, and the caller's
 * read-back at XFER_IMAGE_DONE) then overlap the blob transfers instead of
 * following them one at a time (issue 7: on a 63-tag mirror they were a
 * quarter of the run when done last).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/error.h"
#include "util/log.h"
#include "xfer/internal.h"
#include "util/banned.h"

/* Two downloader writes (libcurl hands over up to 512 KiB at once). */
#define PIPE_BYTES ((size_t)2 << 20)

enum unit_state { U_PENDING, U_RUNNING, U_DONE, U_SKIPPED, U_FAILED };
enum unit_mode { M_WRITER, M_READER, M_PIPE, M_SYNC };

struct copy;

/* One blob to bring to one destination repository. */
struct unit {
	struct copy *x;
	const struct oci_descriptor *d;   /* owned by a graph */
	const char *src_repo;
	const char *dst_repo;
	size_t image;                     /* first image that needs it */
	enum unit_state state;
	int attempts;
	int pending;                      /* completions still to come this attempt */
	int get_rc, put_rc;
	char *get_msg, *put_msg;
	char *msg;                        /* final failure */
	int64_t moved;                    /* bytes this attempt */
	void *get_h, *put_h, *writer_h, *reader_h;
	struct pipe *pipe;
	size_t same_next;                 /* next unit with this digest, index + 1; 0 ends */
	struct unit *waiters;             /* same digest, other repository: wait for us, then mount */
	struct unit *next_waiter;
	struct oci_sink inner_sink;       /* what counted_write forwards to */
	struct oci_source inner_src;      /* what counted_read forwards to */
};

struct copy {
	struct oci_store *src, *dst;
	const struct xfer_image *images;
	size_t n_images;
	const struct xfer_options *o;
	struct graph *graphs;
	struct unit *units;
	size_t n_units;
	size_t *by_digest;                /* hash of digest → first unit index + 1 */
	size_t n_buckets;                 /* a power of two, at least twice the units */
	size_t *queue;                    /* unit indices waiting to start */
	size_t q_head, q_len, q_cap;
	int inflight;
	int64_t done_bytes, total_bytes;
	enum unit_mode mode;
	int dst_is_archive;               /* blobs are store-wide there */
	struct xfer_result *results;
	size_t finished;                  /* images[0..finished) are done */
};

static void progress(struct copy *x, enum xfer_event ev, size_t image, const struct unit *u,
                     int rc, const char *msg)
{
	if (!x->o->progress)
		return;
	struct xfer_progress p = { 0 };
	p.event = ev;
	p.image = image;
	p.name = x->images[image].ref;
	p.digest = u ? u->d->digest : NULL;
	p.blob_done = u ? u->moved : 0;
	p.blob_total = u ? u->d->size : 0;
	p.done_bytes = x->done_bytes;
	p.total_bytes = x->total_bytes;
	p.rc = rc;
	p.msg = msg;
	x->o->progress(&p, x->o->progress_ctx);
}

static void blob_progress(struct unit *u, enum xfer_event ev, int rc, const char *msg)
{
	progress(u->x, ev, u->image, u, rc, msg);
}

/* --- The queue of units ---------------------------------------------------- */

static void enqueue(struct copy *x, size_t i)
{
	if (x->q_len == x->q_cap) {
		size_t cap = x->q_cap ? x->q_cap * 2 : 64;
		size_t *q = xmalloc(cap * sizeof(*q));
		for (size_t k = 0; k < x->q_len; k++)
			q[k] = x->queue[(x->q_head + k) % x->q_cap];
		free(x->queue);
		x->queue = q;
		x->q_head = 0;
		x->q_cap = cap;
	}
	x->queue[(x->q_head + x->q_len++) % x->q_cap] = i;
}

static struct unit *dequeue(struct copy *x)
{
	if (!x->q_len)
		return NULL;
	size_t i = x->queue[x->q_head];
	x->q_head = (x->q_head + 1) % x->q_cap;
	x->q_len--;
	return &x->units[i];
}

/* Units are found by digest through a hash table: a backup of thousands
 * of images has tens of thousands of blobs, and scanning them for every
 * blob of every image would be quadratic. */
static size_t *bucket(struct copy *x, const char *digest)
{
	uint64_t h = 1469598103934665603ull;   /* FNV-1a */

	for (const char *p = digest; *p; p++)
		h = (h ^ (unsigned char)*p) * 1099511628211ull;
	size_t i = (size_t)h & (x->n_buckets - 1);
	while (x->by_digest[i] && strcmp(x->units[x->by_digest[i] - 1].d->digest, digest) != 0)
		i = (i + 1) & (x->n_buckets - 1);
	return &x->by_digest[i];
}

/* The first unit with this digest (follow same_next for the others). */
static struct unit *first_same(struct copy *x, const char *digest)
{
	size_t k = *bucket(x, digest);
	return k ? &x->units[k - 1] : NULL;
}

static struct unit *next_same(struct copy *x, const struct unit *u)
{
	return u->same_next ? &x->units[u->same_next - 1] : NULL;
}

static struct unit *find_unit(struct copy *x, const char *dst_repo, const char *digest)
{
	for (struct unit *u = first_same(x, digest); u; u = next_same(x, u))
		if (x->dst_is_archive || strcmp(u->dst_repo, dst_repo) == 0)
			return u;
	return NULL;
}

static void new_unit(struct copy *x, size_t image, const struct oci_descriptor *d)
{
	struct unit *u = &x->units[x->n_units];
	size_t *b = bucket(x, d->digest);

	memset(u, 0, sizeof(*u));
	u->x = x;
	u->d = d;
	u->src_repo = x->images[image].src_repo;
	u->dst_repo = x->images[image].dst_repo;
	u->image = image;
	u->same_next = *b;   /* newest first in the chain */
	*b = ++x->n_units;
	enqueue(x, x->n_units - 1);
	x->total_bytes += d->size;
}

static void plan_units(struct copy *x)
{
	size_t blobs = 0;

	for (size_t i = 0; i < x->n_images; i++)
		blobs += x->graphs[i].n_blobs;
	/* Sized once: units never outnumber the blobs of all graphs. */
	x->units = xcalloc(blobs + 1, sizeof(*x->units));
	for (x->n_buckets = 16; x->n_buckets < 2 * blobs; x->n_buckets *= 2)
		;
	x->by_digest = xcalloc(x->n_buckets, sizeof(*x->by_digest));
	for (size_t i = 0; i < x->n_images; i++) {
		struct graph *g = &x->graphs[i];
		for (size_t b = 0; b < g->n_blobs; b++)
			if (!find_unit(x, x->images[i].dst_repo, g->blobs[b].d.digest))
				new_unit(x, i, &g->blobs[b].d);
	}
}

/* --- Finishing an attempt ----------------------------------------------------- */

static void set_msg(char **slot, const char *msg)
{
	free(*slot);
	*slot = xstrdup(msg && *msg ? msg : "failed");
}

/* Units that waited for u go back in the queue (and will mount from it). */
static void release_waiters(struct unit *u)
{
	struct copy *x = u->x;

	while (u->waiters) {
		struct unit *w = u->waiters;
		u->waiters = w->next_waiter;
		w->next_waiter = NULL;
		enqueue(x, (size_t)(w - x->units));
	}
}

static void attempt_over(struct unit *u, int rc, const char *msg)
{
	struct copy *x = u->x;

	x->inflight--;
	release_waiters(u);
	pipe_free(u->pipe);
	u->pipe = NULL;
	if (rc == 0) {
		u->state = U_DONE;
		x->done_bytes += u->d->size;
		blob_progress(u, XFER_BLOB_DONE, 0, NULL);
		return;
	}
	/* A reset connection or a flipped byte in transit may not happen
	 * twice: the whole blob is tried again, from a fresh GET. */
	if ((rc == RV_ETRANSIENT || rc == RV_EDIGEST) && ++u->attempts < x->o->blob_attempts) {
		log_info("%s; trying blob %s again (%d of %d)", msg, u->d->digest, u->attempts + 1,
		         x->o->blob_attempts);
		u->state = U_PENDING;
		enqueue(x, (size_t)(u - x->units));
		return;
	}
	u->state = U_FAILED;
	set_msg(&u->msg, msg);
	blob_progress(u, XFER_BLOB_DONE, rc, u->msg);
}

/* Counts bytes for progress on their way to the real sink or from the real source. */
static int counted_write(void *ctx, const void *data, size_t len)
{
	struct unit *u = ctx;
	int rc = u->inner_sink.write(u->inner_sink.ctx, data, len);

	if (rc == 0) {
		u->moved += (int64_t)len;
		blob_progress(u, XFER_BLOB_BYTES, 0, NULL);
	}
	return rc;
}

static ssize_t counted_read(void *ctx, void *buf, size_t cap)
{
	struct unit *u = ctx;
	ssize_t n = u->inner_src.read(u->inner_src.ctx, buf, cap);

	if (n > 0) {
		u->moved += n;
		blob_progress(u, XFER_BLOB_BYTES, 0, NULL);
	}
	return n;
}

static int counted_rewind(void *ctx)
{
	struct unit *u = ctx;
	u->moved = 0;
	return u->inner_src.rewind(u->inner_src.ctx);
}

/* --- Starting an attempt, one function per way of moving ----------------------- */

static void writer_get_done(void *ctx, int rc, const char *msg)
{
	struct unit *u = ctx;
	struct oci_store *dst = u->x->dst;

	u->get_h = NULL;
	int wrc = dst->ops->blob_writer_close(dst, u->writer_h, rc == 0);
	u->writer_h = NULL;
	if (rc == 0 && wrc < 0) {
		rc = wrc;
		msg = error_msg();
	}
	attempt_over(u, rc, msg);
}

static int start_writer(struct unit *u)
{
	struct copy *x = u->x;
	struct oci_sink counted = { counted_write, u };
	int rc = x->dst->ops->blob_writer_open(x->dst, u->d, &u->inner_sink, &u->writer_h);

	if (rc < 0)
		return rc;
	rc = x->src->ops->blob_get_start(x->src, u->src_repo, u->d, &counted, writer_get_done, u,
	                                 &u->get_h);
	if (rc < 0) {
		x->dst->ops->blob_writer_close(x->dst, u->writer_h, 0);
		u->writer_h = NULL;
	}
	return rc;
}

static void reader_put_done(void *ctx, int rc, const char *msg)
{
	struct unit *u = ctx;

	u->put_h = NULL;
	u->x->src->ops->blob_reader_close(u->x->src, u->reader_h);
	u->reader_h = NULL;
	attempt_over(u, rc, msg);
}

static int start_reader(struct unit *u)
{
	struct copy *x = u->x;
	struct oci_source counted = { counted_read, counted_rewind, u };
	int rc = x->src->ops->blob_reader_open(x->src, u->d, &u->inner_src, &u->reader_h);

	if (rc < 0)
		return rc;
	if (!u->inner_src.rewind)
		counted.rewind = NULL;
	rc = x->dst->ops->blob_put_start(x->dst, u->dst_repo, u->d, &counted, reader_put_done, u,
	                                 &u->put_h);
	if (rc < 0) {
		x->src->ops->blob_reader_close(x->src, u->reader_h);
		u->reader_h = NULL;
	}
	return rc;
}

static void pipe_side_done(struct unit *u)
{
	if (--u->pending > 0)
		return;
	/* The download's failure is the cause and the upload's its echo --
	 * unless the download only stopped because the upload had failed
	 * (the pipe answers its writes RV_ECANCELLED): then the upload's
	 * reason (401 from the destination, a 503 worth retrying) is the one
	 * to report and to decide a retry on. */
	if (u->get_rc < 0 && !(u->get_rc == RV_ECANCELLED && u->put_rc < 0))
		attempt_over(u, u->get_rc, u->get_msg);
	else
		attempt_over(u, u->put_rc, u->put_msg);
}

static void pipe_get_done(void *ctx, int rc, const char *msg)
{
	struct unit *u = ctx;

	u->get_h = NULL;
	u->get_rc = rc;
	if (rc < 0)
		set_msg(&u->get_msg, msg);
	pipe_writer_done(u->pipe, rc);
	pipe_side_done(u);
}

static void pipe_put_done(void *ctx, int rc, const char *msg)
{
	struct unit *u = ctx;

	u->put_h = NULL;
	u->put_rc = rc;
	if (rc < 0)
		set_msg(&u->put_msg, msg);
	pipe_reader_done(u->pipe, rc);
	pipe_side_done(u);
}

static void pipe_wake(void *ctx, enum pipe_side side)
{
	struct unit *u = ctx;
	struct copy *x = u->x;

	if (side == PIPE_GET && u->get_h)
		x->src->ops->resume(x->src, u->get_h);
	else if (side == PIPE_PUT && u->put_h)
		x->dst->ops->resume(x->dst, u->put_h);
}

static int start_pipe(struct unit *u)
{
	struct copy *x = u->x;
	struct oci_sink counted = { counted_write, u };
	struct oci_source from_pipe;
	int rc;

	u->pipe = pipe_new(PIPE_BYTES, pipe_wake, u);
	u->inner_sink = pipe_sink(u->pipe);
	from_pipe = pipe_source(u->pipe);
	u->get_rc = u->put_rc = 0;
	u->pending = 2;
	rc = x->src->ops->blob_get_start(x->src, u->src_repo, u->d, &counted, pipe_get_done, u,
	                                 &u->get_h);
	if (rc < 0) {
		pipe_free(u->pipe);
		u->pipe = NULL;
		return rc;
	}
	rc = x->dst->ops->blob_put_start(x->dst, u->dst_repo, u->d, &from_pipe, pipe_put_done, u,
	                                 &u->put_h);
	if (rc < 0) {   /* the GET runs on until it sees the pipe closed */
		u->put_rc = rc;
		set_msg(&u->put_msg, error_msg());
		pipe_reader_done(u->pipe, rc);
		u->pending = 1;
	}
	return 0;
}

/* Stores without concurrent transfers: one blocking copy. */
static int copy_sync(struct unit *u)
{
	struct copy *x = u->x;
	struct oci_store *src = x->src, *dst = x->dst;
	int rc;

	if (src->ops->blob_reader_open) {
		if ((rc = src->ops->blob_reader_open(src, u->d, &u->inner_src, &u->reader_h)) < 0)
			return rc;
		struct oci_source counted = { counted_read, u->inner_src.rewind ? counted_rewind : NULL,
		                              u };
		rc = oci_store_blob_put(dst, u->dst_repo, u->d, &counted);
		src->ops->blob_reader_close(src, u->reader_h);
		u->reader_h = NULL;
		return rc;
	}
	if (!dst->ops->blob_writer_open)
		return error_set(RV_EUNSUPPORTED, "cannot copy blobs from %s to %s", src->name,
		                 dst->name);
	if ((rc = dst->ops->blob_writer_open(dst, u->d, &u->inner_sink, &u->writer_h)) < 0)
		return rc;
	struct oci_sink counted = { counted_write, u };
	rc = oci_store_blob_get(src, u->src_repo, u->d, &counted);
	int wrc = dst->ops->blob_writer_close(dst, u->writer_h, rc == 0);
	u->writer_h = NULL;
	return rc < 0 ? rc : wrc;
}

/* 0 when the destination already has the blob or got it by a mount. */
static int already_there(struct unit *u)
{
	struct copy *x = u->x;
	int rc = oci_store_blob_exists(x->dst, u->dst_repo, u->d);

	if (rc == 0 || x->dst_is_archive || !x->dst->ops->blob_mount)
		return rc;
	/* Within a registry, a blob another repository got this run is
	 * mounted instead of uploaded again. */
	for (struct unit *o = first_same(x, u->d->digest); o; o = next_same(x, o)) {
		if (o == u || (o->state != U_DONE && o->state != U_SKIPPED))
			continue;
		if (x->dst->ops->blob_mount(x->dst, u->dst_repo, u->d->digest, o->dst_repo) == 0)
			return 0;
	}
	error_clear();
	return RV_ENOTFOUND;
}

/* Another repository of the destination is getting the same blob right
 * now: wait for it rather than upload the bytes twice. */
static int wait_for_twin(struct unit *u)
{
	struct copy *x = u->x;

	if (x->dst_is_archive || !x->dst->ops->blob_mount)
		return 0;
	for (struct unit *o = first_same(x, u->d->digest); o; o = next_same(x, o)) {
		if (o != u && o->state == U_RUNNING) {
			u->next_waiter = o->waiters;
			o->waiters = u;
			return 1;
		}
	}
	return 0;
}

/* --dry-run: the destination's answer decides, nothing moves (and nothing
 * is mounted: a mount is a write). */
static void plan_unit(struct unit *u)
{
	struct copy *x = u->x;
	int rc = oci_store_blob_exists(x->dst, u->dst_repo, u->d), there = rc == 0;

	/* Only "not there" is an answer: a destination that cannot be asked
	 * (unreachable, denied) fails the dry run as it would the copy. */
	if (rc < 0 && rc != RV_ENOTFOUND) {
		u->state = U_FAILED;
		set_msg(&u->msg, error_msg());
		blob_progress(u, XFER_BLOB_DONE, rc, u->msg);
		return;
	}
	error_clear();
	u->state = there ? U_SKIPPED : U_DONE;
	x->done_bytes += u->d->size;
	blob_progress(u, there ? XFER_BLOB_SKIPPED : XFER_BLOB_DONE, 0, NULL);
}

static void start_unit(struct unit *u)
{
	struct copy *x = u->x;
	int rc;

	if (x->o->plan_only) {
		plan_unit(u);
		return;
	}
	if (wait_for_twin(u))
		return;
	u->moved = 0;
	if (u->attempts == 0 && already_there(u) == 0) {
		u->state = U_SKIPPED;
		x->done_bytes += u->d->size;
		blob_progress(u, XFER_BLOB_SKIPPED, 0, NULL);
		return;
	}
	u->state = U_RUNNING;
	x->inflight++;
	blob_progress(u, XFER_BLOB_BEGIN, 0, NULL);
	switch (x->mode) {
	case M_WRITER: rc = start_writer(u); break;
	case M_READER: rc = start_reader(u); break;
	case M_PIPE: rc = start_pipe(u); break;
	default: rc = copy_sync(u); attempt_over(u, rc, error_msg()); return;
	}
	if (rc < 0)
		attempt_over(u, rc, error_msg());
}

/* --- The loop ------------------------------------------------------------------ */

static void drive(struct copy *x, int timeout_ms)
{
	if (x->src->ops->run)
		x->src->ops->run(x->src, timeout_ms);
	if (x->dst->ops->run && x->dst != x->src)
		x->dst->ops->run(x->dst, x->src->ops->run ? 0 : timeout_ms);
}

static int finish_next(struct copy *x);

static void move_blobs(struct copy *x)
{
	int jobs = x->o->jobs > 0 ? (x->o->jobs > 64 ? 64 : x->o->jobs) : 4;
	struct unit *u;

	/* Waiting units are always chained to a running one, so inflight > 0
	 * whenever some unit is neither queued nor finished. Images are
	 * finished here, one at a time with the transfers topped up in
	 * between, never from inside a transfer's callback: their blocking
	 * requests drive the session in turn. */
	while (x->q_len || x->inflight > 0) {
		while (x->inflight < jobs && (u = dequeue(x)))
			start_unit(u);
		if (finish_next(x))
			continue;
		if (x->inflight > 0)
			drive(x, 1000);
	}
	while (finish_next(x))
		;
}

static enum unit_mode choose_mode(const struct oci_store *src, const struct oci_store *dst)
{
	const struct oci_store_ops *s = src->ops, *d = dst->ops;

	if (s->blob_get_start && s->run && d->blob_writer_open)
		return M_WRITER;
	if (s->blob_reader_open && d->blob_put_start && d->run)
		return M_READER;
	if (s->blob_get_start && s->run && s->resume && d->blob_put_start && d->resume)
		return M_PIPE;
	return M_SYNC;
}

/* --- Manifests and results -------------------------------------------------------- */

static void add_object(struct xfer_result *r, const char *digest, int64_t size, int manifest,
                       int copied)
{
	r->objects = xrealloc(r->objects, (r->n_objects + 1) * sizeof(*r->objects));
	struct xfer_object *o = &r->objects[r->n_objects++];
	snprintf(o->digest, sizeof(o->digest), "%s", digest);
	o->size = size;
	o->is_manifest = manifest;
	o->copied = copied;
}

/* 0 when every blob of image i arrived; records them in r. */
static int blobs_arrived(struct copy *x, size_t i, struct xfer_result *r)
{
	const struct graph *g = &x->graphs[i];

	for (size_t b = 0; b < g->n_blobs; b++) {
		struct unit *u = find_unit(x, x->images[i].dst_repo, g->blobs[b].d.digest);
		if (u->state == U_FAILED) {
			r->msg = xasprintf("blob %s: %s", u->d->digest, u->msg);
			return RV_ERROR;
		}
		/* A blob shared by several images was moved once: it counts as
		 * copied for the first image that asked for it. */
		int copied = u->state == U_DONE && u->image == i;
		add_object(r, u->d->digest, u->d->size, 0, copied);
		if (copied)
			r->bytes_copied += u->d->size, r->blobs_copied++;
		else
			r->bytes_skipped += u->d->size, r->blobs_skipped++;
	}
	return 0;
}

/* Registries: a manifest already there by digest is not put again.
 * Archives list every top-level put in index.json, so they always get it. */
static int put_node(struct copy *x, const char *repo, struct gnode *n, int *put)
{
	const char *ref = n->tag ? n->tag : n->m->digest;
	struct oci_manifest_info info;

	*put = 1;
	if (!n->tag && !x->dst_is_archive &&
	    oci_store_manifest_head(x->dst, repo, n->m->digest, &info) == 0) {
		*put = 0;
		return 0;
	}
	error_clear();
	return oci_store_manifest_put(x->dst, repo, ref, n->m, n->top ? 0 : OCI_PUT_CHILD);
}

/* In graph order, except the image's own tag, which goes last: until every
 * child, referrer and attachment is in place, the tag still names what it
 * named before (or nothing) — never a half-copied image. */
/* --dry-run: which manifests the destination lacks. */
static int plan_manifests(struct copy *x, size_t i, struct xfer_result *r)
{
	struct graph *g = &x->graphs[i];
	struct oci_manifest_info info;

	for (size_t k = 0; k < g->n_nodes; k++) {
		const struct gnode *n = &g->nodes[k];
		int rc = oci_store_manifest_head(x->dst, x->images[i].dst_repo, n->m->digest, &info);
		int lacks = rc != 0;

		if (rc < 0 && rc != RV_ENOTFOUND) {   /* the destination could not be asked */
			set_msg(&r->msg, error_msg());
			return rc;
		}
		error_clear();
		add_object(r, n->m->digest, (int64_t)n->m->raw_len, 1, lacks || n->tag);
		r->manifests_put += lacks || n->tag;
	}
	return 0;
}

static int put_manifests(struct copy *x, size_t i, struct xfer_result *r)
{
	struct graph *g = &x->graphs[i];
	const char *repo = x->images[i].dst_repo;
	struct gnode *image = NULL;
	int rc = 0;

	if (x->o->plan_only)
		return plan_manifests(x, i, r);
	for (size_t k = 0; rc == 0 && k < g->n_nodes; k++) {
		struct gnode n = g->nodes[k];
		int put = 0;
		if (n.incomplete && !x->dst_is_archive) {   /* see xfer_result.partial */
			r->partial = 1;
			continue;
		}
		/* The image's own tag goes last. When nothing follows the
		 * image in put order (no referrer, no attachment), putting it
		 * under its tag now is the same thing, one HEAD and one PUT
		 * fewer; otherwise by digest now, the tag at the end. */
		if (n.top && n.tag && !image && strcmp(n.m->digest, r->digest) == 0 &&
		    k + 1 < g->n_nodes) {
			image = &g->nodes[k];
			n.tag = NULL;
		}
		rc = put_node(x, repo, &n, &put);
		add_object(r, n.m->digest, (int64_t)n.m->raw_len, 1, put);
		r->manifests_put += put;
	}
	if (rc == 0 && image)
		rc = oci_store_manifest_put(x->dst, repo, image->tag, image->m, 0);
	if (rc < 0)
		r->msg = xstrdup(error_msg());
	return rc;
}

/* Hands the graph's manifests to the result. */
static void take_manifests(struct copy *x, struct graph *g, struct xfer_result *r)
{
	r->manifests = xcalloc(g->n_nodes ? g->n_nodes : 1, sizeof(*r->manifests));
	for (size_t k = 0; k < g->n_nodes; k++) {
		struct gnode *n = &g->nodes[k];
		r->manifests[k].m = n->m;
		r->manifests[k].top = n->top;
		r->manifests[k].tag = n->tag;
		r->manifests[k].held = !(n->incomplete && !x->dst_is_archive);
		n->m = NULL;
		n->tag = NULL;
	}
	r->n_manifests = g->n_nodes;
}

static void finish_image(struct copy *x, size_t i, struct xfer_result *r)
{
	int rc = 0;

	if (r->rc == 0 && (rc = blobs_arrived(x, i, r)) == 0 && (rc = put_manifests(x, i, r)) == 0)
		take_manifests(x, &x->graphs[i], r);
	else if (r->rc == 0)
		r->rc = rc;
	progress(x, XFER_IMAGE_DONE, i, NULL, r->rc, r->msg);
}

/* 1 when every blob image i needs has settled: moved, found, or failed for
 * good (a unit queued for another attempt or waiting for its twin has not). */
static int image_settled(struct copy *x, size_t i)
{
	const struct graph *g = &x->graphs[i];

	if (x->results[i].rc != 0)
		return 1;
	for (size_t b = 0; b < g->n_blobs; b++) {
		const struct unit *u = find_unit(x, x->images[i].dst_repo, g->blobs[b].d.digest);
		if (u->state != U_DONE && u->state != U_SKIPPED && u->state != U_FAILED)
			return 0;
	}
	return 1;
}

/* Finishes the next image in order when it is settled; 1 when it did.
 * A waiting image is checked against its own blobs only, so a long copy
 * costs about one look per blob per completion of the image in front. */
static int finish_next(struct copy *x)
{
	size_t i = x->finished;

	if (i >= x->n_images || !image_settled(x, i))
		return 0;
	x->finished++;
	finish_image(x, i, &x->results[i]);
	return 1;
}

static void walk_all(struct copy *x, struct xfer_result *results)
{
	struct tag_cache tc = { 0 };

	for (size_t i = 0; i < x->n_images; i++) {
		struct xfer_result *r = &results[i];
		struct graph *g = &x->graphs[i];
		int rc = graph_walk(g, x->src, &x->images[i], x->o, &tc);
		if (rc < 0) {
			r->rc = rc;
			r->msg = xstrdup(error_msg());
			graph_release(g);
			continue;
		}
		/* The image's own manifest is the first top node. */
		for (size_t k = 0; k < g->n_nodes; k++)
			if (g->nodes[k].top) {
				snprintf(r->digest, sizeof(r->digest), "%s", g->nodes[k].m->digest);
				snprintf(r->media_type, sizeof(r->media_type), "%s", g->nodes[k].m->media_type);
				break;
			}
	}
	tag_cache_release(&tc);
}

int xfer_copy(struct oci_store *src, struct oci_store *dst, const struct xfer_image *images,
              size_t n, const struct xfer_options *opts, struct xfer_result *results)
{
	struct xfer_options defaults = XFER_OPTIONS_INIT;
	struct copy x = { 0 };
	size_t failed = 0;

	x.src = src;
	x.dst = dst;
	x.images = images;
	x.n_images = n;
	x.o = opts ? opts : &defaults;
	x.mode = choose_mode(src, dst);
	x.dst_is_archive = dst->ops->blob_writer_open != NULL;
	x.results = results;
	memset(results, 0, n * sizeof(*results));
	x.graphs = xcalloc(n ? n : 1, sizeof(*x.graphs));

	walk_all(&x, results);
	plan_units(&x);
	for (size_t i = 0; i < n; i++)
		if (results[i].rc == 0)
			progress(&x, XFER_IMAGE_BEGIN, i, NULL, 0, NULL);
	move_blobs(&x);
	for (size_t i = 0; i < n; i++)
		failed += results[i].rc != 0;
	for (size_t i = 0; i < n; i++)
		graph_release(&x.graphs[i]);
	for (size_t i = 0; i < x.n_units; i++) {
		free(x.units[i].msg);
		free(x.units[i].get_msg);
		free(x.units[i].put_msg);
	}
	free(x.graphs);
	free(x.units);
	free(x.by_digest);
	free(x.queue);
	if (failed)
		return error_set(RV_ERROR, "%zu of %zu images failed", failed, n);
	return 0;
}

void xfer_result_release(struct xfer_result *r)
{
	free(r->msg);
	free(r->objects);
	for (size_t i = 0; i < r->n_manifests; i++) {
		oci_manifest_free(r->manifests[i].m);
		free(r->manifests[i].tag);
	}
	free(r->manifests);
	memset(r, 0, sizeof(*r));
}
