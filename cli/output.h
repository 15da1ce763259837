/*
 * output.h — where regvault's words go.
 *
 * Results (listings, inspect) go to stdout: in text mode as lines a pipe
 * can grep, in json mode as exactly one JSON document (two-space indent,
 * keys sorted, so the bytes are stable). Everything meant for a person —
 * errors, warnings, notes, progress — goes to stderr, so `-o json | jq`
 * and `ls … | grep` never see it. On failure in json mode the one document
 * is {"error":{"code":"<name>","message":"…"}} and the message also goes
 * to stderr as "regvault: error: …".
 */
#ifndef RV_CLI_OUTPUT_H
#define RV_CLI_OUTPUT_H

#include <jansson.h>
#include "util/xalloc.h"

enum output_mode { OUTPUT_TEXT = 0, OUTPUT_JSON };

/* Sets the mode and installs the util/log.h sink: warnings and errors by
 * default, only errors with quiet, info at verbose 1, debug at 2, trace at
 * 3 or when trace is set (REGVAULT_TRACE). */
void output_init(enum output_mode mode, int quiet, int verbose, int trace);
int output_is_json(void);

/* Prints doc to stdout as the run's one JSON document and drops the
 * reference. RV_EXIT_FAILURE when stdout cannot be written. */
int output_json(json_t *doc);

/* Reports the current error message (util/error.h) for `code`: stderr
 * line, plus the JSON error document in json mode. Returns the exit status
 * for code (cli/exitcode.h). */
int output_error(int code);

/* A usage error: "regvault: error: <msg>" and "Try 'regvault[ CMD]
 * --help'." on stderr (plus the JSON error document, code "usage").
 * cmd may be NULL. Returns RV_EXIT_USAGE. */
int output_usage_error(const char *cmd, const char *fmt, ...) RV_PRINTF(2, 3);

/* Flushes stdout; RV_EXIT_FAILURE with a message when writing failed
 * (full disk, closed pipe), else `status` unchanged. */
int output_finish(int status);

/* A JSON string of user-supplied text; bytes that are not UTF-8 become '?'
 * (for reading, not replaying). Never NULL. */
json_t *output_json_string(const char *s);
/* A command's arguments (argv[1..argc)) as compact JSON text for the run
 * record. Global options were taken out before: no --authfile, nothing
 * secret. Caller frees. */
char *output_args_json(int argc, char **argv);

#endif
