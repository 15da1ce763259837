/*
 * internal.h — what the catalog's .c files share; not for other modules.
 *
 * The catalog is split by subject: catalog.c (open, lock, transactions,
 * runs, stores), schema.c (the SQL and its migrations), history.c (tag
 * history), manifests.c (manifests, references, closure) and copies.c
 * (copies, store refs, volumes, locations, listings).
 */
#ifndef RV_CATALOG_INTERNAL_H
#define RV_CATALOG_INTERNAL_H

#include <sqlite3.h>
#include <stdint.h>
#include "catalog/catalog.h"
#include "util/xalloc.h"

struct catalog {
	sqlite3 *db;
	char *path;
	int lock_fd;    /* -1 for readers */
	int writable;   /* opened with CATALOG_WRITE */
	int in_tx;      /* inside catalog_begin() */
};

/* The newest schema version this binary knows. */
int catalog_schema_latest(void);
/* Runs every migration above the file's user_version, each in its own
 * transaction. RV_EUNSUPPORTED for a file newer than this binary. */
int catalog_schema_migrate(catalog *c);
/* The file's PRAGMA user_version. */
int catalog_schema_version(catalog *c, int *out);
/* Refuses files that are not regvault catalogs (application_id). */
int catalog_schema_check_app(catalog *c, int version);

/* Sets "catalog \"<path>\": <what>: <sqlite message>" with a code mapped
 * from SQLite's (busy → RV_ETRANSIENT, foreign key → RV_ENOTFOUND, unique
 * → RV_EEXISTS, other constraints → RV_EINVALID, else RV_ERROR) and
 * returns it. */
int catalog_sql_error(catalog *c, const char *fmt, ...) RV_PRINTF(2, 3);
/* sqlite3_prepare_v2 with the error set on failure (*out stays NULL). */
int catalog_prepare(catalog *c, sqlite3_stmt **out, const char *sql);
/* Steps a statement that returns no rows; error names `what`. */
int catalog_step_done(catalog *c, sqlite3_stmt *st, const char *what);
/* RV_ERROR naming the catalog when it was opened read-only. */
int catalog_need_write(catalog *c);

/* Binds a run id, 0 (or negative) meaning "no run" as NULL. */
int catalog_bind_run(sqlite3_stmt *st, int idx, int64_t run_id);
/* Binds a C string as text (SQLITE_STATIC: the caller keeps it alive until
 * the statement is reset or finalized); NULL binds NULL. */
int catalog_bind_text(sqlite3_stmt *st, int idx, const char *s);
/* Column text, "" for NULL (never NULL). */
const char *catalog_column_text(sqlite3_stmt *st, int col);

/* A write that needs several statements runs atomically: in its own
 * IMMEDIATE transaction, or as a savepoint inside the caller's
 * catalog_begin() batch so a failure undoes only this call. */
struct catalog_op {
	int savepoint;
};
int catalog_op_begin(catalog *c, struct catalog_op *op);
/* Commits (rc == 0) or rolls back (rc != 0); returns rc, or the commit's
 * error. */
int catalog_op_end(catalog *c, struct catalog_op *op, int rc);

/* The id of registry/repo; created when `create`, else RV_ENOTFOUND. */
int catalog_repository_id(catalog *c, const char *registry, const char *repo, int create,
                          int64_t *out);
/* "registry/repo:tag" or "registry/repo@digest" (tag NULL), printable and
 * cut to fit, for messages. */
char *catalog_ref_name(char *out, size_t outlen, const char *registry, const char *repo,
                       const char *tag, const char *digest);

/* Copies a digest read from the database into out; RV_ERROR (a damaged
 * catalog) when it does not fit. */
int catalog_copy_digest(catalog *c, char out[OCI_DIGEST_MAX], const char *s);

/* Sum of the sizes of digest and everything it references transitively
 * (subjects excluded, each digest once). Unknown sizes count as 0. */
int catalog_total_size(catalog *c, const char *digest, int64_t *out);

#endif
