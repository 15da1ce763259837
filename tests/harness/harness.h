/*
 * harness.h — small helpers for live cmocka tests (tests/harness/README.md).
 *
 * The registries are started once per ctest run by the "registries" fixture
 * (up.sh); a test finds them through the KEY=VALUE file named by
 * $RV_HARNESS_ENV. Typical use:
 *
 *     const char *reg = harness_env("RV_REG_PLAIN");
 *     if (!reg)
 *         skip();
 *
 * Self-contained (libc only) so it works before util/ and oci/ exist.
 */
#ifndef RV_HARNESS_H
#define RV_HARNESS_H

#include <stddef.h>

/*
 * Value of KEY in the env file, or NULL when $RV_HARNESS_ENV is unset, the
 * file is unreadable or the key is absent. The file is read once; the string
 * is owned by the harness and lives until exit.
 */
const char *harness_env(const char *key);

/* harness_env() parsed as a long; `fallback` when missing or not a number. */
long harness_env_long(const char *key, long fallback);

/*
 * Whole file into a malloc'd, NUL-terminated buffer (the NUL is not counted
 * in *len_out, which may be NULL). NULL on error, with errno set. Caller frees.
 */
char *harness_read_file(const char *path, size_t *len_out);

/* Write `len` bytes to path (created 0600, truncated). 0 or -1 with errno. */
int harness_write_file(const char *path, const void *data, size_t len);

/* Number of '\n'-terminated lines in a file (e.g. RV_TOKEN_LOG); -1 on error. */
long harness_count_lines(const char *path);

/*
 * A fresh private directory under $TMPDIR (or /tmp), e.g. for a catalog or
 * an archive store. Returns a malloc'd path; NULL on error. Caller frees and
 * removes it (harness_rm_rf).
 */
char *harness_mkdtemp(const char *prefix);

/* Remove a tree made by the test. 0 or -1. Refuses "" and "/". */
int harness_rm_rf(const char *path);

/*
 * Run argv[0] (PATH lookup) with stdin from /dev/null, wait at most
 * `timeout_sec`, and return its exit status (0..255), 128+signal if it died,
 * or -1 if it could not run or timed out (then it is killed). If `out` is not
 * NULL, stdout is captured into a malloc'd NUL-terminated string (capped at
 * 16 MiB; *out is NULL on failure); otherwise stdout and stderr pass
 * through. Never put secrets in argv: use files.
 */
int harness_run(const char *const argv[], int timeout_sec, char **out);

/* "sha256:<hex>" of a buffer into out (at least 72 bytes). */
void harness_sha256(const void *data, size_t len, char out[72]);

#endif
