/*
 * progress.c — one line on stderr, redrawn from the copy engine's events.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include "cli/output.h"
#include "cli/progress.h"
#include "util/str.h"
#include "util/timeutil.h"
#include "util/banned.h"

#define REDRAW_MS 125       /* about 8 redraws a second */
#define RATE_WINDOW_MS 1000 /* the speed shown is over about the last second */
#define BAR_WIDTH 20

/* A blob being moved: how many of its bytes have arrived so far. */
struct inflight {
	char digest[OCI_DIGEST_MAX];
	int64_t moved;
};

/* The counters of one xfer_copy() call. */
struct copy_counts {
	size_t images;          /* XFER_IMAGE_BEGIN seen: images being copied */
	size_t images_done;     /* XFER_IMAGE_DONE seen */
	size_t images_reached;  /* images whose every blob has been started */
	int64_t done_bytes, total_bytes;   /* the engine's counters */
};

struct cli_progress {
	char *label;
	struct copy_counts base;   /* finished copies, summed */
	struct copy_counts cur;
	int cur_moving;            /* the current copy is past its XFER_IMAGE_BEGIN events */
	struct inflight *fl;
	size_t n_fl, alloc_fl;
	int64_t inflight_bytes;    /* partial bytes of the blobs in flight */
	int64_t moved;             /* bytes really transferred (not skipped), for speed */
	int64_t last_draw_ms;
	int64_t start_ms;
	int64_t rate_ms, rate_moved;  /* start of the current speed window */
	int rate_windows;          /* full windows measured */
	double rate;               /* bytes per second */
	size_t drawn;              /* columns of the line on screen; 0 when none */
	int events;
};

static int wanted(const struct cli_globals *g)
{
	const char *env = getenv("REGVAULT_PROGRESS");

	if (g->quiet || output_is_json())
		return 0;
	if (env && !strcmp(env, "force"))
		return 1;
	return isatty(STDERR_FILENO);
}

cli_progress *cli_progress_new(const char *label, const struct cli_globals *g)
{
	cli_progress *p;

	if (!wanted(g))
		return NULL;
	p = xcalloc(1, sizeof(*p));
	p->label = xstrdup(label);
	p->start_ms = p->rate_ms = time_mono_ms();
	return p;
}

static struct inflight *find_inflight(cli_progress *p, const char *digest)
{
	for (size_t i = 0; i < p->n_fl; i++)
		if (!strcmp(p->fl[i].digest, digest))
			return &p->fl[i];
	return NULL;
}

static void blob_begin(cli_progress *p, const char *digest)
{
	struct inflight *f;

	p->fl = xgrow(p->fl, sizeof(*p->fl), p->n_fl + 1, &p->alloc_fl);
	f = &p->fl[p->n_fl++];
	snprintf(f->digest, sizeof(f->digest), "%s", digest);
	f->moved = 0;
}

static void blob_bytes(cli_progress *p, const char *digest, int64_t blob_done)
{
	struct inflight *f = find_inflight(p, digest);

	if (!f || blob_done < f->moved)
		return;
	p->inflight_bytes += blob_done - f->moved;
	p->moved += blob_done - f->moved;
	f->moved = blob_done;
}

static void blob_end(cli_progress *p, const char *digest)
{
	struct inflight *f = find_inflight(p, digest);

	if (!f)
		return;
	p->inflight_bytes -= f->moved;
	*f = p->fl[--p->n_fl];
}

/* A XFER_IMAGE_BEGIN after blobs moved is the next copy of the same run
 * (backup copies from each source registry in turn): the finished one's
 * counters join the base so the line keeps adding up. */
static void image_begin(cli_progress *p)
{
	if (p->cur_moving) {
		p->base.images += p->cur.images;
		p->base.images_done += p->cur.images;
		p->base.images_reached += p->cur.images;
		p->base.done_bytes += p->cur.total_bytes;
		p->base.total_bytes += p->cur.total_bytes;
		memset(&p->cur, 0, sizeof(p->cur));
		p->n_fl = 0;
		p->inflight_bytes = 0;
		p->cur_moving = 0;
	}
	p->cur.images++;
}

static void update(cli_progress *p, const struct xfer_progress *e)
{
	p->events++;
	p->cur.done_bytes = e->done_bytes;
	p->cur.total_bytes = e->total_bytes;
	switch (e->event) {
	case XFER_IMAGE_BEGIN:
		image_begin(p);
		break;
	case XFER_BLOB_BEGIN:
	case XFER_BLOB_SKIPPED:
		p->cur_moving = 1;
		/* Blobs start in image order, so every image before this
		 * blob's has all of its blobs under way or done. */
		if (e->image > p->cur.images_reached)
			p->cur.images_reached = e->image;
		if (e->event == XFER_BLOB_BEGIN)
			blob_begin(p, e->digest);
		break;
	case XFER_BLOB_BYTES:
		blob_bytes(p, e->digest, e->blob_done);
		break;
	case XFER_BLOB_DONE:
		blob_end(p, e->digest);
		break;
	case XFER_IMAGE_DONE:
		p->cur_moving = 1;
		p->cur.images_done++;
		break;
	}
}

static size_t terminal_columns(void)
{
	struct winsize ws;

	if (ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
		return ws.ws_col;
	return 80;
}

/* Speed over the last full window; before the first window is over, the
 * average since the start. */
static void measure_rate(cli_progress *p, int64_t now)
{
	int64_t dt = now - p->rate_ms;

	if (dt >= RATE_WINDOW_MS) {
		p->rate = (double)(p->moved - p->rate_moved) * 1000.0 / (double)dt;
		p->rate_ms = now;
		p->rate_moved = p->moved;
	} else if (!p->rate_windows && now > p->start_ms) {
		p->rate = (double)p->moved * 1000.0 / (double)(now - p->start_ms);
		return;
	} else {
		return;
	}
	p->rate_windows++;
}

static void bar(char *out, int64_t done, int64_t total)
{
	int filled = total > 0 ? (int)(done * BAR_WIDTH / total) : 0;
	int i;

	out[0] = '[';
	for (i = 0; i < BAR_WIDTH; i++)
		out[1 + i] = i < filled ? '=' : ' ';
	if (filled > 0 && filled < BAR_WIDTH)
		out[filled] = '>';
	out[1 + BAR_WIDTH] = ']';
	out[2 + BAR_WIDTH] = '\0';
}

static void draw(cli_progress *p, int64_t now)
{
	char line[512], b[BAR_WIDTH + 3], done_h[32], total_h[32], rate_h[32];
	size_t reached = p->cur.images_reached > p->cur.images_done ? p->cur.images_reached
	                                                            : p->cur.images_done;
	int64_t done = p->base.done_bytes + p->cur.done_bytes + p->inflight_bytes;
	int64_t total = p->base.total_bytes + p->cur.total_bytes;
	size_t cols = terminal_columns(), len;
	int n;

	if (done > total)
		done = total;
	measure_rate(p, now);
	str_human_bytes(done, done_h, sizeof(done_h));
	str_human_bytes(total, total_h, sizeof(total_h));
	str_human_bytes(p->rate > 0 ? (int64_t)p->rate : 0, rate_h, sizeof(rate_h));
	bar(b, done, total);
	n = snprintf(line, sizeof(line), "%s  %zu/%zu images  %s / %s  %s  %s/s", p->label,
	             p->base.images_reached + reached, p->base.images + p->cur.images, done_h,
	             total_h, b, rate_h);
	len = n < 0 ? 0 : (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1;
	if (len >= cols) {
		/* A narrow terminal: the bar goes first, then the line is cut
		 * (a line that wraps could not be redrawn with '\r'). */
		n = snprintf(line, sizeof(line), "%s  %zu/%zu images  %s / %s  %s/s", p->label,
		             p->base.images_reached + reached, p->base.images + p->cur.images,
		             done_h, total_h, rate_h);
		len = n < 0 ? 0 : (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1;
		if (len >= cols)
			len = cols - 1;
	}
	fprintf(stderr, "\r%.*s%*s", (int)len, line,
	        p->drawn > len ? (int)(p->drawn - len) : 0, "");
	fflush(stderr);
	p->drawn = len > p->drawn ? len : p->drawn;
	p->last_draw_ms = now;
}

static void on_event(const struct xfer_progress *e, void *ctx)
{
	cli_progress *p = ctx;
	int64_t now = time_mono_ms();

	update(p, e);
	/* The image count and total bytes are complete only once the
	 * engine starts moving blobs, after all its XFER_IMAGE_BEGIN. */
	if (e->event == XFER_IMAGE_BEGIN)
		return;
	if (p->drawn == 0 || now - p->last_draw_ms >= REDRAW_MS)
		draw(p, now);
}

void cli_progress_attach(cli_progress *p, struct xfer_options *o)
{
	if (!p)
		return;
	o->progress = on_event;
	o->progress_ctx = p;
}

void cli_progress_free(cli_progress *p)
{
	if (!p)
		return;
	if (p->events > 0) {
		/* The final state, then blank it: what follows starts on a
		 * clean line. */
		draw(p, time_mono_ms());
		fprintf(stderr, "\r%*s\r", (int)p->drawn, "");
		fflush(stderr);
	}
	free(p->fl);
	free(p->label);
	free(p);
}
