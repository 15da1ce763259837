/*
 * proc.h — running a helper program (kubectl, docker-credential-*) and
 * keeping what it prints.
 *
 * fork/execv, never a shell: every argv entry reaches the program as it
 * is. The child gets its own process group, so a timeout kills it and
 * whatever it started. stdin is the given bytes — through a socket, so a
 * program that exits without reading gives us EPIPE, not SIGPIPE — or
 * /dev/null (a plugin that wants to prompt fails instead of hanging).
 * stdout is kept up to a cap; stderr is kept up to its cap, the excess
 * dropped. We wait for the exit, not for EOF: a program may leave a daemon
 * behind (gpg-agent under "pass", an exec credential plugin) that still
 * holds a pipe open; what it wrote before exiting is read after.
 */
#ifndef RV_UTIL_PROC_H
#define RV_UTIL_PROC_H

#include <stddef.h>
#include <stdint.h>
#include "util/buf.h"

struct proc {
	/* In. */
	const char *path;          /* the program, as found (fs_find_on_path) */
	char *const *argv;         /* argv[0] included; NULL-terminated */
	const char *input;         /* stdin's bytes; NULL: /dev/null */
	size_t input_len;
	struct buf *out;           /* stdout goes here (the caller's buffer) */
	size_t max_out;            /* more than this is PROC_TOO_MUCH */
	size_t max_err;            /* stderr beyond this is dropped */
	int64_t timeout_ms;        /* from the start to the exit */
	/* Out. */
	struct buf err;            /* stderr; proc_release frees it */
	int status;                /* waitpid()'s, when PROC_EXITED */
};

enum proc_outcome {
	PROC_EXITED = 0,           /* it exited (see status); out holds its stdout */
	PROC_TIMED_OUT = 1,        /* killed, with its process group, at the deadline */
	PROC_TOO_MUCH = 2,         /* killed: stdout passed max_out */
};

/* Runs p->path and waits for it. A PROC_* outcome, or RV_ERROR when it
 * could not be started or watched (the message begins with what, e.g.
 * "kubectl (context \"prod\"): cannot start …"). Whatever the result, no
 * child is left running or unreaped. An exec failure is exit status 127
 * with "regvault: cannot execute PATH" on its stderr. */
int proc_run(struct proc *p, const char *what);

/* Frees p->err (wiped first: a helper may have echoed a secret). */
void proc_release(struct proc *p);

#endif
