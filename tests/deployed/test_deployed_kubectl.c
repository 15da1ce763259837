/*
 * Unit tests for deployed/kubectl.c: deployed_read() on kubectl sources,
 * against fake `kubectl` shell scripts written into a temp dir at test time
 * (success, failure with kubectl's stderr, garbage, hangs, signals, a
 * missing program, output over the cap).
 */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "tests/deployed/fixture.h"
#include "deployed/deployed.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/str.h"
#include "util/timeutil.h"
#include "util/xalloc.h"
#include "util/banned.h"

#define ARGS_TAIL "get\npods,replicasets,deployments,statefulsets,daemonsets,jobs,cronjobs\n-A\n" \
                  "-o\njson\n"

static char root[] = "/tmp/rv-test-kubectl-XXXXXX";

static int setup(void **state)
{
	(void)state;
	return mkdtemp(root) ? 0 : -1;
}

static int teardown(void **state)
{
	char *cmd = xasprintf("rm -rf '%s'", root);
	int rc = system(cmd);

	(void)state;
	free(cmd);
	return rc == 0 ? 0 : -1;
}

static char *path(const char *rel)
{
	return fs_path_join(root, rel);
}

/* Writes root/<name>: "#!/bin/sh" and body, where "@DIR@" becomes root
 * and "@DATA@" the fixture directory. Returns the path (caller frees). */
static char *script(const char *name, const char *body)
{
	struct buf b = BUF_INIT;
	char *p = path(name), *data = fx_data_path("");

	buf_addstr(&b, "#!/bin/sh\n");
	for (const char *s = body; *s; s++) {
		if (str_has_prefix(s, "@DIR@")) {
			buf_addstr(&b, root);
			s += 4;
		} else if (str_has_prefix(s, "@DATA@")) {
			buf_addstr(&b, data);
			s += 5;
		} else {
			buf_addch(&b, *s);
		}
	}
	assert_int_equal(fs_write_atomic(p, b.ptr, b.len, 0755), 0);
	buf_release(&b);
	free(data);
	return p;
}

static char *slurp(const char *rel)
{
	struct buf b = BUF_INIT;
	char *p = path(rel);

	if (fs_read_file(&b, p, 0))
		fail_msg("%s", error_msg());
	free(p);
	return buf_detach(&b, NULL);
}

/* Reads one kubectl source with the given program and options. */
static int run(struct deployed_set *s, const char *context, struct deployed_options *o)
{
	struct deployed_source src = { DEPLOYED_KUBECTL, xstrdup_or_null(context) };
	int rc = deployed_read(s, &src, 1, o);

	deployed_source_release(&src);
	return rc;
}

static void test_success_and_argv(void **state)
{
	struct deployed_options o = DEPLOYED_OPTIONS_INIT;
	struct deployed_set s = DEPLOYED_SET_INIT;
	char *prog = script("ok", "printf '%s\\n' \"$@\" > @DIR@/args\n"
	                          "cat > @DIR@/stdin\n"
	                          "echo 'Warning: v1 ComponentStatus is deprecated' >&2\n"
	                          "cat @DATA@/cluster.json\n");
	char *args;

	(void)state;
	o.kubectl = prog;
	o.rollback = 1;
	assert_int_equal(run(&s, "prod", &o), 0);
	assert_int_equal(s.n, 26);
	args = slurp("args");
	assert_string_equal(args, "--context\nprod\n" ARGS_TAIL);
	free(args);
	args = slurp("stdin"); /* /dev/null: EOF at once, nothing read */
	assert_string_equal(args, "");
	free(args);
	deployed_set_release(&s);

	/* No context: the current one, no --context at all. */
	assert_int_equal(run(&s, NULL, &o), 0);
	args = slurp("args");
	assert_string_equal(args, ARGS_TAIL);
	free(args);
	deployed_set_release(&s);

	/* An empty context name is refused, never "the current context". */
	assert_int_equal(run(&s, "", &o), RV_EINVALID);
	assert_string_equal(error_msg(), "kubectl source with an empty context name");
	assert_int_equal(s.n, 0);

	/* A context is one argv entry, whatever it holds: no shell. */
	assert_int_equal(run(&s, "team a's $(prod); rm -rf /", &o), 0);
	args = slurp("args");
	assert_string_equal(args, "--context\nteam a's $(prod); rm -rf /\n" ARGS_TAIL);
	free(args);
	deployed_set_release(&s);
	free(prog);
}

static void test_found_on_path(void **state)
{
	struct deployed_options o = DEPLOYED_OPTIONS_INIT;
	struct deployed_set s = DEPLOYED_SET_INIT;
	char *old = xstrdup_or_null(getenv("PATH")), *bin = path("bin"), *empty = path("empty");
	char *prog, *front, *msg;
	int rc, rc_missing;

	(void)state;
	assert_int_equal(fs_mkdir_p(bin, 0700), 0);
	assert_int_equal(fs_mkdir_p(empty, 0700), 0);
	prog = script("bin/kubectl", "exec cat @DATA@/deployment.json\n");
	front = xasprintf("%s:%s", bin, old ? old : "/usr/bin:/bin");
	setenv("PATH", empty, 1);
	rc_missing = run(&s, "prod", &o);
	msg = xstrdup(error_msg());
	setenv("PATH", front, 1); /* ours first; the script still finds cat */
	rc = run(&s, "prod", &o);
	if (old)
		setenv("PATH", old, 1);
	else
		unsetenv("PATH");
	assert_int_equal(rc_missing, RV_ENOTFOUND);
	assert_string_equal(msg, "kubectl program \"kubectl\" not found on PATH");
	assert_int_equal(rc, 0);
	assert_int_equal(s.n, 2);
	free(front);
	free(msg);
	deployed_set_release(&s);
	free(old);
	free(bin);
	free(empty);
	free(prog);
}

static void test_not_found(void **state)
{
	struct deployed_options o = DEPLOYED_OPTIONS_INIT;
	struct deployed_set s = DEPLOYED_SET_INIT;
	char *missing = path("no-such-kubectl"), *want;

	(void)state;
	o.kubectl = missing;
	assert_int_equal(run(&s, "prod", &o), RV_ENOTFOUND);
	want = xasprintf("kubectl program \"%s\" not found or not executable", missing);
	assert_string_equal(error_msg(), want);
	/* A directory is not a program either. */
	o.kubectl = root;
	assert_int_equal(run(&s, "prod", &o), RV_ENOTFOUND);
	assert_int_equal(s.n, 0);
	free(want);
	free(missing);
}

static void test_failure_quotes_kubectl(void **state)
{
	struct deployed_options o = DEPLOYED_OPTIONS_INIT;
	struct deployed_set s = DEPLOYED_SET_INIT;
	/* What kubectl prints for an unreachable cluster: klog noise, then its verdict. */
	char *prog = script("fail",
		"echo 'E1123 20:23:09.434215    7887 memcache.go:265] \"Unhandled Error\" err=\"x\"' >&2\n"
		"echo 'E1123 20:23:09.435640    7887 memcache.go:265] \"Unhandled Error\" err=\"y\"' >&2\n"
		"echo 'The connection to the server 10.0.0.1:6443 was refused - did you specify the "
		"right host or port?' >&2\n"
		"echo 'I1123 20:23:09.437121    7887 cached_discovery.go:1] flushed' >&2\n"
		"echo '{\"apiVersion\": \"v1\", \"items\": [' \n"
		"exit 1\n");
	char *quiet = script("quiet", "exit 3\n");
	char *onlyklog = script("klog", "echo 'W0102 03:04:05.000000 1 loader.go:1] bad' >&2\n"
	                                "printf 'E0102 03:04:05.000001 1 x.go:2] last\\033[31m' >&2\n"
	                                "exit 1\n");

	(void)state;
	o.kubectl = prog;
	assert_int_equal(run(&s, "prod", &o), RV_ERROR);
	assert_string_equal(error_msg(), "kubectl (context \"prod\") failed with exit status 1: "
	                                 "\"The connection to the server 10.0.0.1:6443 was refused - "
	                                 "did you specify the right host or port?\"");
	o.kubectl = quiet;
	assert_int_equal(run(&s, NULL, &o), RV_ERROR);
	assert_string_equal(error_msg(), "kubectl (current context) failed with exit status 3 and "
	                                 "nothing on stderr");
	o.kubectl = onlyklog;
	assert_int_equal(run(&s, "prod", &o), RV_ERROR);
	assert_string_equal(error_msg(), "kubectl (context \"prod\") failed with exit status 1: "
	                                 "\"E0102 03:04:05.000001 1 x.go:2] last?[31m\"");
	assert_int_equal(s.n, 0);
	free(prog);
	free(quiet);
	free(onlyklog);
}

static void test_garbage_and_empty(void **state)
{
	struct deployed_options o = DEPLOYED_OPTIONS_INIT;
	struct deployed_set s = DEPLOYED_SET_INIT;
	char *garbage = script("garbage", "echo 'No resources found'\n");
	char *silent = script("silent", "exit 0\n");
	char *empty = script("empty-list", "cat @DATA@/empty-list.json\n");

	(void)state;
	o.kubectl = garbage;
	assert_int_equal(run(&s, "prod", &o), RV_EINVALID);
	assert_true(str_has_prefix(error_msg(), "kubectl (context \"prod\"): invalid JSON at line 1"));
	o.kubectl = silent;
	assert_int_equal(run(&s, "prod", &o), RV_EINVALID);
	assert_true(str_has_prefix(error_msg(), "kubectl (context \"prod\"): invalid JSON"));
	o.kubectl = empty;
	assert_int_equal(run(&s, "prod", &o), RV_EINVALID);
	assert_string_equal(error_msg(), "kubectl (context \"prod\") lists no images: an empty "
	                                 "cluster must be declared with \"deployed: none\"");
	assert_int_equal(s.n, 0);
	free(garbage);
	free(silent);
	free(empty);
}

static int gone(pid_t pid)
{
	for (int i = 0; i < 200; i++) {
		if (kill(pid, 0) < 0 && errno == ESRCH)
			return 1;
		usleep(10000);
	}
	return 0;
}

static void test_timeout_kills_group(void **state)
{
	struct deployed_options o = DEPLOYED_OPTIONS_INIT;
	struct deployed_set s = DEPLOYED_SET_INIT;
	char *prog = script("hang", "echo '{\"kind\": \"List\", ' \n"
	                            "sleep 30 &\necho $! > @DIR@/sleep.pid\nwait\n");
	int64_t t0 = time_mono_ms(), took;
	char *pid;

	(void)state;
	o.kubectl = prog;
	o.timeout_s = 1;
	assert_int_equal(run(&s, "prod", &o), RV_ETRANSIENT);
	took = time_mono_ms() - t0;
	assert_string_equal(error_msg(), "kubectl (context \"prod\") timed out after 1 s");
	assert_true(took >= 900 && took < 5000);
	/* The script's child went with it: the whole process group was killed. */
	pid = slurp("sleep.pid");
	assert_true(gone((pid_t)strtol(pid, NULL, 10)));
	assert_int_equal(s.n, 0);
	free(pid);
	free(prog);
}

/* kubectl exits but leaves something holding its stdout: we wait for
 * the exit, not for EOF. */
static void test_leftover_holding_pipe(void **state)
{
	struct deployed_options o = DEPLOYED_OPTIONS_INIT;
	struct deployed_set s = DEPLOYED_SET_INIT;
	char *prog = script("leftover", "cat @DATA@/cluster.json\nsleep 3 &\nexit 0\n");
	int64_t t0 = time_mono_ms();

	(void)state;
	o.kubectl = prog;
	o.timeout_s = 10;
	assert_int_equal(run(&s, "prod", &o), 0);
	assert_true(time_mono_ms() - t0 < 2500);
	assert_int_equal(s.n, 24);
	deployed_set_release(&s);
	free(prog);
}

static void test_signal(void **state)
{
	struct deployed_options o = DEPLOYED_OPTIONS_INIT;
	struct deployed_set s = DEPLOYED_SET_INIT;
	char *prog = script("killed", "cat @DATA@/cluster.json\nkill -9 $$\n");

	(void)state;
	o.kubectl = prog;
	assert_int_equal(run(&s, "prod", &o), RV_ERROR);
	assert_string_equal(error_msg(), "kubectl (context \"prod\") killed by signal 9");
	assert_int_equal(s.n, 0);
	free(prog);
}

/* Several MB, far more than a pipe holds: read while kubectl writes. */
static void test_big_output_and_cap(void **state)
{
	struct deployed_options o = DEPLOYED_OPTIONS_INIT;
	struct deployed_set s = DEPLOYED_SET_INIT;
	struct buf big = BUF_INIT;
	char *big_path = path("big.json"), *prog = script("big", "cat @DIR@/big.json\n"), *want;

	(void)state;
	buf_addstr(&big, "{\"apiVersion\":\"v1\",\"kind\":\"List\",\"items\":[");
	for (int i = 0; i < 20000; i++)
		buf_addf(&big, "%s{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":"
		               "\"web-%d\",\"namespace\":\"shop\"},\"spec\":{\"containers\":[{\"name\":"
		               "\"web\",\"image\":\"reg.example.com/shop/web:1.%d\"}]},\"status\":"
		               "{\"phase\":\"Running\"}}", i ? "," : "", i, i % 50);
	buf_addstr(&big, "]}\n");
	assert_true(big.len > 3000000);
	assert_int_equal(fs_write_atomic(big_path, big.ptr, big.len, 0600), 0);
	o.kubectl = prog;
	assert_int_equal(run(&s, "prod", &o), 0);
	assert_int_equal(s.n, 20000);
	deployed_set_release(&s);
	/* One byte short of the output: refused, nothing added. */
	o.max_output = big.len - 1;
	assert_int_equal(run(&s, NULL, &o), RV_ETOOBIG);
	want = xasprintf("kubectl (current context) printed more than %zu bytes", big.len - 1);
	assert_string_equal(error_msg(), want);
	free(want);
	assert_int_equal(s.n, 0);
	o.max_output = big.len;
	assert_int_equal(run(&s, NULL, &o), 0);
	deployed_set_release(&s);
	buf_release(&big);
	free(big_path);
	free(prog);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_success_and_argv),
		cmocka_unit_test(test_found_on_path),
		cmocka_unit_test(test_not_found),
		cmocka_unit_test(test_failure_quotes_kubectl),
		cmocka_unit_test(test_garbage_and_empty),
		cmocka_unit_test(test_timeout_kills_group),
		cmocka_unit_test(test_leftover_holding_pipe),
		cmocka_unit_test(test_signal),
		cmocka_unit_test(test_big_output_and_cap),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
