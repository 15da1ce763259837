/*
 * output.c — the only place that decides what reaches stdout and stderr.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include "cli/exitcode.h"
#include "cli/output.h"
#include "registry/registry.h"
#include "util/error.h"
#include "util/log.h"
#include "util/str.h"
#include "util/banned.h"

static enum output_mode mode = OUTPUT_TEXT;

static const char *level_name(enum log_level level)
{
	switch (level) {
	case LOGLV_ERROR: return "error";
	case LOGLV_WARN: return "warning";
	case LOGLV_INFO: return "info";
	case LOGLV_DEBUG: return "debug";
	case LOGLV_TRACE: return "trace";
	}
	return "log";
}

/* Messages quote what registries sent, and a registry may quote our
 * Authorization header back (docs/security.md): every message that leaves
 * through here is redacted first; HTTP trace lines too (their headers
 * are redacted already, but a server may echo a credential in any header). */
static void stderr_sink(enum log_level level, const char *msg, void *ctx)
{
	char line[4096];
	char *safe = registry_redact_text(msg);

	(void)ctx;
	fprintf(stderr, "regvault: %s: %s\n", level_name(level),
	        str_printable(line, sizeof(line), safe));
	free(safe);
}

void output_init(enum output_mode m, int quiet, int verbose, int trace)
{
	enum log_level max = LOGLV_WARN;

	mode = m;
	/* An HTTP trace asked for explicitly wins over -q. */
	if (trace || verbose >= 3)
		max = LOGLV_TRACE;
	else if (quiet)
		max = LOGLV_ERROR;
	else if (verbose == 2)
		max = LOGLV_DEBUG;
	else if (verbose == 1)
		max = LOGLV_INFO;
	log_set_sink(stderr_sink, NULL, max);
}

int output_is_json(void)
{
	return mode == OUTPUT_JSON;
}

int output_json(json_t *doc)
{
	int rc = json_dumpf(doc, stdout, JSON_INDENT(2) | JSON_SORT_KEYS | JSON_REAL_PRECISION(15));

	json_decref(doc);
	if (rc != 0 || fputc('\n', stdout) == EOF) {
		fprintf(stderr, "regvault: error: cannot write to standard output\n");
		return RV_EXIT_FAILURE;
	}
	return RV_EXIT_OK;
}

/* A JSON string for a message that may quote bytes which are not UTF-8
 * (what the user typed): those become '?' rather than losing the document. */
static json_t *json_message(const char *msg)
{
	json_t *j = json_string(msg);
	char *ascii;
	size_t i;

	if (j)
		return j;
	ascii = xstrdup(msg);
	for (i = 0; ascii[i]; i++)
		if ((unsigned char)ascii[i] >= 0x80)
			ascii[i] = '?';
	j = json_string(ascii);
	free(ascii);
	return j;
}

static void json_error_doc(const char *code_name, const char *msg)
{
	output_json(json_pack("{s:{s:s,s:o}}", "error", "code", code_name,
	                      "message", json_message(msg)));
}

int output_error(int code)
{
	char msg[1024];
	char *safe = registry_redact_text(*error_msg() ? error_msg() : "unknown error");

	/* Messages quote what the user or a server sent: keep them one line. */
	str_printable(msg, sizeof(msg), safe);
	free(safe);
	fprintf(stderr, "regvault: error: %s\n", msg);
	if (mode == OUTPUT_JSON)
		json_error_doc(error_code_name(code), msg);
	return rv_exit_code(code);
}

int output_usage_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;
	char raw[1024], msg[1024];

	va_start(ap, fmt);
	vsnprintf(raw, sizeof(raw), fmt, ap);
	va_end(ap);
	str_printable(msg, sizeof(msg), raw);
	fprintf(stderr, "regvault: error: %s\n", msg);
	fprintf(stderr, "Try 'regvault%s%s --help'.\n", cmd ? " " : "", cmd ? cmd : "");
	if (mode == OUTPUT_JSON)
		json_error_doc("usage", msg);
	return RV_EXIT_USAGE;
}

int output_finish(int status)
{
	if (fflush(stdout) != 0 || ferror(stdout)) {
		/* EPIPE: the reader went away (`| head`); nothing left to tell it. */
		if (errno != EPIPE)
			fprintf(stderr, "regvault: error: cannot write to standard output: %s\n",
			        strerror(errno));
		return status ? status : RV_EXIT_FAILURE;
	}
	return status;
}

/* A JSON string of what the user typed; bytes that are not UTF-8 become
 * '?' (the run record is for reading, not for replaying). */
json_t *output_json_string(const char *s)
{
	json_t *j = json_string(s);
	char *copy;

	if (j)
		return j;
	copy = xstrdup(s);
	for (char *c = copy; *c; c++)
		if ((unsigned char)*c >= 0x80)
			*c = '?';
	j = json_string(copy);
	free(copy);
	return j;
}

/* The command's arguments for the run record. Global options were taken
 * out of argv before: no --authfile, nothing secret. */
char *output_args_json(int argc, char **argv)
{
	json_t *arr = json_array();
	char *s;

	for (int i = 1; i < argc; i++)
		json_array_append_new(arr, output_json_string(argv[i]));
	s = json_dumps(arr, JSON_COMPACT);
	json_decref(arr);
	if (!s)
		xdie("out of memory encoding the arguments");
	return s;
}
