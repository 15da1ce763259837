/*
 * catalog.c — opening the catalog (files, modes, the writer lock, pragmas,
 * migrations), transactions, and the small shared helpers; runs and stores.
 */
#include <errno.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "catalog/catalog.h"
#include "catalog/internal.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/str.h"
#include "util/timeutil.h"
#include "util/xalloc.h"
#include "util/banned.h"

/* A busy database past this long is someone else's long transaction
 * (a reader's checkpoint, a `sqlite3` shell): give up as transient. */
#define BUSY_TIMEOUT_MS 10000

/* --- Shared helpers --------------------------------------------------------- */

static int code_of(sqlite3 *db)
{
	int ext = sqlite3_extended_errcode(db);

	switch (ext & 0xff) {
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return RV_ETRANSIENT;
	case SQLITE_CONSTRAINT:
		if (ext == SQLITE_CONSTRAINT_FOREIGNKEY)
			return RV_ENOTFOUND;
		if (ext == SQLITE_CONSTRAINT_UNIQUE || ext == SQLITE_CONSTRAINT_PRIMARYKEY)
			return RV_EEXISTS;
		return RV_EINVALID;
	default:
		return RV_ERROR;
	}
}

int catalog_sql_error(catalog *c, const char *fmt, ...)
{
	va_list ap;
	char *what;
	int code = code_of(c->db);

	va_start(ap, fmt);
	what = xvasprintf(fmt, ap);
	va_end(ap);
	error_set(code, "catalog \"%s\": %s: %s", c->path, what, sqlite3_errmsg(c->db));
	free(what);
	return code;
}

int catalog_prepare(catalog *c, sqlite3_stmt **out, const char *sql)
{
	*out = NULL;
	if (sqlite3_prepare_v2(c->db, sql, -1, out, NULL) != SQLITE_OK) {
		sqlite3_finalize(*out);
		*out = NULL;
		return catalog_sql_error(c, "cannot prepare a query");
	}
	return 0;
}

int catalog_step_done(catalog *c, sqlite3_stmt *st, const char *what)
{
	int s = sqlite3_step(st);

	if (s == SQLITE_DONE || s == SQLITE_ROW)
		return 0;
	return catalog_sql_error(c, "cannot %s", what);
}

int catalog_need_write(catalog *c)
{
	if (c->writable)
		return 0;
	return error_set(RV_ERROR, "catalog \"%s\" is open read-only", c->path);
}

int catalog_bind_run(sqlite3_stmt *st, int idx, int64_t run_id)
{
	if (run_id <= 0)
		return sqlite3_bind_null(st, idx);
	return sqlite3_bind_int64(st, idx, run_id);
}

int catalog_bind_text(sqlite3_stmt *st, int idx, const char *s)
{
	if (!s)
		return sqlite3_bind_null(st, idx);
	return sqlite3_bind_text(st, idx, s, -1, SQLITE_STATIC);
}

const char *catalog_column_text(sqlite3_stmt *st, int col)
{
	const unsigned char *t = sqlite3_column_text(st, col);

	return t ? (const char *)t : "";
}

char *catalog_ref_name(char *out, size_t outlen, const char *registry, const char *repo,
                       const char *tag, const char *digest)
{
	char *raw;

	if (tag)
		raw = xasprintf("%s/%s:%s", registry, repo, tag);
	else
		raw = xasprintf("%s/%s@%s", registry, repo, digest ? digest : "");
	str_printable(out, outlen, raw);
	free(raw);
	return out;
}

/* --- Operations and transactions -------------------------------------------- */

static int exec_sql(catalog *c, const char *sql, const char *what)
{
	if (sqlite3_exec(c->db, sql, NULL, NULL, NULL) != SQLITE_OK)
		return catalog_sql_error(c, "%s", what);
	return 0;
}

/* IMMEDIATE takes the write lock up front: a deferred transaction that
 * reads first and then writes can fail with SQLITE_BUSY half-way. */
int catalog_op_begin(catalog *c, struct catalog_op *op)
{
	int rc = catalog_need_write(c);

	if (rc)
		return rc;
	op->savepoint = c->in_tx;
	if (op->savepoint)
		return exec_sql(c, "SAVEPOINT catalog_op", "cannot start a savepoint");
	rc = exec_sql(c, "BEGIN IMMEDIATE", "cannot start a transaction");
	/* Ops inside this one (catalog_record_image → catalog_copy_put) then
	 * nest as savepoints. */
	c->in_tx = rc == 0;
	return rc;
}

int catalog_op_end(catalog *c, struct catalog_op *op, int rc)
{
	if (op->savepoint) {
		if (rc)
			sqlite3_exec(c->db, "ROLLBACK TO catalog_op", NULL, NULL, NULL);
		if (sqlite3_exec(c->db, "RELEASE catalog_op", NULL, NULL, NULL) != SQLITE_OK && !rc)
			rc = catalog_sql_error(c, "cannot release a savepoint");
		return rc;
	}
	c->in_tx = 0;
	if (!rc && sqlite3_exec(c->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
		rc = catalog_sql_error(c, "cannot commit");
	if (rc && !sqlite3_get_autocommit(c->db))
		sqlite3_exec(c->db, "ROLLBACK", NULL, NULL, NULL);
	return rc;
}

int catalog_begin(catalog *c)
{
	int rc = catalog_need_write(c);

	if (rc)
		return rc;
	if (c->in_tx)
		return error_set(RV_ERROR, "catalog \"%s\": a transaction is already open", c->path);
	rc = exec_sql(c, "BEGIN IMMEDIATE", "cannot start a transaction");
	if (!rc)
		c->in_tx = 1;
	return rc;
}

/* A failed commit is rolled back here, so the caller never holds a
 * half-open transaction (catalog_rollback() afterwards is a no-op). */
int catalog_commit(catalog *c)
{
	int rc = 0;

	if (!c->in_tx)
		return error_set(RV_ERROR, "catalog \"%s\": commit without a transaction", c->path);
	if (sqlite3_exec(c->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
		rc = catalog_sql_error(c, "cannot commit");
	if (rc && !sqlite3_get_autocommit(c->db))
		sqlite3_exec(c->db, "ROLLBACK", NULL, NULL, NULL);
	c->in_tx = 0;
	return rc;
}

void catalog_rollback(catalog *c)
{
	if (!c || !c->in_tx)
		return;
	if (!sqlite3_get_autocommit(c->db))
		sqlite3_exec(c->db, "ROLLBACK", NULL, NULL, NULL);
	c->in_tx = 0;
}

/* --- Files, modes and the writer lock --------------------------------------- */

static int make_parent_dir(const char *path)
{
	const char *slash = strrchr(path, '/');
	char *dir;
	int rc;

	if (!slash || slash == path)
		return 0;
	dir = xstrndup(path, (size_t)(slash - path));
	rc = fs_exists(dir) ? 0 : fs_mkdir_p(dir, 0700);
	free(dir);
	return rc;
}

/* Held for the catalog's whole life. flock (not fcntl) locks belong to the
 * open file, so a second open in the same process conflicts as well, and
 * the lock dies with the process: a killed run never leaves it stuck. The
 * file itself is never removed (removing lock files races). */
static int take_lock(catalog *c)
{
	char *lock = xasprintf("%s.lock", c->path);
	int rc = 0;

	c->lock_fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (c->lock_fd < 0) {
		rc = error_set(RV_ERROR, "cannot open lock \"%s\": %s", lock, strerror(errno));
		goto done;
	}
	if (flock(c->lock_fd, LOCK_EX | LOCK_NB) == 0)
		goto done;
	if (errno == EWOULDBLOCK)
		rc = error_set(RV_EEXISTS, "catalog \"%s\" is in use by another regvault run "
		               "(lock \"%s\")", c->path, lock);
	else
		rc = error_set(RV_ERROR, "cannot lock \"%s\": %s", lock, strerror(errno));
done:
	free(lock);
	return rc;
}

/* The database file is created by us, exactly 0600, before SQLite sees it
 * (SQLite would create it 0644 & ~umask). SQLite gives the -wal and -shm
 * files the mode of the database file, so they follow. */
static int create_db_file(const char *path)
{
	int fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);

	if (fd < 0 && errno == EEXIST)
		return 0;
	if (fd < 0)
		return error_set(RV_ERROR, "cannot create catalog \"%s\": %s", path, strerror(errno));
	if (fchmod(fd, 0600) < 0) {
		int e = errno;

		close(fd);
		return error_set(RV_ERROR, "cannot chmod \"%s\": %s", path, strerror(e));
	}
	close(fd);
	return 0;
}

/* Belt and braces for -wal and -shm: should they exist with any group or
 * other bits (a database file made by someone else), take them away. */
static int tighten_sidecars(const char *path)
{
	static const char *const ext[] = { "-wal", "-shm" };
	struct stat st;
	int rc = 0;

	for (size_t i = 0; i < 2 && !rc; i++) {
		char *p = xasprintf("%s%s", path, ext[i]);

		if (stat(p, &st) == 0 && (st.st_mode & 077) && chmod(p, st.st_mode & 0700) < 0)
			rc = error_set(RV_ERROR, "cannot chmod \"%s\": %s", p, strerror(errno));
		free(p);
	}
	return rc;
}

/* --- Open and close ---------------------------------------------------------- */

/* journal_mode is a property of the file and needs a write, so only writers
 * set it. synchronous=FULL: in WAL mode NORMAL may lose the last commits on
 * power loss, and a lost copy row after the primary deleted the image is
 * exactly what the catalog exists to prevent (invariants 3 and 6). The
 * cost is one fsync per commit, and callers commit once per image. */
static int set_pragmas(catalog *c)
{
	sqlite3_stmt *st = NULL;
	int version = 0, rc;

	sqlite3_busy_timeout(c->db, BUSY_TIMEOUT_MS);
	rc = exec_sql(c, "PRAGMA foreign_keys = ON", "cannot enable foreign keys");
	if (rc || !c->writable)
		return rc;
	/* Someone else's SQLite file is refused before we change its journal. */
	rc = catalog_schema_version(c, &version);
	if (!rc)
		rc = catalog_schema_check_app(c, version);
	if (!rc)
		rc = catalog_prepare(c, &st, "PRAGMA journal_mode = WAL");
	if (rc)
		goto done;
	if (sqlite3_step(st) != SQLITE_ROW) {
		rc = catalog_sql_error(c, "cannot switch to WAL");
		goto done;
	}
	if (strcmp(catalog_column_text(st, 0), "wal") != 0) {
		rc = error_set(RV_ERROR, "catalog \"%s\": cannot switch to WAL (journal mode \"%s\")",
		               c->path, catalog_column_text(st, 0));
		goto done;
	}
	rc = exec_sql(c, "PRAGMA synchronous = FULL", "cannot set synchronous");
done:
	sqlite3_finalize(st);
	return rc;
}

/* A reader cannot migrate (it holds no lock): it needs the exact schema. */
static int check_reader_version(catalog *c)
{
	int version = 0, rc = catalog_schema_version(c, &version);

	if (!rc)
		rc = catalog_schema_check_app(c, version);
	if (rc)
		return rc;
	if (version == 0)
		return error_set(RV_ENOTFOUND, "catalog \"%s\" is empty: no run has written it",
		                 c->path);
	if (version > catalog_schema_latest())
		return error_set(RV_EUNSUPPORTED, "catalog \"%s\" has schema version %d, newer than "
		                 "this regvault knows (%d): upgrade regvault", c->path, version,
		                 catalog_schema_latest());
	if (version < catalog_schema_latest())
		return error_set(RV_EUNSUPPORTED, "catalog \"%s\" has schema version %d, this "
		                 "regvault needs %d: a run that writes the catalog upgrades it",
		                 c->path, version, catalog_schema_latest());
	return 0;
}

static int open_files(catalog *c)
{
	struct stat st;
	int rc;

	if (!c->writable && stat(c->path, &st) < 0)
		return error_set(errno == ENOENT ? RV_ENOTFOUND : RV_ERROR,
		                 "cannot open catalog \"%s\": %s", c->path, strerror(errno));
	if (c->writable) {
		rc = make_parent_dir(c->path);
		if (!rc)
			rc = take_lock(c);
		if (!rc)
			rc = create_db_file(c->path);
		if (rc)
			return rc;
	}
	if (sqlite3_open_v2(c->path, &c->db,
	                    (c->writable ? SQLITE_OPEN_READWRITE : SQLITE_OPEN_READONLY) |
	                    SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
		if (!c->db)
			xdie("out of memory opening \"%s\"", c->path);
		return catalog_sql_error(c, "cannot open");
	}
	sqlite3_extended_result_codes(c->db, 1);
	return 0;
}

/* "file:PATH?immutable=1" for sqlite3_open_v2 with SQLITE_OPEN_URI: '%',
 * '?' and '#' (and anything not printable ASCII) percent-encoded; an
 * absolute path gets an empty authority ("file:///x"), so "//x" stays a
 * path. */
static char *immutable_uri(const char *path)
{
	static const char query[] = "?immutable=1";
	size_t n = strlen(path), k = 0;
	char *u = xmalloc(8 + 3 * n + sizeof(query));

	k += (size_t)snprintf(u, 9, "%s", path[0] == '/' ? "file://" : "file:");
	for (const unsigned char *p = (const unsigned char *)path; *p; p++) {
		if (*p == '%' || *p == '?' || *p == '#' || *p <= ' ' || *p >= 0x7f)
			k += (size_t)snprintf(u + k, 4, "%%%02X", *p);
		else
			u[k++] = (char)*p;
	}
	memcpy(u + k, query, sizeof(query));
	return u;
}

/* A reader of a WAL catalog on a read-only file system (a snapshot or a
 * read-only mount looked at during an incident) cannot create the -shm
 * file that holds SQLite's WAL index, and SQLite refuses the open with
 * SQLITE_CANTOPEN (sqlite.org/wal.html, "Read-Only Databases"). Is that
 * why the reader's open failed? */
static int cannot_make_shm(const catalog *c)
{
	char *dir = xstrdup(c->path), *slash = strrchr(dir, '/');
	int yes;

	if (slash)
		slash[slash == dir ? 1 : 0] = '\0';
	yes = !c->writable && c->db &&
	      (sqlite3_extended_errcode(c->db) & 0xff) == SQLITE_CANTOPEN &&
	      access(slash ? dir : ".", W_OK) != 0;
	free(dir);
	return yes;
}

/* When there is no -wal file, or an empty one, every commit is in the
 * database file, and nobody changes that file through this read-only
 * directory: open it as immutable (no locks, no -shm). A -wal that holds
 * commits cannot be read without its -shm, so that stays an error, saying
 * what to do. */
static int reopen_immutable(catalog *c)
{
	char *wal = xasprintf("%s-wal", c->path), *uri = NULL;
	struct stat st;
	int rc;

	if (stat(wal, &st) == 0 && st.st_size > 0) {
		rc = error_set(RV_ERROR, "catalog \"%s\": its directory is read-only and \"%s\" "
		               "holds commits that need a \"-shm\" file beside it: copy the "
		               "catalog with its -wal file to a writable directory", c->path, wal);
		goto done;
	}
	error_clear();
	sqlite3_close_v2(c->db);
	c->db = NULL;
	uri = immutable_uri(c->path);
	if (sqlite3_open_v2(uri, &c->db, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI |
	                    SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
		if (!c->db)
			xdie("out of memory opening \"%s\"", c->path);
		rc = catalog_sql_error(c, "cannot open");
		goto done;
	}
	sqlite3_extended_result_codes(c->db, 1);
	rc = set_pragmas(c);
	if (!rc)
		rc = check_reader_version(c);
done:
	free(uri);
	free(wal);
	return rc;
}

int catalog_open(catalog **out, const char *path, unsigned flags)
{
	catalog *c = xcalloc(1, sizeof(*c));
	int rc;

	*out = NULL;
	c->path = xstrdup(path);
	c->lock_fd = -1;
	c->writable = (flags & CATALOG_WRITE) != 0;
	if (!*path) {
		rc = error_set(RV_EINVALID, "invalid catalog path \"\"");
		goto done;
	}
	rc = open_files(c);
	if (!rc)
		rc = set_pragmas(c);
	if (!rc)
		rc = c->writable ? catalog_schema_migrate(c) : check_reader_version(c);
	if (rc && cannot_make_shm(c))
		rc = reopen_immutable(c);
	if (!rc && c->writable)
		rc = tighten_sidecars(c->path);
done:
	if (rc)
		catalog_close(c);
	else
		*out = c;
	return rc;
}

void catalog_close(catalog *c)
{
	if (!c)
		return;
	catalog_rollback(c);
	/* Every statement is finalized where it was prepared, so this closes
	 * now; the database goes before the lock so the next writer never
	 * meets our final checkpoint. */
	sqlite3_close_v2(c->db);
	if (c->lock_fd >= 0)
		close(c->lock_fd);
	free(c->path);
	free(c);
}

char *catalog_default_path(void)
{
	const char *env = getenv("REGVAULT_CATALOG");
	const char *xdg = getenv("XDG_DATA_HOME");
	char *home, *path;

	if (env && *env)
		return xstrdup(env);
	/* XDG Base Directory: relative values are invalid and ignored. */
	if (xdg && xdg[0] == '/')
		return xasprintf("%s/regvault/catalog.db", xdg);
	home = fs_home_dir();
	if (!home)
		return NULL;
	path = xasprintf("%s/.local/share/regvault/catalog.db", home);
	free(home);
	return path;
}

/* --- Runs ---------------------------------------------------------------------- */

int catalog_run_start(catalog *c, const char *command, const char *args_json, int64_t *out_id)
{
	sqlite3_stmt *st = NULL;
	int rc = catalog_need_write(c);

	if (rc)
		goto done;
	rc = catalog_prepare(c, &st, "INSERT INTO runs (command, args, started) VALUES (?1, ?2, ?3)");
	if (rc)
		goto done;
	catalog_bind_text(st, 1, command);
	catalog_bind_text(st, 2, args_json ? args_json : "[]");
	sqlite3_bind_int64(st, 3, time_now());
	rc = catalog_step_done(c, st, "record the start of a run");
	if (!rc)
		*out_id = sqlite3_last_insert_rowid(c->db);
done:
	sqlite3_finalize(st);
	return rc;
}

int catalog_run_finish(catalog *c, int64_t run_id, const char *outcome, const char *summary_json)
{
	sqlite3_stmt *st = NULL;
	int rc = catalog_need_write(c);

	if (rc)
		goto done;
	if (!outcome || (strcmp(outcome, "ok") && strcmp(outcome, "partial") &&
	                 strcmp(outcome, "failed"))) {
		rc = error_set(RV_EINVALID, "catalog \"%s\": invalid run outcome \"%s\"", c->path,
		               outcome ? outcome : "");
		goto done;
	}
	rc = catalog_prepare(c, &st, "UPDATE runs SET finished = ?2, outcome = ?3, summary = ?4 "
	                             "WHERE id = ?1");
	if (rc)
		goto done;
	sqlite3_bind_int64(st, 1, run_id);
	sqlite3_bind_int64(st, 2, time_now());
	catalog_bind_text(st, 3, outcome);
	catalog_bind_text(st, 4, summary_json);
	rc = catalog_step_done(c, st, "record the end of a run");
	if (!rc && sqlite3_changes(c->db) == 0)
		rc = error_set(RV_ENOTFOUND, "catalog \"%s\": no run %lld", c->path,
		               (long long)run_id);
done:
	sqlite3_finalize(st);
	return rc;
}

/* Copies a short text column into a fixed field; RV_ERROR when it does not
 * fit (nothing regvault writes is that long: a damaged catalog). */
static int copy_text(catalog *c, int64_t id, char *out, size_t size, const char *s,
                     const char *what)
{
	if (strlen(s) >= size)
		return error_set(RV_ERROR, "catalog \"%s\": run %lld has a %s of %zu bytes "
		                 "(at most %zu)", c->path, (long long)id, what, strlen(s), size - 1);
	memcpy(out, s, strlen(s) + 1);
	return 0;
}

int catalog_run_get(catalog *c, int64_t id, struct catalog_run *out)
{
	sqlite3_stmt *st = NULL;
	int rc;

	memset(out, 0, sizeof(*out));
	rc = catalog_prepare(c, &st, "SELECT command, coalesce(outcome, ''), started, "
	                             "coalesce(finished, 0), coalesce(undone_at, 0) "
	                             "FROM runs WHERE id = ?1");
	if (rc)
		return rc;
	sqlite3_bind_int64(st, 1, id);
	switch (sqlite3_step(st)) {
	case SQLITE_ROW:
		out->id = id;
		out->started = sqlite3_column_int64(st, 2);
		out->finished = sqlite3_column_int64(st, 3);
		out->undone_at = sqlite3_column_int64(st, 4);
		if ((rc = copy_text(c, id, out->command, sizeof(out->command),
		                    catalog_column_text(st, 0), "command")) == 0)
			rc = copy_text(c, id, out->outcome, sizeof(out->outcome),
			               catalog_column_text(st, 1), "outcome");
		break;
	case SQLITE_DONE:
		rc = error_set(RV_ENOTFOUND, "catalog \"%s\" has no run %lld", c->path,
		               (long long)id);
		break;
	default:
		rc = catalog_sql_error(c, "cannot read run %lld", (long long)id);
	}
	sqlite3_finalize(st);
	return rc;
}

/* --- Stores and repositories ------------------------------------------------------ */

/* INSERT OR IGNORE then SELECT: one round trip more than an upsert with
 * RETURNING, but the same shape serves readers (which only select). */
static int id_of(catalog *c, const char *insert, const char *select, int create,
                 const char *what, int64_t *out, void (*bind)(sqlite3_stmt *, const void *),
                 const void *arg)
{
	sqlite3_stmt *st = NULL;
	int rc = 0;

	if (create) {
		rc = catalog_prepare(c, &st, insert);
		if (rc)
			goto done;
		bind(st, arg);
		rc = catalog_step_done(c, st, what);
		sqlite3_finalize(st);
		st = NULL;
		if (rc)
			goto done;
	}
	rc = catalog_prepare(c, &st, select);
	if (rc)
		goto done;
	bind(st, arg);
	switch (sqlite3_step(st)) {
	case SQLITE_ROW: *out = sqlite3_column_int64(st, 0); break;
	case SQLITE_DONE: rc = RV_ENOTFOUND; break;
	default: rc = catalog_sql_error(c, "cannot %s", what); break;
	}
done:
	sqlite3_finalize(st);
	return rc;
}

struct store_key {
	int kind;
	const char *location;
};

static void bind_store(sqlite3_stmt *st, const void *arg)
{
	const struct store_key *k = arg;

	sqlite3_bind_int(st, 1, k->kind);
	catalog_bind_text(st, 2, k->location);
}

int catalog_store_id(catalog *c, enum catalog_store_kind kind, const char *location,
                     int64_t *out_id)
{
	struct store_key k = { (int)kind, location };
	char q[256];
	int rc;

	if ((kind != CATALOG_STORE_ARCHIVE && kind != CATALOG_STORE_REGISTRY) || !location ||
	    !*location)
		return error_set(RV_EINVALID, "catalog \"%s\": invalid store \"%s\"", c->path,
		                 location ? str_printable(q, sizeof(q), location) : "");
	rc = id_of(c, "INSERT OR IGNORE INTO stores (kind, location) VALUES (?1, ?2)",
	           "SELECT id FROM stores WHERE kind = ?1 AND location = ?2", c->writable,
	           "record a store", out_id, bind_store, &k);
	if (rc == RV_ENOTFOUND)
		rc = error_set(RV_ENOTFOUND, "catalog \"%s\" has no store \"%s\"", c->path,
		               str_printable(q, sizeof(q), location));
	return rc;
}

struct repo_key {
	const char *registry;
	const char *repo;
	int64_t registry_id;
};

static void bind_registry(sqlite3_stmt *st, const void *arg)
{
	catalog_bind_text(st, 1, ((const struct repo_key *)arg)->registry);
}

static void bind_repo(sqlite3_stmt *st, const void *arg)
{
	const struct repo_key *k = arg;

	sqlite3_bind_int64(st, 1, k->registry_id);
	catalog_bind_text(st, 2, k->repo);
}

/* RV_ENOTFOUND without a message: callers say what was not found. */
int catalog_repository_id(catalog *c, const char *registry, const char *repo, int create,
                          int64_t *out)
{
	struct repo_key k = { registry, repo, 0 };
	int rc;

	if (!registry || !*registry || !repo || !*repo)
		return error_set(RV_EINVALID, "catalog \"%s\": empty registry or repository name",
		                 c->path);
	rc = id_of(c, "INSERT OR IGNORE INTO registries (name) VALUES (?1)",
	           "SELECT id FROM registries WHERE name = ?1", create, "record a registry",
	           &k.registry_id, bind_registry, &k);
	if (!rc)
		rc = id_of(c, "INSERT OR IGNORE INTO repositories (registry_id, name) VALUES (?1, ?2)",
		           "SELECT id FROM repositories WHERE registry_id = ?1 AND name = ?2", create,
		           "record a repository", out, bind_repo, &k);
	return rc;
}
