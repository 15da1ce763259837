/*
 * metrics.h — a mirror run's outcome as Prometheus metrics, in the text
 * exposition format, for node_exporter's textfile collector
 * (`--metrics-file`, docs/regvault.1 "METRICS").
 *
 * Every metric is a gauge of the last run, prefixed regvault_mirror_ and
 * labelled destination="HOST[:PORT][/PREFIX]":
 *
 *   images{outcome="copied|partial|unchanged|failed"}
 *   bytes{outcome="copied|skipped"}     blob bytes moved / already there
 *   blobs{outcome="copied|skipped"}
 *   manifests_put
 *   duration_seconds
 *   last_run_timestamp_seconds          when the run ended (Unix time)
 *   last_run_success                    1 when every image was mirrored
 *   last_success_timestamp_seconds      the last run with success 1; a
 *                                       failed run carries it over from
 *                                       the file it replaces (0: none)
 */
#ifndef RV_CLI_METRICS_H
#define RV_CLI_METRICS_H

#include <stddef.h>
#include <stdint.h>
#include "util/buf.h"

struct metrics_mirror {
	const char *destination;
	size_t copied, partial, unchanged, failed;
	int64_t bytes_copied, bytes_skipped;
	int64_t blobs_copied, blobs_skipped, manifests_put;
	int64_t duration_ms;
	int64_t finished;          /* Unix time the run ended */
	int success;
	int64_t last_success;      /* Unix time; 0 when there never was one */
};

/* Appends the exposition text of m to out (HELP and TYPE lines, one sample
 * a line, label values escaped). */
void metrics_mirror_format(struct buf *out, const struct metrics_mirror *m);

/* The value of regvault_mirror_last_success_timestamp_seconds for
 * destination in an earlier file's text; 0 when it holds none. */
int64_t metrics_mirror_last_success(const char *text, const char *destination);

/* Writes m to path atomically (a temporary file in the same directory,
 * renamed over path; mode 0644, which node_exporter must read). When
 * m->success is 0, last_success is first taken from the file being
 * replaced. 0 or an RV_E* code with the message naming path. */
int metrics_mirror_write(const char *path, struct metrics_mirror *m);

#endif
