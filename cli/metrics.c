/*
 * metrics.c — the Prometheus text exposition format of a run
 * (prometheus.io/docs/instrumenting/exposition_formats, "Text format").
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "cli/exitcode.h"
#include "cli/metrics.h"
#include "cli/output.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/log.h"
#include "util/xalloc.h"
#include "util/banned.h"

#define OLD_FILE_MAX (1024 * 1024)

/* {label="…"}: in a label value backslash, double quote and line feed are
 * the three characters the format escapes. */
static void add_labels(struct buf *b, const struct metrics_run *m, const char *outcome)
{
	buf_addf(b, "{%s=\"", m->label);
	for (const char *c = m->target; *c; c++) {
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

static void head(struct buf *b, const struct metrics_run *m, const char *name, const char *help)
{
	buf_addf(b, "# HELP regvault_%s_%s %s\n# TYPE regvault_%s_%s gauge\n", m->command, name,
	         help, m->command, name);
}

static void sample(struct buf *b, const struct metrics_run *m, const char *name,
                   const char *outcome, int64_t value)
{
	buf_addf(b, "regvault_%s_%s", m->command, name);
	add_labels(b, m, outcome);
	buf_addf(b, " %lld\n", (long long)value);
}

void metrics_format(struct buf *b, const struct metrics_run *m)
{
	const char *c = m->command;

	for (size_t i = 0; i < m->n_samples; i++) {
		const struct metrics_sample *s = &m->samples[i];
		if (i == 0 || strcmp(s->name, m->samples[i - 1].name) != 0)
			head(b, m, s->name, s->help);
		sample(b, m, s->name, s->outcome, s->value);
	}
	buf_addf(b, "# HELP regvault_%s_duration_seconds How long the last %s run took.\n"
	         "# TYPE regvault_%s_duration_seconds gauge\nregvault_%s_duration_seconds",
	         c, c, c, c);
	add_labels(b, m, NULL);
	buf_addf(b, " %lld.%03lld\n", (long long)(m->duration_ms / 1000),
	         (long long)(m->duration_ms % 1000));
	buf_addf(b, "# HELP regvault_%s_last_run_timestamp_seconds When the last %s run ended, "
	         "in seconds since the Unix epoch.\n", c, c);
	buf_addf(b, "# TYPE regvault_%s_last_run_timestamp_seconds gauge\n", c);
	sample(b, m, "last_run_timestamp_seconds", NULL, m->finished);
	buf_addf(b, "# HELP regvault_%s_last_run_success 1 when the last %s run did all it "
	         "should, 0 when it failed in part or in whole.\n", c, c);
	buf_addf(b, "# TYPE regvault_%s_last_run_success gauge\n", c);
	sample(b, m, "last_run_success", NULL, m->success ? 1 : 0);
	buf_addf(b, "# HELP regvault_%s_last_success_timestamp_seconds When the last fully "
	         "successful %s run ended, in seconds since the Unix epoch (0: never).\n", c, c);
	buf_addf(b, "# TYPE regvault_%s_last_success_timestamp_seconds gauge\n", c);
	sample(b, m, "last_success_timestamp_seconds", NULL, m->last_success);
}

/* Finds our own line: the name, then exactly the labels we would write,
 * then the value. */
int64_t metrics_last_success(const char *text, const struct metrics_run *m)
{
	struct buf want = BUF_INIT;
	int64_t found = 0;
	size_t n;

	buf_addf(&want, "regvault_%s_last_success_timestamp_seconds", m->command);
	add_labels(&want, m, NULL);
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

int metrics_write(const char *path, struct metrics_run *m)
{
	struct buf text = BUF_INIT;
	int rc;

	if (m->success) {
		m->last_success = m->finished;
	} else {
		rc = fs_read_file(&text, path, OLD_FILE_MAX);
		m->last_success = rc == 0 ? metrics_last_success(buf_cstr(&text), m) : 0;
		error_clear();
		buf_reset(&text);
	}
	metrics_format(&text, m);
	rc = fs_write_atomic(path, text.ptr, text.len, 0644);
	buf_release(&text);
	if (rc != 0)
		error_wrap(rc, "metrics file");
	return rc;
}

int metrics_check_path(const char *command, const char *path)
{
	const char *slash = strrchr(path, '/');
	char *dir = slash ? xstrndup(path, slash == path ? 1 : (size_t)(slash - path))
	                  : xstrdup(".");
	int ok = *path && path[strlen(path) - 1] != '/' && access(dir, W_OK | X_OK) == 0;
	int err = errno;

	free(dir);
	if (!*path)
		return output_usage_error(command, "invalid value '' for --metrics-file: "
		                          "expected a file name");
	if (!ok)
		return output_usage_error(command, "cannot write --metrics-file '%s': %s", path,
		                          path[strlen(path) - 1] == '/' ? "not a file name"
		                                                        : strerror(err));
	return RV_EXIT_OK;
}

int metrics_finish(const char *path, struct metrics_run *m, int status)
{
	if (metrics_write(path, m) == 0)
		return status;
	log_msg(LOGLV_ERROR, "%s", error_msg());
	return status == RV_EXIT_OK ? RV_EXIT_FAILURE : status;
}
