/*
 * proc.c — a child program with bounded input, output and time (proc.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util/error.h"
#include "util/fs.h"
#include "util/proc.h"
#include "util/timeutil.h"
#include "util/xalloc.h"
#include "util/banned.h"

#define READ_CHUNK 65536
/* Reads per fd between two looks at the clock: 1 MiB. */
#define READS_PER_TURN 16

struct child {
	struct proc *p;
	const char *what;
	pid_t pid;
	int in, out, err;          /* our ends; -1 once closed */
	size_t input_off;
	int reaped;
};

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

/*
 * In the child, between fork and exec: async-signal-safe calls only (the
 * parent may have threads, e.g. curl's resolver). The message was made
 * before the fork.
 */
static RV_NORETURN void exec_child(const char *path, char *const argv[], int in, int out,
                                   int err, int max_fd, const char *msg, size_t msg_len)
{
	setpgid(0, 0);
	if (dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(err, 2) < 0)
		_exit(127);
	if (close_range(3, ~0U, 0) < 0)
		for (int fd = 3; fd < max_fd; fd++)
			close(fd);
	execv(path, argv);
	if (write(2, msg, msg_len) < 0)
		_exit(127);
	_exit(127);
}

static int set_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	return fl < 0 ? -1 : fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

static int start(struct child *c)
{
	struct proc *p = c->p;
	int in[2] = { -1, -1 }, po[2] = { -1, -1 }, pe[2] = { -1, -1 }, saved;
	long open_max = sysconf(_SC_OPEN_MAX);
	int max_fd = open_max > 0 && open_max < 65536 ? (int)open_max : 65536;
	char *msg = xasprintf("regvault: cannot execute %s\n", p->path);

	if (p->input) {
		if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, in) < 0)
			goto fail;
	} else {
		in[1] = open("/dev/null", O_RDONLY | O_CLOEXEC);
		if (in[1] < 0)
			goto fail;
	}
	if (pipe2(po, O_CLOEXEC) < 0 || pipe2(pe, O_CLOEXEC) < 0)
		goto fail;
	/* Not 0-2: dup2 onto stdio in the child must not clobber another end. */
	for (int i = 0; i < 2; i++) {
		in[i] = in[i] >= 0 ? fs_fd_above_stdio(in[i]) : -1;
		po[i] = fs_fd_above_stdio(po[i]);
		pe[i] = fs_fd_above_stdio(pe[i]);
	}
	if ((p->input && in[0] < 0) || in[1] < 0 || po[0] < 0 || po[1] < 0 || pe[0] < 0 ||
	    pe[1] < 0)
		goto fail;
	c->pid = fork();
	if (c->pid < 0)
		goto fail;
	if (c->pid == 0)
		exec_child(p->path, p->argv, in[1], po[1], pe[1], max_fd, msg, strlen(msg));
	setpgid(c->pid, c->pid); /* also here: no race with our kill() */
	free(msg);
	close(in[1]);
	close(po[1]);
	close(pe[1]);
	c->in = in[0];
	c->out = po[0];
	c->err = pe[0];
	set_nonblock(c->out);
	set_nonblock(c->err);
	return 0;
fail:
	saved = errno;
	free(msg);
	for (int i = 0; i < 2; i++) {
		close_fd(&in[i]);
		close_fd(&po[i]);
		close_fd(&pe[i]);
	}
	return error_set(RV_ERROR, "%s: cannot start \"%s\": %s", c->what, p->path,
	                 strerror(saved));
}

/* Sends what stdin still lacks; closes it when all is sent (EOF tells the
 * program its input is complete) or when the program does not read. */
static void feed(struct child *c)
{
	struct proc *p = c->p;

	while (c->in >= 0 && c->input_off < p->input_len) {
		ssize_t w = send(c->in, p->input + c->input_off, p->input_len - c->input_off,
		                 MSG_NOSIGNAL | MSG_DONTWAIT);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (w < 0) { /* EPIPE: it does not read stdin; its choice */
			close_fd(&c->in);
			return;
		}
		c->input_off += (size_t)w;
	}
	close_fd(&c->in);
}

enum { DRAIN_OVER = -1, DRAIN_EOF = 0, DRAIN_MORE = 1, DRAIN_EMPTY = 2 };

/* Reads what is there, up to READS_PER_TURN chunks: DRAIN_EOF (fd closed),
 * DRAIN_EMPTY (nothing more for now), DRAIN_MORE (stopped to look at the
 * clock) or DRAIN_OVER past cap; with drop_excess the excess is read and
 * thrown away instead. */
static int drain(int *fd, struct buf *b, size_t cap, int drop_excess)
{
	char tmp[READ_CHUNK];

	for (int i = 0; i < READS_PER_TURN; i++) {
		ssize_t n = read(*fd, tmp, sizeof(tmp));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return DRAIN_EMPTY;
		if (n <= 0) {
			close_fd(fd);
			return DRAIN_EOF;
		}
		if ((size_t)n > cap - b->len) {
			if (!drop_excess)
				return DRAIN_OVER;
			n = (ssize_t)(cap - b->len);
		}
		buf_add(b, tmp, (size_t)n);
	}
	return DRAIN_MORE;
}

static void kill_group(struct child *c)
{
	if (c->pid <= 0 || c->reaped)
		return;
	kill(-c->pid, SIGKILL);
	kill(c->pid, SIGKILL);
	while (waitpid(c->pid, &c->p->status, 0) < 0 && errno == EINTR)
		;
	c->reaped = 1;
}

/* One turn: wait for room, output or a tick; write, read, look for the
 * exit. PROC_TOO_MUCH, 0, or RV_ERROR. */
static int turn(struct child *c, int wait_ms)
{
	struct proc *p = c->p;
	struct pollfd pfd[3];
	nfds_t n = 0;
	pid_t w;

	if (c->in >= 0)
		pfd[n++] = (struct pollfd){ .fd = c->in, .events = POLLOUT };
	if (c->out >= 0)
		pfd[n++] = (struct pollfd){ .fd = c->out, .events = POLLIN };
	if (c->err >= 0)
		pfd[n++] = (struct pollfd){ .fd = c->err, .events = POLLIN };
	if (poll(pfd, n, wait_ms) < 0 && errno != EINTR)
		return error_set(RV_ERROR, "%s: poll: %s", c->what, strerror(errno));
	feed(c);
	if (c->out >= 0 && drain(&c->out, p->out, p->max_out, 0) == DRAIN_OVER)
		return PROC_TOO_MUCH;
	if (c->err >= 0)
		drain(&c->err, &p->err, p->max_err, 1);
	w = waitpid(c->pid, &p->status, WNOHANG);
	if (w == c->pid)
		c->reaped = 1;
	else if (w < 0 && errno != EINTR)
		return error_set(RV_ERROR, "%s: waitpid: %s", c->what, strerror(errno));
	return 0;
}

static int communicate(struct child *c)
{
	struct proc *p = c->p;
	int64_t deadline = time_mono_ms() + p->timeout_ms;
	int rc;

	while (!c->reaped) {
		int64_t left = deadline - time_mono_ms();
		/* With a pipe closed the exit may come without a poll event. */
		int wait_ms = c->out < 0 || c->err < 0 ? 10 : 1000;

		if (left <= 0)
			return PROC_TIMED_OUT;
		if (left < wait_ms)
			wait_ms = (int)left;
		if ((rc = turn(c, wait_ms)) != 0)
			return rc;
	}
	do {
		rc = c->out >= 0 ? drain(&c->out, p->out, p->max_out, 0) : DRAIN_EOF;
		if (rc == DRAIN_OVER)
			return PROC_TOO_MUCH;
		if (rc == DRAIN_MORE && time_mono_ms() >= deadline)
			return PROC_TIMED_OUT;
	} while (rc == DRAIN_MORE);
	while (c->err >= 0 && time_mono_ms() < deadline &&
	       drain(&c->err, &p->err, p->max_err, 1) == DRAIN_MORE)
		;
	return PROC_EXITED;
}

int proc_run(struct proc *p, const char *what)
{
	struct child c = { p, what, -1, -1, -1, -1, 0, 0 };
	int rc;

	p->err = (struct buf)BUF_INIT;
	p->status = 0;
	rc = start(&c);
	if (rc == 0)
		rc = communicate(&c);
	kill_group(&c);
	close_fd(&c.in);
	close_fd(&c.out);
	close_fd(&c.err);
	return rc;
}

void proc_release(struct proc *p)
{
	if (p->err.ptr)
		explicit_bzero(p->err.ptr, p->err.alloc);
	buf_release(&p->err);
}
