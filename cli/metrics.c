/*
 * metrics.c — the Prometheus text exposition format of a mirror run
 * (prometheus.io/docs/instrumenting/exposition_formats, "Text format").
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "cli/metrics.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/banned.h"

#define PREFIX "regvault_mirror_"
#define LAST_SUCCESS PREFIX "last_success_timestamp_seconds"
#define OLD_FILE_MAX (1024 * 1024)

/* {destination="…"}: in a label value backslash, double quote and line
 * feed are the three characters the format escapes. */
static void add_labels(struct buf *b, const char *destination, const char *outcome)
{
	buf_addstr(b, "{destination=\"");
	for (const char *c = destination; *c; c++) {
		if (*c == '\\')
			buf_addstr(b, "\\\\");
		else if (*c == '"')
			buf_addstr(b, "\\\"");
		else if (*c == '\n')
			buf_addstr(b, "\\n");
		else
			buf_addch(b, *c);
	}
	buf_addch(b, '"');
	if (outcome)
		buf_addf(b, ",outcome=\"%s\"", outcome);
	buf_addch(b, '}');
}

static void head(struct buf *b, const char *name, const char *help)
{
	buf_addf(b, "# HELP " PREFIX "%s %s\n# TYPE " PREFIX "%s gauge\n", name, help, name);
}

static void sample(struct buf *b, const char *name, const char *destination,
                   const char *outcome, int64_t value)
{
	buf_addf(b, PREFIX "%s", name);
	add_labels(b, destination, outcome);
	buf_addf(b, " %lld\n", (long long)value);
}

void metrics_mirror_format(struct buf *b, const struct metrics_mirror *m)
{
	const char *d = m->destination;

	head(b, "images", "Images the last mirror run handled, by outcome.");
	sample(b, "images", d, "copied", (int64_t)m->copied);
	sample(b, "images", d, "partial", (int64_t)m->partial);
	sample(b, "images", d, "unchanged", (int64_t)m->unchanged);
	sample(b, "images", d, "failed", (int64_t)m->failed);
	head(b, "bytes", "Blob bytes of the last mirror run: copied, or skipped "
	     "because the destination had them.");
	sample(b, "bytes", d, "copied", m->bytes_copied);
	sample(b, "bytes", d, "skipped", m->bytes_skipped);
	head(b, "blobs", "Blobs of the last mirror run: copied, or skipped because "
	     "the destination had them.");
	sample(b, "blobs", d, "copied", m->blobs_copied);
	sample(b, "blobs", d, "skipped", m->blobs_skipped);
	head(b, "manifests_put", "Manifests the last mirror run put on the destination.");
	sample(b, "manifests_put", d, NULL, m->manifests_put);
	head(b, "duration_seconds", "How long the last mirror run took.");
	buf_addstr(b, PREFIX "duration_seconds");
	add_labels(b, d, NULL);
	buf_addf(b, " %lld.%03lld\n", (long long)(m->duration_ms / 1000),
	         (long long)(m->duration_ms % 1000));
	head(b, "last_run_timestamp_seconds", "When the last mirror run ended, in "
	     "seconds since the Unix epoch.");
	sample(b, "last_run_timestamp_seconds", d, NULL, m->finished);
	head(b, "last_run_success", "1 when the last mirror run mirrored every image, "
	     "0 when it failed in part or in whole.");
	sample(b, "last_run_success", d, NULL, m->success ? 1 : 0);
	head(b, "last_success_timestamp_seconds", "When the last fully successful mirror "
	     "run ended, in seconds since the Unix epoch (0: never).");
	sample(b, "last_success_timestamp_seconds", d, NULL, m->last_success);
}

/* Finds our own line: the name, then exactly the labels we would write
 * for destination, then the value. */
int64_t metrics_mirror_last_success(const char *text, const char *destination)
{
	struct buf want = BUF_INIT;
	int64_t found = 0;
	size_t n;

	buf_addstr(&want, LAST_SUCCESS);
	add_labels(&want, destination, NULL);
	buf_addch(&want, ' ');
	n = want.len;
	for (const char *line = text, *next; line && *line; line = next) {
		const char *nl = strchr(line, '\n');
		char *end;
		double v;

		next = nl ? nl + 1 : NULL;
		if (strncmp(line, want.ptr, n) != 0)
			continue;
		errno = 0;
		v = strtod(line + n, &end);
		if (errno == 0 && end != line + n && (*end == '\n' || *end == '\0' ||
		                                      *end == ' ') && v > 0 && v < 1e15)
			found = (int64_t)v;
	}
	buf_release(&want);
	return found;
}

int metrics_mirror_write(const char *path, struct metrics_mirror *m)
{
	struct buf text = BUF_INIT;
	int rc;

	if (m->success) {
		m->last_success = m->finished;
	} else {
		rc = fs_read_file(&text, path, OLD_FILE_MAX);
		m->last_success = rc == 0 ? metrics_mirror_last_success(buf_cstr(&text),
		                                                         m->destination) : 0;
		error_clear();
		buf_reset(&text);
	}
	metrics_mirror_format(&text, m);
	rc = fs_write_atomic(path, text.ptr, text.len, 0644);
	buf_release(&text);
	if (rc != 0)
		error_wrap(rc, "metrics file");
	return rc;
}
