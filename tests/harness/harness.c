/*
 * harness.c — helpers for live tests; see harness.h. Deliberately uses only
 * libc and OpenSSL so it does not depend on the code under test.
 */
#include "harness.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <openssl/evp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_OUTPUT (16u << 20)

struct env_entry {
	char *key, *value;
};

static struct env_entry *env_entries;
static size_t env_count;
static int env_loaded;

/* Parse the env file once: KEY=VALUE per line, no quoting, '#' comments. */
static void env_load(void)
{
	const char *path = getenv("RV_HARNESS_ENV");
	char *text, *line, *save = NULL;
	size_t cap = 0;

	env_loaded = 1;
	if (!path || !*path || !(text = harness_read_file(path, NULL)))
		return;
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *eq = strchr(line, '=');
		if (line[0] == '#' || !eq || eq == line)
			continue;
		if (env_count == cap) {
			struct env_entry *n;
			cap = cap ? cap * 2 : 64;
			n = realloc(env_entries, cap * sizeof *n);
			if (!n)
				break;
			env_entries = n;
		}
		*eq = '\0';
		env_entries[env_count].key = line;
		env_entries[env_count].value = eq + 1;
		env_count++;
	}
	/* `text` stays allocated: the entries point into it until exit */
}

const char *harness_env(const char *key)
{
	if (!env_loaded)
		env_load();
	/* a later line wins, like a shell reading the file */
	for (size_t i = env_count; i-- > 0;)
		if (!strcmp(env_entries[i].key, key))
			return env_entries[i].value;
	return NULL;
}

long harness_env_long(const char *key, long fallback)
{
	const char *v = harness_env(key);
	char *end;
	long n;
	if (!v || !*v)
		return fallback;
	errno = 0;
	n = strtol(v, &end, 10);
	return (errno || *end) ? fallback : n;
}

char *harness_read_file(const char *path, size_t *len_out)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t len = 0, cap = 0;

	if (!f)
		return NULL;
	for (;;) {
		size_t n;
		if (cap - len < 4096) {
			char *nb;
			cap = cap ? cap * 2 : 8192;
			nb = realloc(buf, cap + 1);
			if (!nb) {
				free(buf);
				fclose(f);
				errno = ENOMEM;
				return NULL;
			}
			buf = nb;
		}
		n = fread(buf + len, 1, cap - len, f);
		len += n;
		if (n == 0)
			break;
	}
	if (ferror(f)) {
		int e = errno;
		free(buf);
		fclose(f);
		errno = e ? e : EIO;
		return NULL;
	}
	fclose(f);
	buf[len] = '\0';
	if (len_out)
		*len_out = len;
	return buf;
}

int harness_write_file(const char *path, const void *data, size_t len)
{
	const char *p = data;
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -1;
	while (len) {
		ssize_t w = write(fd, p, len);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			int e = errno;
			close(fd);
			errno = e;
			return -1;
		}
		p += w;
		len -= (size_t)w;
	}
	return close(fd);
}

long harness_count_lines(const char *path)
{
	size_t len;
	long n = 0;
	char *s = harness_read_file(path, &len);
	if (!s)
		return -1;
	for (size_t i = 0; i < len; i++)
		n += s[i] == '\n';
	free(s);
	return n;
}

char *harness_mkdtemp(const char *prefix)
{
	const char *tmp = getenv("TMPDIR");
	size_t n;
	char *path;
	if (!tmp || !*tmp)
		tmp = "/tmp";
	n = strlen(tmp) + strlen(prefix) + 16;
	path = malloc(n);
	if (!path)
		return NULL;
	snprintf(path, n, "%s/%s.XXXXXX", tmp, prefix);
	if (!mkdtemp(path)) {
		free(path);
		return NULL;
	}
	return path;
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	return (flag == FTW_DP ? rmdir(path) : unlink(path)) == 0 || errno == ENOENT ? 0 : -1;
}

int harness_rm_rf(const char *path)
{
	if (!path || !*path || !strcmp(path, "/")) {
		errno = EINVAL;
		return -1;
	}
	return nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS) == 0 || errno == ENOENT ? 0 : -1;
}

static long long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Read the child's stdout until EOF or the deadline; -1 on timeout. */
static int collect(int fd, long long deadline, char **out)
{
	char *buf = NULL;
	size_t len = 0, cap = 0;
	for (;;) {
		struct pollfd p = {fd, POLLIN, 0};
		long long left = deadline - now_ms();
		ssize_t r;
		if (left <= 0) {
			free(buf);
			return -1;
		}
		if (poll(&p, 1, (int)left) <= 0)
			continue;
		if (cap - len < 4096) {
			char *nb;
			cap = cap ? cap * 2 : 8192;
			nb = realloc(buf, cap + 1);
			if (!nb) {
				free(buf);
				return -1;
			}
			buf = nb;
		}
		r = read(fd, buf + len, cap - len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		if (len + (size_t)r <= MAX_OUTPUT)
			len += (size_t)r; /* past the cap: keep draining, drop the rest */
	}
	if (out) {
		if (!buf && !(buf = malloc(1)))
			return -1;
		buf[len] = '\0';
		*out = buf;
	} else {
		free(buf);
	}
	return 0;
}

int harness_run(const char *const argv[], int timeout_sec, char **out)
{
	long long deadline = now_ms() + (long long)timeout_sec * 1000;
	int pipefd[2] = {-1, -1}, status = 0, timed_out = 0;
	pid_t pid;

	if (out)
		*out = NULL;
	if (out && pipe2(pipefd, O_CLOEXEC) != 0)
		return -1;
	pid = fork();
	if (pid < 0) {
		if (out) {
			close(pipefd[0]);
			close(pipefd[1]);
		}
		return -1;
	}
	if (pid == 0) {
		int devnull = open("/dev/null", O_RDONLY);
		if (devnull < 0 || dup2(devnull, 0) < 0 || (out && dup2(pipefd[1], 1) < 0))
			_exit(127);
		/* execvp takes char *const[] for historical reasons; it does not write */
		execvp(argv[0], (char *const *)argv);
		_exit(127);
	}
	if (out) {
		close(pipefd[1]);
		timed_out = collect(pipefd[0], deadline, out) != 0;
		close(pipefd[0]);
	}
	/* the child may close stdout early: wait, still bounded by the deadline */
	while (!timed_out) {
		pid_t w = waitpid(pid, &status, WNOHANG);
		struct timespec ts = {0, 10 * 1000 * 1000};
		if (w == pid)
			break;
		if ((w < 0 && errno != EINTR) || now_ms() >= deadline) {
			timed_out = 1;
			break;
		}
		nanosleep(&ts, NULL);
	}
	if (timed_out) {
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
		if (out) {
			free(*out);
			*out = NULL;
		}
		return -1;
	}
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	return 128 + WTERMSIG(status);
}

void harness_sha256(const void *data, size_t len, char out[72])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;
	if (!EVP_Digest(data, len, md, &n, EVP_sha256(), NULL) || n != 32) {
		out[0] = '\0';
		return;
	}
	memcpy(out, "sha256:", 7);
	for (unsigned int i = 0; i < n; i++) {
		out[7 + 2 * i] = hex[md[i] >> 4];
		out[8 + 2 * i] = hex[md[i] & 15];
	}
	out[71] = '\0';
}
