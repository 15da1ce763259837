/*
 * metrics.h — a run's outcome as Prometheus metrics, in the text
 * exposition format, for node_exporter's textfile collector
 * (`--metrics-file` of mirror, backup and prune; docs/regvault.1 "METRICS").
 *
 * Every metric is a gauge of the last run, named regvault_<command>_NAME
 * and labelled with what the run was about (mirror: destination="…",
 * backup: store="…", prune: registry="…"). The command's own samples come
 * first; four follow for every command:
 *
 *   duration_seconds
 *   last_run_timestamp_seconds          when the run ended (Unix time)
 *   last_run_success                    1 when the run did all it should
 *   last_success_timestamp_seconds      the last run with success 1; a
 *                                       failed run carries it over from
 *                                       the file it replaces (0: none)
 */
#ifndef RV_CLI_METRICS_H
#define RV_CLI_METRICS_H

#include <stddef.h>
#include <stdint.h>
#include "util/buf.h"

/* One sample: the metric's NAME, an outcome label value (NULL: none) and
 * the value. Samples of one metric are consecutive; the first carries
 * its help text. */
struct metrics_sample {
	const char *name;
	const char *help;
	const char *outcome;
	int64_t value;
};

struct metrics_run {
	const char *command;       /* "mirror", "backup", "prune" */
	const char *label;         /* "destination", "store", "registry" */
	const char *target;        /* the label's value */
	const struct metrics_sample *samples;
	size_t n_samples;
	int64_t duration_ms;
	int64_t finished;          /* Unix time the run ended */
	int success;
	int64_t last_success;      /* Unix time; 0 when there never was one */
};

/* Appends the exposition text of m to out (HELP and TYPE lines, one sample
 * a line, label values escaped). */
void metrics_format(struct buf *out, const struct metrics_run *m);

/* The value of regvault_<command>_last_success_timestamp_seconds for m's
 * label in an earlier file's text; 0 when it holds none. */
int64_t metrics_last_success(const char *text, const struct metrics_run *m);

/* Writes m to path atomically (a temporary file in the same directory,
 * renamed over path; mode 0644, which node_exporter must read). When
 * m->success is 0, last_success is first taken from the file being
 * replaced. 0 or an RV_E* code with the message naming path. */
int metrics_write(const char *path, struct metrics_run *m);

/* For --metrics-file of command: a file name in a directory that can be
 * written, checked before anything runs (finding out after an hour of
 * copying helps no one). RV_EXIT_OK, or RV_EXIT_USAGE with the error
 * printed. */
int metrics_check_path(const char *command, const char *path);

/* After the run, whatever became of it: writes m to path and returns
 * status, or logs why it could not and returns 1 instead of 0 (silent
 * monitoring is worse than a failed run). */
int metrics_finish(const char *path, struct metrics_run *m, int status);

#endif
