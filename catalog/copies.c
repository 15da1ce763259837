/*
 * copies.c — where verified copies live: copy rows, the top-level refs a
 * store holds, archive volumes and blob locations, and the listings that
 * `catalog list/show/verify` print.
 */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog/catalog.h"
#include "catalog/internal.h"
#include "util/error.h"
#include "util/str.h"
#include "util/timeutil.h"
#include "util/xalloc.h"
#include "util/banned.h"

static int check_digest(catalog *c, const char *digest)
{
	if (oci_digest_validate(digest))
		return error_wrap(error_code(), "catalog \"%s\"", c->path);
	return 0;
}

static const char *kind_name(int kind)
{
	return kind == CATALOG_STORE_ARCHIVE ? "archive" : "registry";
}

/* --- Copies ---------------------------------------------------------------------- */

int catalog_copy_put(catalog *c, int64_t store_id, const char *digest, int64_t verified_at,
                     const char *how, int64_t run_id)
{
	static const char *const hows[] = { "read-back", "deep", "rebuild", "head" };
	sqlite3_stmt *st = NULL;
	size_t i;
	int rc = catalog_need_write(c);

	if (!rc)
		rc = check_digest(c, digest);
	for (i = 0; !rc && how && i < 4 && strcmp(how, hows[i]); i++)
		;
	if (!rc && (!how || i == 4))
		rc = error_set(RV_EINVALID, "catalog \"%s\": invalid verification \"%s\"", c->path,
		               how ? how : "");
	if (!rc)
		rc = catalog_prepare(c, &st,
			"INSERT INTO copies (store_id, digest, verified_at, how, run_id) "
			"VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (store_id, digest) DO UPDATE SET "
			"verified_at = excluded.verified_at, how = excluded.how, "
			"run_id = coalesce(excluded.run_id, run_id)");
	if (rc)
		goto done;
	sqlite3_bind_int64(st, 1, store_id);
	catalog_bind_text(st, 2, digest);
	sqlite3_bind_int64(st, 3, verified_at);
	catalog_bind_text(st, 4, how);
	catalog_bind_run(st, 5, run_id);
	rc = catalog_step_done(c, st, "record a copy");
	if (rc)
		error_wrap(rc, "copy of \"%s\" in store %lld", digest, (long long)store_id);
done:
	sqlite3_finalize(st);
	return rc;
}

int catalog_copy_has(catalog *c, int64_t store_id, const char *digest)
{
	sqlite3_stmt *st = NULL;
	int rc = catalog_prepare(c, &st, "SELECT 1 FROM copies WHERE store_id = ?1 AND digest = ?2");

	if (rc)
		goto done;
	sqlite3_bind_int64(st, 1, store_id);
	catalog_bind_text(st, 2, digest);
	switch (sqlite3_step(st)) {
	case SQLITE_ROW: break;
	case SQLITE_DONE:
		rc = error_set(RV_ENOTFOUND, "no verified copy of \"%s\" in store %lld "
		               "(catalog \"%s\")", digest, (long long)store_id, c->path);
		break;
	default: rc = catalog_sql_error(c, "cannot look up a copy of \"%s\"", digest);
	}
done:
	sqlite3_finalize(st);
	return rc;
}

static int exec_bound(catalog *c, const char *sql, int64_t store_id, const char *digest,
                      const char *what)
{
	sqlite3_stmt *st = NULL;
	int rc = catalog_prepare(c, &st, sql);

	if (!rc) {
		sqlite3_bind_int64(st, 1, store_id);
		catalog_bind_text(st, 2, digest);
		rc = catalog_step_done(c, st, what);
	}
	sqlite3_finalize(st);
	return rc;
}

/* Dropping what is not there succeeds: the copy is not there either way. */
int catalog_copy_drop(catalog *c, int64_t store_id, const char *digest)
{
	struct catalog_op op;
	int rc = catalog_op_begin(c, &op);

	if (rc)
		return rc;
	rc = exec_bound(c, "DELETE FROM copies WHERE store_id = ?1 AND digest = ?2", store_id,
	                digest, "forget a copy");
	if (!rc)
		rc = exec_bound(c, "DELETE FROM locations WHERE digest = ?2 AND volume_id IN "
		                "(SELECT id FROM volumes WHERE store_id = ?1)", store_id, digest,
		                "forget a copy's locations");
	return catalog_op_end(c, &op, rc);
}

/* --- Store refs ------------------------------------------------------------------- */

/* The image a tag named before it moved stays listed by digest (archives
 * keep it in index.json as "<repository>@<digest>"); the UPDATE is skipped
 * when that by-digest row exists already, and the DELETE then removes the
 * tagged row either way. */
#define DEMOTE_MOVED_TAG \
	"UPDATE OR IGNORE store_refs SET tag = NULL WHERE store_id = ?1 AND " \
	"repository_id = ?2 AND tag = ?3 AND digest <> ?4"
#define DROP_MOVED_TAG \
	"DELETE FROM store_refs WHERE store_id = ?1 AND repository_id = ?2 AND tag = ?3 " \
	"AND digest <> ?4"
/* An image named by a tag is not listed again by digest. */
#define DROP_DIGEST_ROW \
	"DELETE FROM store_refs WHERE store_id = ?1 AND repository_id = ?2 AND tag IS NULL " \
	"AND digest = ?4 AND ?3 IS NOT NULL"
#define UPSERT_REF \
	"INSERT INTO store_refs (store_id, repository_id, tag, digest, stored_at, run_id) " \
	"SELECT ?1, ?2, ?3, ?4, ?5, ?6 WHERE ?3 IS NOT NULL OR NOT EXISTS (SELECT 1 FROM " \
	"store_refs WHERE store_id = ?1 AND repository_id = ?2 AND digest = ?4 AND tag IS NOT NULL) " \
	"ON CONFLICT (store_id, repository_id, tag) WHERE tag IS NOT NULL DO UPDATE SET " \
	"digest = excluded.digest, stored_at = excluded.stored_at, run_id = excluded.run_id " \
	"ON CONFLICT (store_id, repository_id, digest) WHERE tag IS NULL DO UPDATE SET " \
	"stored_at = excluded.stored_at, run_id = excluded.run_id"

static int ref_step(catalog *c, const char *sql, int64_t store_id, int64_t repo_id,
                    const char *tag, const char *digest, int64_t run_id)
{
	sqlite3_stmt *st = NULL;
	int rc = catalog_prepare(c, &st, sql);

	if (!rc) {
		sqlite3_bind_int64(st, 1, store_id);
		sqlite3_bind_int64(st, 2, repo_id);
		catalog_bind_text(st, 3, tag);
		catalog_bind_text(st, 4, digest);
		if (sqlite3_bind_parameter_count(st) >= 6) {
			sqlite3_bind_int64(st, 5, time_now());
			catalog_bind_run(st, 6, run_id);
		}
		rc = catalog_step_done(c, st, "record a stored image");
	}
	sqlite3_finalize(st);
	return rc;
}

int catalog_store_ref_put(catalog *c, int64_t store_id, const char *registry,
                          const char *repo, const char *tag, const char *digest,
                          int64_t run_id)
{
	static const char *const steps[] = {
		DEMOTE_MOVED_TAG, DROP_MOVED_TAG, DROP_DIGEST_ROW, UPSERT_REF,
	};
	struct catalog_op op;
	int64_t repo_id = 0;
	char name[512];
	int rc = check_digest(c, digest);

	if (!rc && tag && !*tag)
		rc = error_set(RV_EINVALID, "catalog \"%s\": empty tag", c->path);
	if (rc || (rc = catalog_op_begin(c, &op)))
		return rc;
	rc = catalog_repository_id(c, registry, repo, 1, &repo_id);
	for (size_t i = 0; !rc && i < sizeof(steps) / sizeof(steps[0]); i++)
		rc = ref_step(c, steps[i], store_id, repo_id, tag, digest, run_id);
	if (rc && registry && repo)
		error_wrap(rc, "\"%s\"", catalog_ref_name(name, sizeof(name), registry, repo, tag,
		                                          digest));
	return catalog_op_end(c, &op, rc);
}

int catalog_store_ref_get(catalog *c, int64_t store_id, const char *registry, const char *repo,
                          const char *tag, char out_digest[OCI_DIGEST_MAX])
{
	sqlite3_stmt *st = NULL;
	int64_t repo_id = 0;
	int rc = catalog_repository_id(c, registry, repo, 0, &repo_id);

	if (rc == 0)
		rc = catalog_prepare(c, &st, "SELECT digest FROM store_refs WHERE store_id = ?1 AND "
		                             "repository_id = ?2 AND tag = ?3");
	if (rc)
		goto done;
	sqlite3_bind_int64(st, 1, store_id);
	sqlite3_bind_int64(st, 2, repo_id);
	catalog_bind_text(st, 3, tag);
	switch (sqlite3_step(st)) {
	case SQLITE_ROW:
		snprintf(out_digest, OCI_DIGEST_MAX, "%s", catalog_column_text(st, 0));
		break;
	case SQLITE_DONE:
		rc = error_set(RV_ENOTFOUND, "store %lld holds no \"%s/%s:%s\"", (long long)store_id,
		               registry, repo, tag);
		break;
	default: rc = catalog_sql_error(c, "cannot look up \"%s/%s:%s\"", registry, repo, tag);
	}
done:
	sqlite3_finalize(st);
	return rc;
}

/* --- Volumes and locations ------------------------------------------------------------ */

/* Restore joins this path to the store directory: it must stay inside. */
static int check_volume_path(catalog *c, const char *path)
{
	char q[128];
	size_t n = path ? strlen(path) : 0;

	if (n && n < sizeof(((struct catalog_location *)0)->volume) && path[0] != '/' &&
	    strcmp(path, "..") && !str_has_prefix(path, "../") && !strstr(path, "/../") &&
	    !str_has_suffix(path, "/.."))
		return 0;
	return error_set(RV_EINVALID, "catalog \"%s\": invalid volume path \"%s\"", c->path,
	                 path ? str_printable(q, sizeof(q), path) : "");
}

int catalog_volume_add(catalog *c, int64_t store_id, const char *path, int64_t size,
                       const char *sha256, int64_t run_id, int64_t *out_id)
{
	sqlite3_stmt *st = NULL;
	int rc = catalog_need_write(c);

	if (!rc)
		rc = check_volume_path(c, path);
	if (!rc && (!sha256 || !*sha256 || size < 0))
		rc = error_set(RV_EINVALID, "catalog \"%s\": volume \"%s\" without size or sha256",
		               c->path, path);
	if (!rc)
		rc = catalog_prepare(c, &st,
			"INSERT INTO volumes (store_id, path, size, sha256, created, run_id) "
			"VALUES (?1, ?2, ?3, ?4, ?5, ?6)");
	if (rc)
		goto done;
	sqlite3_bind_int64(st, 1, store_id);
	catalog_bind_text(st, 2, path);
	sqlite3_bind_int64(st, 3, size);
	catalog_bind_text(st, 4, sha256);
	sqlite3_bind_int64(st, 5, time_now());
	catalog_bind_run(st, 6, run_id);
	rc = catalog_step_done(c, st, "record a volume");
	if (rc)
		error_wrap(rc, "volume \"%s\" of store %lld", path, (long long)store_id);
	else
		*out_id = sqlite3_last_insert_rowid(c->db);
done:
	sqlite3_finalize(st);
	return rc;
}

int catalog_location_put(catalog *c, int64_t volume_id, const char *digest, int64_t offset,
                         int64_t length)
{
	sqlite3_stmt *st = NULL;
	int rc = catalog_need_write(c);

	if (!rc)
		rc = check_digest(c, digest);
	if (!rc && (offset < 0 || length < 0))
		rc = error_set(RV_EINVALID, "catalog \"%s\": invalid location of \"%s\"", c->path,
		               digest);
	if (!rc)
		rc = catalog_prepare(c, &st,
			"INSERT INTO locations (volume_id, digest, data_offset, data_length) "
			"VALUES (?1, ?2, ?3, ?4) ON CONFLICT (volume_id, digest) DO UPDATE SET "
			"data_offset = excluded.data_offset, data_length = excluded.data_length");
	if (rc)
		goto done;
	sqlite3_bind_int64(st, 1, volume_id);
	catalog_bind_text(st, 2, digest);
	sqlite3_bind_int64(st, 3, offset);
	sqlite3_bind_int64(st, 4, length);
	rc = catalog_step_done(c, st, "record a location");
	if (rc)
		error_wrap(rc, "location of \"%s\" in volume %lld", digest, (long long)volume_id);
done:
	sqlite3_finalize(st);
	return rc;
}

static int fill_location(catalog *c, struct catalog_location *out, const char *volume,
                         int64_t offset, int64_t length)
{
	size_t n = strlen(volume);

	if (n >= sizeof(out->volume))
		return error_set(RV_ERROR, "catalog \"%s\" is damaged: a %zu-byte volume path",
		                 c->path, n);
	memcpy(out->volume, volume, n + 1);
	out->offset = offset;
	out->length = length;
	return 0;
}

/* A blob is stored once per store, but a rebuilt catalog may know it in
 * more than one volume: the oldest one wins, everywhere. */
int catalog_location_get(catalog *c, int64_t store_id, const char *digest,
                         struct catalog_location *out)
{
	sqlite3_stmt *st = NULL;
	int rc = catalog_prepare(c, &st,
		"SELECT v.path, l.data_offset, l.data_length FROM locations l "
		"JOIN volumes v ON v.id = l.volume_id WHERE v.store_id = ?1 AND l.digest = ?2 "
		"ORDER BY v.id LIMIT 1");

	if (rc)
		goto done;
	sqlite3_bind_int64(st, 1, store_id);
	catalog_bind_text(st, 2, digest);
	switch (sqlite3_step(st)) {
	case SQLITE_ROW:
		rc = fill_location(c, out, catalog_column_text(st, 0), sqlite3_column_int64(st, 1),
		                   sqlite3_column_int64(st, 2));
		break;
	case SQLITE_DONE:
		rc = error_set(RV_ENOTFOUND, "no location of \"%s\" in store %lld (catalog \"%s\")",
		               digest, (long long)store_id, c->path);
		break;
	default: rc = catalog_sql_error(c, "cannot look up the location of \"%s\"", digest);
	}
done:
	sqlite3_finalize(st);
	return rc;
}

/* --- Listings --------------------------------------------------------------------------- */

#define ENTRIES_SQL \
	"SELECT st.kind, st.location, st.id, g.name, r.name, sr.tag, sr.digest, " \
	"  coalesce(m.media_type, ''), coalesce(m.size, 0), coalesce(m.created, 0), " \
	"  sr.stored_at, coalesce(cp.verified_at, 0) " \
	"FROM store_refs sr JOIN stores st ON st.id = sr.store_id " \
	"JOIN repositories r ON r.id = sr.repository_id " \
	"JOIN registries g ON g.id = r.registry_id " \
	"LEFT JOIN manifests m ON m.digest = sr.digest " \
	"LEFT JOIN copies cp ON cp.store_id = sr.store_id AND cp.digest = sr.digest " \
	"ORDER BY g.name, r.name, sr.tag IS NULL, sr.tag, sr.digest, st.kind, st.location"

static void read_entry(sqlite3_stmt *st, struct catalog_entry *e)
{
	e->store_kind = kind_name(sqlite3_column_int(st, 0));
	e->store = catalog_column_text(st, 1);
	e->store_id = sqlite3_column_int64(st, 2);
	e->registry = catalog_column_text(st, 3);
	e->repository = catalog_column_text(st, 4);
	e->tag = sqlite3_column_type(st, 5) == SQLITE_NULL ? NULL : catalog_column_text(st, 5);
	e->digest = catalog_column_text(st, 6);
	e->media_type = catalog_column_text(st, 7);
	e->size = sqlite3_column_int64(st, 8);
	e->created = sqlite3_column_int64(st, 9);
	e->stored_at = sqlite3_column_int64(st, 10);
	e->verified_at = sqlite3_column_int64(st, 11);
	e->total_size = 0;
}

static int entry_matches(const struct catalog_entry *e, const char *glob)
{
	char *name;
	int match;

	if (!glob)
		return 1;
	if (e->tag)
		name = xasprintf("%s/%s:%s", e->registry, e->repository, e->tag);
	else
		name = xasprintf("%s/%s@%s", e->registry, e->repository, e->digest);
	match = str_glob_match(glob, name);
	free(name);
	return match;
}

int catalog_entries(catalog *c, const char *glob, catalog_entry_fn fn, void *ctx)
{
	sqlite3_stmt *st = NULL;
	int s = SQLITE_DONE, rc = catalog_prepare(c, &st, ENTRIES_SQL);

	while (!rc && (s = sqlite3_step(st)) == SQLITE_ROW) {
		struct catalog_entry e;

		read_entry(st, &e);
		if (!entry_matches(&e, glob))
			continue;
		rc = catalog_total_size(c, e.digest, &e.total_size);
		if (!rc)
			rc = fn(&e, ctx);
	}
	if (!rc && s != SQLITE_DONE)
		rc = catalog_sql_error(c, "cannot list stored images");
	sqlite3_finalize(st);
	return rc;
}

/* The location is the oldest volume's, as in catalog_location_get(). */
#define COPIES_SQL \
	"SELECT cp.store_id, st.kind, st.location, cp.digest, " \
	"  coalesce(m.size, b.size, -1), m.digest IS NOT NULL, " \
	"  v.path, l.data_offset, l.data_length " \
	"FROM copies cp JOIN stores st ON st.id = cp.store_id " \
	"LEFT JOIN manifests m ON m.digest = cp.digest " \
	"LEFT JOIN blobs b ON b.digest = cp.digest " \
	"LEFT JOIN locations l ON l.rowid = (SELECT l2.rowid FROM locations l2 " \
	"  JOIN volumes v2 ON v2.id = l2.volume_id " \
	"  WHERE v2.store_id = cp.store_id AND l2.digest = cp.digest ORDER BY v2.id LIMIT 1) " \
	"LEFT JOIN volumes v ON v.id = l.volume_id " \
	"WHERE ?1 = 0 OR cp.store_id = ?1 ORDER BY cp.digest, cp.store_id"

static int emit_copy(catalog *c, sqlite3_stmt *st, catalog_copy_fn fn, void *ctx)
{
	struct catalog_location loc;
	struct catalog_copy cp;
	int rc;

	cp.store_id = sqlite3_column_int64(st, 0);
	cp.store_kind = kind_name(sqlite3_column_int(st, 1));
	cp.store = catalog_column_text(st, 2);
	cp.digest = catalog_column_text(st, 3);
	cp.size = sqlite3_column_int64(st, 4);
	cp.is_manifest = sqlite3_column_int(st, 5);
	cp.location = NULL;
	if (sqlite3_column_type(st, 6) != SQLITE_NULL) {
		rc = fill_location(c, &loc, catalog_column_text(st, 6), sqlite3_column_int64(st, 7),
		                   sqlite3_column_int64(st, 8));
		if (rc)
			return rc;
		cp.location = &loc;
	}
	return fn(&cp, ctx);
}

int catalog_copies(catalog *c, int64_t store_id, catalog_copy_fn fn, void *ctx)
{
	sqlite3_stmt *st = NULL;
	int s = SQLITE_DONE, rc = catalog_prepare(c, &st, COPIES_SQL);

	if (!rc)
		sqlite3_bind_int64(st, 1, store_id);
	while (!rc && (s = sqlite3_step(st)) == SQLITE_ROW)
		rc = emit_copy(c, st, fn, ctx);
	if (!rc && s != SQLITE_DONE)
		rc = catalog_sql_error(c, "cannot list copies");
	sqlite3_finalize(st);
	return rc;
}
