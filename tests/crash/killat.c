/*
 * killat.c — rv-killat.so, an LD_PRELOAD library that kills its process
 * with SIGKILL right after a chosen durable step, for tests/crash/.
 *
 * A "durable step" is a return from fsync, fdatasync, rename or renameat2:
 * the moments at which what is on disk changes meaning (a SQLite commit, a
 * volume sealed, a volume made visible). Killing after each of them in turn
 * reaches the narrow windows a kill at a random time almost never lands in
 * (between a volume's rename and the catalog commit that records it), the
 * way SQLite's crash tests kill at every write.
 *
 *   RV_KILLAT=N            SIGKILL after the Nth durable step returns
 *   RV_KILLAT_COUNT=FILE   at exit, write the steps to FILE, one line each
 *                          naming the call ("fdatasync", "renameat2", ...),
 *                          so a test can tell SQLite's commits (fdatasync)
 *                          from a volume's fsync and rename
 *
 * Steps are counted across threads in call order. Nothing else changes:
 * every call goes to libc, and its result is returned as it came.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE   /* RTLD_NEXT, renameat2 (the build defines it already) */
#endif
#include <dlfcn.h>
#include <fcntl.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#define LOGGED 4096   /* steps whose names are kept for RV_KILLAT_COUNT */

static atomic_long steps;
static long kill_at = -1;
static const char *count_file;
static const char *names[LOGGED];

__attribute__((constructor)) static void killat_init(void)
{
	const char *n = getenv("RV_KILLAT");

	if (n && *n)
		kill_at = strtol(n, NULL, 10);
	count_file = getenv("RV_KILLAT_COUNT");
}

__attribute__((destructor)) static void killat_fini(void)
{
	long n = atomic_load(&steps);
	FILE *f;

	if (!count_file || !*count_file || !(f = fopen(count_file, "w")))
		return;
	for (long i = 0; i < n; i++)
		fprintf(f, "%s\n", i < LOGGED && names[i] ? names[i] : "?");
	fclose(f);
}

/* After a step returned: the Nth one ends the process, as a crash would. */
static void step(const char *name)
{
	long i = atomic_fetch_add(&steps, 1);

	if (i < LOGGED)
		names[i] = name;
	if (i + 1 == kill_at)
		kill(getpid(), SIGKILL);
}

/* The libc function behind ours (resolved once; racing threads store the
 * same pointer). */
#define REAL(name) \
	static __typeof__(name) *real; \
	if (!real) \
		real = (__typeof__(name) *)dlsym(RTLD_NEXT, #name)

int fsync(int fd)
{
	REAL(fsync);
	int rc = real(fd);
	step("fsync");
	return rc;
}

int fdatasync(int fd)
{
	REAL(fdatasync);
	int rc = real(fd);
	step("fdatasync");
	return rc;
}

int rename(const char *from, const char *to)
{
	REAL(rename);
	int rc = real(from, to);
	step("rename");
	return rc;
}

int renameat2(int fromfd, const char *from, int tofd, const char *to, unsigned flags)
{
	REAL(renameat2);
	int rc = real(fromfd, from, tofd, to, flags);
	step("renameat2");
	return rc;
}
