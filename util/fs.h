/*
 * fs.h — the few file-system operations regvault needs, with errors that
 * name the path.
 */
#ifndef RV_UTIL_FS_H
#define RV_UTIL_FS_H

#include <stddef.h>
#include <sys/types.h>
#include "util/buf.h"

/* Reads a whole file into out (appending). RV_ENOTFOUND when missing,
 * RV_ETOOBIG over `max` bytes (0 = no cap) or out's own cap, RV_ERROR
 * otherwise; the message names the path. On error out keeps its old length. */
int fs_read_file(struct buf *out, const char *path, size_t max);
/* mkdir -p; new directories get exactly `mode` (chmod, not filtered by the
 * umask); existing ones are left alone. */
int fs_mkdir_p(const char *path, mode_t mode);
/* Writes to "<path>.tmp-<pid>", sets exactly `mode`, fsyncs, renames over
 * path, fsyncs the dir. On failure path is untouched and the temp removed. */
int fs_write_atomic(const char *path, const void *data, size_t len, mode_t mode);
/* 1 when the path exists (any type), 0 otherwise. */
int fs_exists(const char *path);
/* "a" + "/" + "b" without doubling the slash. Caller frees. */
char *fs_path_join(const char *a, const char *b);
/* $HOME, else the passwd entry; NULL when neither exists. Caller frees. */
char *fs_home_dir(void);
/* The executable file prog names on $PATH (default /usr/local/bin:/usr/bin:
 * /bin), looked up here rather than by execvp so a missing program is a
 * clear error before any fork. Empty entries (meaning ".") are skipped:
 * nothing runs from the working directory. NULL when none. Caller frees. */
char *fs_find_on_path(const char *prog);
/* fd moved out of 0..2 (close-on-exec), so a child's dup2 onto stdio
 * cannot clobber it; fd itself when it is not there (or < 0). */
int fs_fd_above_stdio(int fd);

#endif
