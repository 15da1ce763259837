/*
 * kubectl.c — running `kubectl get … -o json` and keeping what it prints.
 *
 * util/proc runs it: fork/execv, never a shell, so the context name goes
 * to kubectl as one argv entry whatever it holds; stdin is /dev/null (an
 * exec credential plugin that wants to prompt fails instead of hanging);
 * its own process group, so a timeout kills kubectl and its plugins
 * together. Here: which kubectl, its arguments, and what its exit means.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "deployed/deployed.h"
#include "deployed/internal.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/log.h"
#include "util/proc.h"
#include "util/xalloc.h"
#include "util/banned.h"

#define KUBECTL_RESOURCES "pods,replicasets,deployments,statefulsets,daemonsets,jobs,cronjobs"
#define STDERR_MAX 65536
#define COMPLAINT_MAX 200

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

static int finish(const struct proc *p, const char *display)
{
	char *why = complaint(&p->err);
	int rc = 0;

	if (WIFEXITED(p->status) && WEXITSTATUS(p->status) == 0) {
		if (*why)
			log_info("%s said: %s", display, why);
	} else if (WIFEXITED(p->status) && *why) {
		rc = error_set(RV_ERROR, "%s failed with exit status %d: \"%s\"", display,
		               WEXITSTATUS(p->status), why);
	} else if (WIFEXITED(p->status)) {
		rc = error_set(RV_ERROR, "%s failed with exit status %d and nothing on stderr",
		               display, WEXITSTATUS(p->status));
	} else {
		rc = error_set(RV_ERROR, "%s killed by signal %d", display,
		               WIFSIGNALED(p->status) ? WTERMSIG(p->status) : 0);
	}
	free(why);
	return rc;
}

int deployed_kubectl_run(struct buf *out, const char *context, const char *display,
                         const struct deployed_options *o)
{
	const char *prog = o->kubectl && *o->kubectl ? o->kubectl : "kubectl";
	int timeout_s = o->timeout_s > 0 ? o->timeout_s : 60;
	size_t max_out = o->max_output ? o->max_output : DEPLOYED_MAX_JSON;
	char *path = NULL;
	char *argv[] = { (char *)"kubectl", (char *)"--context", (char *)context, (char *)"get",
	                 (char *)KUBECTL_RESOURCES, (char *)"-A", (char *)"-o", (char *)"json", NULL };
	struct proc p = { 0 };
	int rc;

	if (!context) /* drop "--context CONTEXT" */
		memmove(&argv[1], &argv[3], sizeof(argv) - 3 * sizeof(argv[0]));
	rc = find_program(&path, prog);
	if (!rc) {
		p.path = path;
		p.argv = argv;
		p.out = out;
		p.max_out = max_out;
		p.max_err = STDERR_MAX;
		p.timeout_ms = (int64_t)timeout_s * 1000;
		rc = proc_run(&p, display);
		if (rc == PROC_TIMED_OUT)
			rc = error_set(RV_ETRANSIENT, "%s timed out after %d s", display, timeout_s);
		else if (rc == PROC_TOO_MUCH)
			rc = error_set(RV_ETOOBIG, "%s printed more than %zu bytes", display, max_out);
		else if (rc == PROC_EXITED)
			rc = finish(&p, display);
	}
	proc_release(&p);
	free(path);
	if (rc)
		buf_reset(out);
	return rc;
}
