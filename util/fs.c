/*
 * fs.c — file-system helpers whose errors name the path.
 */
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/error.h"
#include "util/fs.h"
#include "util/banned.h"

static int errno_code(int e)
{
	return e == ENOENT ? RV_ENOTFOUND : RV_ERROR;
}

/* Appends the file's bytes to out, refusing past `max` file bytes. */
static int read_fd(struct buf *out, int fd, const char *path, size_t max)
{
	char chunk[65536];
	size_t total = 0;
	ssize_t n;

	for (;;) {
		n = read(fd, chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return error_set(RV_ERROR, "cannot read \"%s\": %s", path, strerror(errno));
		if (n == 0)
			return 0;
		total += (size_t)n;
		if (max && total > max)
			return error_set(RV_ETOOBIG, "\"%s\" is over the %zu-byte limit", path, max);
		if (buf_add(out, chunk, (size_t)n))
			return error_wrap(RV_ETOOBIG, "cannot read \"%s\"", path);
	}
}

int fs_read_file(struct buf *out, const char *path, size_t max)
{
	size_t old_len = out->len;
	int fd, rc;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return error_set(errno_code(errno), "cannot open \"%s\": %s", path, strerror(errno));
	rc = read_fd(out, fd, path, max);
	close(fd);
	if (rc) {
		/* Leave out as it was: a partial file is worse than none. */
		out->len = old_len;
		if (out->alloc)
			out->ptr[old_len] = '\0';
	}
	return rc;
}

/* Creates one directory; an existing directory is fine. The mode is
 * applied with chmod because mkdir filters it through the umask and
 * callers ask for exact modes (catalog and archives are 0700). */
static int mkdir_one(const char *path, mode_t mode)
{
	struct stat st;
	int e;

	if (mkdir(path, mode) == 0) {
		if (chmod(path, mode) < 0)
			return error_set(RV_ERROR, "cannot chmod \"%s\": %s", path, strerror(errno));
		return 0;
	}
	e = errno;
	if (e == EEXIST && stat(path, &st) == 0 && S_ISDIR(st.st_mode))
		return 0;
	if (e == EEXIST)
		e = ENOTDIR;
	return error_set(errno_code(e), "cannot create directory \"%s\": %s", path, strerror(e));
}

int fs_mkdir_p(const char *path, mode_t mode)
{
	char *p;
	int rc = 0;

	if (!path[0])
		return error_set(RV_EINVALID, "cannot create directory \"\": empty path");
	p = xstrdup(path);
	for (char *s = p + 1; *s && !rc; s++) {
		if (*s != '/' || s[-1] == '/')
			continue;
		*s = '\0';
		rc = mkdir_one(p, mode);
		*s = '/';
	}
	if (!rc)
		rc = mkdir_one(p, mode);
	free(p);
	return rc;
}

static int write_all(int fd, const void *data, size_t len, const char *path)
{
	const char *p = data;
	ssize_t n;

	while (len) {
		n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return error_set(RV_ERROR, "cannot write \"%s\": %s", path, strerror(errno));
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* After rename() the new name lives in the directory entry; fsync the
 * directory so a crash cannot bring back the old file (SQLite does this). */
static int fsync_parent(const char *path)
{
	const char *slash = strrchr(path, '/');
	char *dir = slash ? xstrndup(path, slash == path ? 1 : (size_t)(slash - path)) : xstrdup(".");
	int fd, rc = 0;

	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || fsync(fd) < 0)
		rc = error_set(RV_ERROR, "cannot sync directory \"%s\": %s", dir, strerror(errno));
	if (fd >= 0)
		close(fd);
	free(dir);
	return rc;
}

static int open_temp(const char *tmp)
{
	int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);

	/* A crashed earlier run with the same pid (pid 1 in a container) may
	 * have left this name behind; it is ours to replace. */
	if (fd < 0 && errno == EEXIST && unlink(tmp) == 0)
		fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		error_set(errno_code(errno), "cannot create \"%s\": %s", tmp, strerror(errno));
	return fd;
}

int fs_write_atomic(const char *path, const void *data, size_t len, mode_t mode)
{
	char *tmp = xasprintf("%s.tmp-%ld", path, (long)getpid());
	int fd, rc;

	fd = open_temp(tmp);
	if (fd < 0) {
		free(tmp);
		return error_code();
	}
	rc = write_all(fd, data, len, tmp);
	if (!rc && fchmod(fd, mode) < 0)
		rc = error_set(RV_ERROR, "cannot chmod \"%s\": %s", tmp, strerror(errno));
	if (!rc && fsync(fd) < 0)
		rc = error_set(RV_ERROR, "cannot sync \"%s\": %s", tmp, strerror(errno));
	if (close(fd) < 0 && !rc)
		rc = error_set(RV_ERROR, "cannot close \"%s\": %s", tmp, strerror(errno));
	if (!rc && rename(tmp, path) < 0)
		rc = error_set(RV_ERROR, "cannot rename \"%s\" to \"%s\": %s", tmp, path,
		               strerror(errno));
	if (rc)
		unlink(tmp);
	else
		rc = fsync_parent(path);
	free(tmp);
	return rc;
}

int fs_exists(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0;
}

char *fs_path_join(const char *a, const char *b)
{
	size_t alen = strlen(a);

	if (!alen)
		return xstrdup(b);
	while (alen > 1 && a[alen - 1] == '/')
		alen--;
	while (*b == '/')
		b++;
	if (a[alen - 1] == '/')
		return xasprintf("%.*s%s", (int)alen, a, b);
	return xasprintf("%.*s/%s", (int)alen, a, b);
}

char *fs_home_dir(void)
{
	const char *home = getenv("HOME");
	struct passwd pw, *res = NULL;
	char scratch[4096];

	if (home && home[0])
		return xstrdup(home);
	if (getpwuid_r(getuid(), &pw, scratch, sizeof(scratch), &res) != 0 || !res)
		return NULL;
	if (!pw.pw_dir || !pw.pw_dir[0])
		return NULL;
	return xstrdup(pw.pw_dir);
}

char *fs_find_on_path(const char *prog)
{
	const char *path = getenv("PATH"), *p;

	if (!path || !*path)
		path = "/usr/local/bin:/usr/bin:/bin";
	for (p = path; *p;) {
		size_t len = strcspn(p, ":");

		if (len) {
			char *dir = xstrndup(p, len);
			char *full = fs_path_join(dir, prog);
			struct stat st;

			free(dir);
			if (!stat(full, &st) && S_ISREG(st.st_mode) && !access(full, X_OK))
				return full;
			free(full);
		}
		p += len + (p[len] ? 1 : 0);
	}
	return NULL;
}

int fs_fd_above_stdio(int fd)
{
	int moved;

	if (fd < 0 || fd > 2)
		return fd;
	moved = fcntl(fd, F_DUPFD_CLOEXEC, 3);
	close(fd);
	return moved;
}
