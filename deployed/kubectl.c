/*
 * kubectl.c — running `kubectl get … -o json` and keeping what it prints.
 *
 * fork/execv, never a shell: the context name goes to kubectl as one argv
 * entry whatever it holds. stdin is /dev/null (an exec credential plugin
 * that wants to prompt fails instead of hanging), stdout is kept up to a
 * cap, stderr is kept for the message. The child gets its own process
 * group so a timeout kills kubectl and its plugins together.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "deployed/deployed.h"
#include "deployed/internal.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/log.h"
#include "util/timeutil.h"
#include "util/xalloc.h"
#include "util/banned.h"

#define KUBECTL_RESOURCES "pods,replicasets,deployments,statefulsets,daemonsets,jobs,cronjobs"
#define STDERR_MAX 65536
#define READ_CHUNK 65536
/* Reads per fd between two looks at the clock: 1 MiB. */
#define READS_PER_TURN 16
#define COMPLAINT_MAX 200

struct run {
	const char *display;   /* "kubectl (context \"prod\")", for messages */
	pid_t pid;
	int out, err;          /* our pipe ends; -1 once closed */
	struct buf *stdout_buf;
	size_t max_out;
	struct buf stderr_buf;
	int status;
	int reaped;            /* waitpid() has collected it */
};

static int find_program(char **out, const char *prog)
{
	struct stat st;

	*out = NULL;
	if (!strchr(prog, '/')) {
		*out = fs_find_on_path(prog);
		if (!*out)
			return error_set(RV_ENOTFOUND, "kubectl program \"%s\" not found on PATH", prog);
		return 0;
	}
	if (stat(prog, &st) || !S_ISREG(st.st_mode) || access(prog, X_OK))
		return error_set(RV_ENOTFOUND, "kubectl program \"%s\" not found or not executable",
		                 prog);
	*out = xstrdup(prog);
	return 0;
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

/*
 * In the child, between fork and exec: async-signal-safe calls only (the
 * parent may have threads). An exec failure is said on stderr, which the
 * parent quotes with the exit status 127.
 */
static RV_NORETURN void child(const char *path, char *const argv[], int in, int out, int err,
                              int max_fd)
{
	static const char msg[] = "regvault: cannot execute the kubectl program\n";

	setpgid(0, 0);
	if (dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(err, 2) < 0)
		_exit(127);
	if (close_range(3, ~0U, 0) < 0)
		for (int fd = 3; fd < max_fd; fd++)
			close(fd);
	execv(path, argv);
	if (write(2, msg, sizeof(msg) - 1) < 0)
		_exit(127);
	_exit(127);
}

static int spawn(struct run *r, const char *path, char *const argv[])
{
	int null = -1, po[2] = { -1, -1 }, pe[2] = { -1, -1 }, saved;
	long open_max = sysconf(_SC_OPEN_MAX);
	int max_fd = open_max > 0 && open_max < 65536 ? (int)open_max : 65536;

	null = fs_fd_above_stdio(open("/dev/null", O_RDONLY | O_CLOEXEC));
	if (null < 0 || pipe2(po, O_CLOEXEC) < 0 || pipe2(pe, O_CLOEXEC) < 0)
		goto fail;
	for (int i = 0; i < 2; i++) {
		po[i] = fs_fd_above_stdio(po[i]);
		pe[i] = fs_fd_above_stdio(pe[i]);
	}
	if (po[0] < 0 || po[1] < 0 || pe[0] < 0 || pe[1] < 0)
		goto fail;
	r->pid = fork();
	if (r->pid < 0)
		goto fail;
	if (r->pid == 0)
		child(path, argv, null, po[1], pe[1], max_fd);
	setpgid(r->pid, r->pid); /* also here: no race with our kill() */
	close(null);
	close(po[1]);
	close(pe[1]);
	r->out = po[0];
	r->err = pe[0];
	fcntl(r->out, F_SETFL, fcntl(r->out, F_GETFL) | O_NONBLOCK);
	fcntl(r->err, F_SETFL, fcntl(r->err, F_GETFL) | O_NONBLOCK);
	return 0;
fail:
	saved = errno;
	close_fd(&null);
	for (int i = 0; i < 2; i++) {
		close_fd(&po[i]);
		close_fd(&pe[i]);
	}
	return error_set(RV_ERROR, "%s: cannot start \"%s\": %s", r->display, path,
	                 strerror(saved));
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

static void kill_group(struct run *r)
{
	if (r->pid <= 0 || r->reaped)
		return;
	kill(-r->pid, SIGKILL);
	kill(r->pid, SIGKILL);
	while (waitpid(r->pid, &r->status, 0) < 0 && errno == EINTR)
		;
	r->reaped = 1;
}

static int over_cap(const struct run *r)
{
	return error_set(RV_ETOOBIG, "%s printed more than %zu bytes", r->display, r->max_out);
}

/* One turn: wait for output or a tick, read, look for the exit. */
static int turn(struct run *r, int wait_ms)
{
	struct pollfd pfd[2];
	nfds_t n = 0;
	pid_t w;

	if (r->out >= 0)
		pfd[n++] = (struct pollfd){ .fd = r->out, .events = POLLIN };
	if (r->err >= 0)
		pfd[n++] = (struct pollfd){ .fd = r->err, .events = POLLIN };
	if (poll(pfd, n, wait_ms) < 0 && errno != EINTR)
		return error_set(RV_ERROR, "%s: poll: %s", r->display, strerror(errno));
	if (r->out >= 0 && drain(&r->out, r->stdout_buf, r->max_out, 0) == DRAIN_OVER)
		return over_cap(r);
	if (r->err >= 0)
		drain(&r->err, &r->stderr_buf, STDERR_MAX, 1);
	w = waitpid(r->pid, &r->status, WNOHANG);
	if (w == r->pid)
		r->reaped = 1;
	else if (w < 0 && errno != EINTR)
		return error_set(RV_ERROR, "%s: waitpid: %s", r->display, strerror(errno));
	return 0;
}

static int timed_out(const struct run *r, int timeout_s)
{
	return error_set(RV_ETRANSIENT, "%s timed out after %d s", r->display, timeout_s);
}

/*
 * Reads stdout and stderr until kubectl has exited. We wait for the exit,
 * not for EOF: a credential plugin may leave something behind that holds a
 * pipe open. What kubectl wrote before exiting is in the pipe, read by the
 * final drains, which stop at EOF or when the pipe is empty.
 */
static int communicate(struct run *r, int timeout_s)
{
	int64_t deadline = time_mono_ms() + (int64_t)timeout_s * 1000;
	int rc;

	while (!r->reaped) {
		int64_t left = deadline - time_mono_ms();
		/* With a pipe closed the exit may come without a poll event. */
		int wait_ms = r->out < 0 || r->err < 0 ? 10 : 1000;

		if (left <= 0)
			return timed_out(r, timeout_s);
		if (left < wait_ms)
			wait_ms = (int)left;
		rc = turn(r, wait_ms);
		if (rc)
			return rc;
	}
	do {
		rc = r->out >= 0 ? drain(&r->out, r->stdout_buf, r->max_out, 0) : DRAIN_EOF;
		if (rc == DRAIN_OVER)
			return over_cap(r);
		if (rc == DRAIN_MORE && time_mono_ms() >= deadline)
			return timed_out(r, timeout_s);
	} while (rc == DRAIN_MORE);
	while (r->err >= 0 && time_mono_ms() < deadline &&
	       drain(&r->err, &r->stderr_buf, STDERR_MAX, 1) == DRAIN_MORE)
		;
	return 0;
}

/* klog's prefix: "E1123 20:23:09.434215    7887 memcache.go:265] …" */
static int is_klog_line(const char *p, size_t n)
{
	if (n < 6 || !strchr("IWEF", p[0]) || p[5] != ' ')
		return 0;
	for (int i = 1; i < 5; i++)
		if (p[i] < '0' || p[i] > '9')
			return 0;
	return 1;
}

/*
 * kubectl's own message for a failed run: it prints klog lines (retries,
 * "Unhandled Error") first and its verdict last ("The connection to the
 * server … was refused", "error: You must be logged in to the server"), so
 * we take the last line that is not a klog line, else the last line.
 */
static char *complaint(const struct buf *b)
{
	const char *s = buf_cstr(b), *best = NULL, *last = NULL;
	size_t best_n = 0, last_n = 0;
	struct buf out = BUF_INIT;

	for (const char *p = s; *p;) {
		size_t n = strcspn(p, "\r\n");
		size_t lead = strspn(p, " \t");

		if (lead < n) {
			last = p + lead;
			last_n = n - lead;
			if (!is_klog_line(last, last_n)) {
				best = last;
				best_n = last_n;
			}
		}
		p += n + strspn(p + n, "\r\n");
	}
	if (!best) {
		best = last ? last : "";
		best_n = last_n;
	}
	for (size_t i = 0; i < best_n && i < COMPLAINT_MAX; i++)
		buf_addch(&out, best[i] >= 0x20 && best[i] != 0x7f ? best[i] : '?');
	if (best_n > COMPLAINT_MAX)
		buf_addstr(&out, "...");
	return buf_detach(&out, NULL);
}

static int finish(struct run *r)
{
	char *why = complaint(&r->stderr_buf);
	int rc = 0;

	if (WIFEXITED(r->status) && WEXITSTATUS(r->status) == 0) {
		if (*why)
			log_info("%s said: %s", r->display, why);
	} else if (WIFEXITED(r->status) && *why) {
		rc = error_set(RV_ERROR, "%s failed with exit status %d: \"%s\"", r->display,
		               WEXITSTATUS(r->status), why);
	} else if (WIFEXITED(r->status)) {
		rc = error_set(RV_ERROR, "%s failed with exit status %d and nothing on stderr",
		               r->display, WEXITSTATUS(r->status));
	} else {
		rc = error_set(RV_ERROR, "%s killed by signal %d", r->display,
		               WIFSIGNALED(r->status) ? WTERMSIG(r->status) : 0);
	}
	free(why);
	return rc;
}

int deployed_kubectl_run(struct buf *out, const char *context, const char *display,
                         const struct deployed_options *o)
{
	struct run r = { display, -1, -1, -1, out, o->max_output ? o->max_output : DEPLOYED_MAX_JSON,
	                 BUF_INIT, 0, 0 };
	const char *prog = o->kubectl && *o->kubectl ? o->kubectl : "kubectl";
	int timeout_s = o->timeout_s > 0 ? o->timeout_s : 60;
	char *path = NULL;
	char *argv[] = { (char *)"kubectl", (char *)"--context", (char *)context, (char *)"get",
	                 (char *)KUBECTL_RESOURCES, (char *)"-A", (char *)"-o", (char *)"json", NULL };
	int rc;

	if (!context) /* drop "--context CONTEXT" */
		memmove(&argv[1], &argv[3], sizeof(argv) - 3 * sizeof(argv[0]));
	rc = find_program(&path, prog);
	if (!rc)
		rc = spawn(&r, path, argv);
	if (!rc)
		rc = communicate(&r, timeout_s);
	if (!rc)
		rc = finish(&r);
	kill_group(&r);
	close_fd(&r.out);
	close_fd(&r.err);
	buf_release(&r.stderr_buf);
	free(path);
	if (rc)
		buf_reset(out);
	return rc;
}
