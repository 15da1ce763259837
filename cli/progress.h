/*
 * progress.h — the one-line progress display of copying commands.
 *
 * Fed by the copy engine's callback (xfer/xfer.h), it redraws one line on
 * stderr with '\r', at most about 8 times a second:
 *
 *   backup  12/63 images  120.4 MB / 530.2 MB  [=======>      ]  45.1 MB/s
 *
 * and clears it when done. It is shown only when stderr is a terminal,
 * without -q and without --output json; REGVAULT_PROGRESS=force skips the
 * terminal check (for tests of the format; see regvault(1) ENVIRONMENT).
 * Several copies in a row (one per source registry) add up on one line.
 */
#ifndef RV_CLI_PROGRESS_H
#define RV_CLI_PROGRESS_H

#include "cli/options.h"
#include "xfer/xfer.h"

typedef struct cli_progress cli_progress;

/* A display labelled `label` ("backup"), or NULL when g or the terminal
 * say no progress should be shown (the functions below accept NULL). */
cli_progress *cli_progress_new(const char *label, const struct cli_globals *g);

/* Sets o->progress and o->progress_ctx to feed p (nothing when p is NULL). */
void cli_progress_attach(cli_progress *p, struct xfer_options *o);

/* Clears the line (when one was drawn) and frees p. NULL is a no-op. */
void cli_progress_free(cli_progress *p);

#endif
