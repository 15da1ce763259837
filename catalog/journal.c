/*
 * journal.c — who holds an image, names for suggestions, and the deletion
 * journal that makes every prune run undoable.
 */
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "catalog/internal.h"
#include "util/error.h"
#include "util/banned.h"

/* --- Holders ------------------------------------------------------------- */

#define HOLDER_COLUMNS \
	"SELECT st.id, st.kind, st.location, g.name, r.name, sr.tag, cp.verified_at "

static int walk_holders(catalog *c, const char *sql, const char *digest, catalog_holder_fn fn,
                        void *ctx)
{
	sqlite3_stmt *st = NULL;
	int s = SQLITE_DONE, rc = catalog_prepare(c, &st, sql);

	if (rc)
		return rc;
	catalog_bind_text(st, 1, digest);
	while (!rc && (s = sqlite3_step(st)) == SQLITE_ROW) {
		int kind = sqlite3_column_int(st, 1);
		struct catalog_holder h = {
			sqlite3_column_int64(st, 0),
			kind == CATALOG_STORE_ARCHIVE ? "archive" : "registry", catalog_column_text(st, 2),
			catalog_column_text(st, 3), catalog_column_text(st, 4),
			sqlite3_column_type(st, 5) == SQLITE_NULL ? NULL : catalog_column_text(st, 5),
			sqlite3_column_int64(st, 6),
		};
		rc = fn(&h, ctx);
	}
	if (!rc && s != SQLITE_DONE)
		rc = catalog_sql_error(c, "cannot list the holders of \"%s\"", digest);
	sqlite3_finalize(st);
	return rc;
}

int catalog_holders(catalog *c, const char *digest, catalog_holder_fn fn, void *ctx)
{
	return walk_holders(c, HOLDER_COLUMNS
		"FROM store_refs sr JOIN stores st ON st.id = sr.store_id "
		"JOIN copies cp ON cp.store_id = sr.store_id AND cp.digest = sr.digest "
		"JOIN repositories r ON r.id = sr.repository_id "
		"JOIN registries g ON g.id = r.registry_id "
		"WHERE sr.digest = ?1 ORDER BY cp.verified_at, st.id, sr.tag IS NULL, sr.tag",
		digest, fn, ctx);
}

/* A child is stored inside its index, never listed as a store_ref of its
 * own: reach it through an index that lists it (manifest_refs, role
 * 'child') in a store holding verified copies of both. */
int catalog_child_holders(catalog *c, const char *digest, catalog_holder_fn fn, void *ctx)
{
	return walk_holders(c, HOLDER_COLUMNS
		"FROM manifest_refs mr JOIN store_refs sr ON sr.digest = mr.manifest "
		"JOIN stores st ON st.id = sr.store_id "
		"JOIN copies cp ON cp.store_id = sr.store_id AND cp.digest = mr.digest "
		"JOIN copies pc ON pc.store_id = sr.store_id AND pc.digest = sr.digest "
		"JOIN repositories r ON r.id = sr.repository_id "
		"JOIN registries g ON g.id = r.registry_id "
		"WHERE mr.digest = ?1 AND mr.role = 'child' "
		"ORDER BY cp.verified_at, st.id, sr.tag IS NULL, sr.tag",
		digest, fn, ctx);
}

/* --- Known names ------------------------------------------------------------ */

static int collect_names(catalog *c, sqlite3_stmt *st, struct strlist *out, const char *what)
{
	int s;

	while ((s = sqlite3_step(st)) == SQLITE_ROW)
		strlist_add(out, catalog_column_text(st, 0));
	sqlite3_finalize(st);
	return s == SQLITE_DONE ? 0 : catalog_sql_error(c, "cannot list %s", what);
}

int catalog_known_tags(catalog *c, const char *registry, const char *repo, struct strlist *out)
{
	sqlite3_stmt *st = NULL;
	int64_t repo_id = 0;
	int rc = catalog_repository_id(c, registry, repo, 0, &repo_id);

	if (rc == RV_ENOTFOUND) {   /* an unknown repository has no tags */
		error_clear();
		return 0;
	}
	if (rc || (rc = catalog_prepare(c, &st, "SELECT DISTINCT tag FROM tag_history "
	                                        "WHERE repository_id = ?1 ORDER BY tag")))
		return rc;
	sqlite3_bind_int64(st, 1, repo_id);
	return collect_names(c, st, out, "tags");
}

int catalog_known_digests(catalog *c, const char *registry, const char *repo,
                          struct strlist *out)
{
	sqlite3_stmt *st = NULL;
	int64_t repo_id = 0;
	int rc = catalog_repository_id(c, registry, repo, 0, &repo_id);

	if (rc == RV_ENOTFOUND) {
		error_clear();
		return 0;
	}
	if (rc || (rc = catalog_prepare(c, &st, "SELECT digest FROM tag_history WHERE repository_id = ?1 "
	                                        "UNION SELECT digest FROM manifest_repositories "
	                                        "WHERE repository_id = ?1 ORDER BY digest")))
		return rc;
	sqlite3_bind_int64(st, 1, repo_id);
	return collect_names(c, st, out, "digests");
}

int catalog_known_repositories(catalog *c, const char *registry, struct strlist *out)
{
	sqlite3_stmt *st = NULL;
	int rc = catalog_prepare(c, &st, "SELECT r.name FROM repositories r JOIN registries g "
	                                 "ON g.id = r.registry_id WHERE g.name = ?1 ORDER BY r.name");

	if (rc)
		return rc;
	catalog_bind_text(st, 1, registry);
	return collect_names(c, st, out, "repositories");
}

/* --- The deletion journal --------------------------------------------------------- */

static char *tags_json(const char *const *tags, size_t n)
{
	json_t *arr = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(arr, json_string(tags[i]));
	char *s = json_dumps(arr, JSON_COMPACT);
	json_decref(arr);
	if (!s)
		xdie("out of memory");
	return s;
}

int catalog_deletion_record(catalog *c, int64_t run_id, const char *registry, const char *repo,
                            const char *digest, const char *const *tags, size_t n_tags,
                            const char *reason, int64_t *out_id)
{
	sqlite3_stmt *st = NULL;
	int64_t repo_id = 0;
	char *tj = tags_json(tags, n_tags);
	int rc = catalog_need_write(c);

	if (!rc)
		rc = catalog_repository_id(c, registry, repo, 1, &repo_id);
	if (!rc)
		rc = catalog_prepare(c, &st,
			"INSERT INTO deletions (run_id, repository_id, digest, tags, reason, recorded_at) "
			"VALUES (?1, ?2, ?3, ?4, ?5, strftime('%s','now'))");
	if (!rc) {
		sqlite3_bind_int64(st, 1, run_id);
		sqlite3_bind_int64(st, 2, repo_id);
		catalog_bind_text(st, 3, digest);
		catalog_bind_text(st, 4, tj);
		catalog_bind_text(st, 5, reason ? reason : "");
		rc = catalog_step_done(c, st, "record a deletion");
	}
	if (!rc)
		*out_id = sqlite3_last_insert_rowid(c->db);
	sqlite3_finalize(st);
	free(tj);
	return rc;
}

static int set_time(catalog *c, const char *sql, int64_t id, int64_t when, const char *what)
{
	sqlite3_stmt *st = NULL;
	int rc = catalog_need_write(c);

	if (!rc)
		rc = catalog_prepare(c, &st, sql);
	if (!rc) {
		sqlite3_bind_int64(st, 1, when);
		sqlite3_bind_int64(st, 2, id);
		rc = catalog_step_done(c, st, what);
	}
	if (!rc && sqlite3_changes(c->db) == 0)
		rc = error_set(RV_ENOTFOUND, "catalog \"%s\": no %s %lld", c->path,
		               strstr(sql, "runs") ? "run" : "deletion", (long long)id);
	sqlite3_finalize(st);
	return rc;
}

int catalog_deletion_confirm(catalog *c, int64_t id, int64_t when)
{
	return set_time(c, "UPDATE deletions SET deleted_at = ?1 WHERE id = ?2", id, when,
	                "confirm a deletion");
}

int catalog_deletion_undone(catalog *c, int64_t id, int64_t when)
{
	return set_time(c, "UPDATE deletions SET undone_at = ?1 WHERE id = ?2", id, when,
	                "mark a deletion undone");
}

int catalog_run_undone(catalog *c, int64_t run_id, int64_t when)
{
	return set_time(c, "UPDATE runs SET undone_at = ?1 WHERE id = ?2", run_id, when,
	                "mark a run undone");
}

static int emit_deletion(sqlite3_stmt *st, catalog_deletion_fn fn, void *ctx)
{
	json_error_t jerr;
	json_t *arr = json_loads(catalog_column_text(st, 5), 0, &jerr);
	size_t n = json_array_size(arr);
	const char **tags = xcalloc(n + 1, sizeof(*tags));

	for (size_t i = 0; i < n; i++)
		tags[i] = json_string_value(json_array_get(arr, i));
	struct catalog_deletion d = {
		sqlite3_column_int64(st, 0), sqlite3_column_int64(st, 1), catalog_column_text(st, 2),
		catalog_column_text(st, 3), catalog_column_text(st, 4), catalog_column_text(st, 6),
		tags, n, sqlite3_column_int64(st, 7), sqlite3_column_int64(st, 8),
		sqlite3_column_int64(st, 9),
	};
	int rc = fn(&d, ctx);
	free(tags);
	json_decref(arr);
	return rc;
}

int catalog_deletions(catalog *c, int64_t run_id, catalog_deletion_fn fn, void *ctx)
{
	sqlite3_stmt *st = NULL;
	int s = SQLITE_DONE, rc = catalog_prepare(c, &st, "SELECT 1 FROM runs WHERE id = ?1");

	if (rc)
		return rc;
	sqlite3_bind_int64(st, 1, run_id);
	s = sqlite3_step(st);
	sqlite3_finalize(st);
	if (s != SQLITE_ROW)
		return error_set(RV_ENOTFOUND, "catalog \"%s\" has no run %lld", c->path,
		                 (long long)run_id);
	rc = catalog_prepare(c, &st,
		"SELECT d.id, d.run_id, g.name, r.name, d.digest, d.tags, d.reason, d.recorded_at, "
		"  coalesce(d.deleted_at, 0), coalesce(d.undone_at, 0) "
		"FROM deletions d JOIN repositories r ON r.id = d.repository_id "
		"JOIN registries g ON g.id = r.registry_id WHERE d.run_id = ?1 ORDER BY d.id");
	if (rc)
		return rc;
	sqlite3_bind_int64(st, 1, run_id);
	while (!rc && (s = sqlite3_step(st)) == SQLITE_ROW)
		rc = emit_deletion(st, fn, ctx);
	if (!rc && s != SQLITE_DONE)
		rc = catalog_sql_error(c, "cannot read the deletions of run %lld", (long long)run_id);
	sqlite3_finalize(st);
	return rc;
}
