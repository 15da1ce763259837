/*
 * schema.c — the catalog's SQL schema and its numbered migrations.
 *
 * Each migration is static SQL (no values are ever pasted in) that ends by
 * setting PRAGMA user_version to its own number, and runs inside one
 * BEGIN IMMEDIATE … COMMIT: a crash mid-migration leaves the previous
 * version intact (user_version is part of the database header, which is
 * written in the same transaction). Comments inside CREATE statements are
 * kept by SQLite, so `sqlite3 catalog.db .schema` explains itself too.
 *
 * Adding a migration: append { N, "why", sql } with sql ending in
 * "PRAGMA user_version = N;". Never edit a released one.
 */
#include <sqlite3.h>
#include <stddef.h>
#include <stdlib.h>

#include "catalog/internal.h"
#include "util/error.h"
#include "util/banned.h"

/* PRAGMA application_id: 'RVCT', so tools (and we) can tell a regvault
 * catalog from any other SQLite file. */
#define CATALOG_APP_ID 0x52564354

static const char migration_1[] =
"PRAGMA application_id = 1381385044;\n"

"CREATE TABLE runs (\n"
"  -- One regvault invocation that wrote to the catalog. Other rows name the\n"
"  -- run that wrote them, so `restore --run` and audits find what a run did.\n"
"  id        INTEGER PRIMARY KEY,\n"
"  command   TEXT NOT NULL,      -- \"backup\", \"prune\", ...\n"
"  -- its arguments as JSON, secrets removed by the caller (invariant 7)\n"
"  args      TEXT NOT NULL CHECK (json_valid(args)),\n"
"  started   INTEGER NOT NULL,   -- epoch seconds\n"
"  finished  INTEGER,            -- NULL while running, or when it was killed\n"
"  outcome   TEXT CHECK (outcome IN ('ok', 'partial', 'failed')),\n"
"  summary   TEXT CHECK (summary IS NULL OR json_valid(summary))\n"
");\n"

"CREATE TABLE registries (\n"
"  -- The primaries images were seen on, by the name used to reach them\n"
"  -- (\"reg.example.com:5000\").\n"
"  id    INTEGER PRIMARY KEY,\n"
"  name  TEXT NOT NULL UNIQUE\n"
");\n"

"CREATE TABLE repositories (\n"
"  -- A repository of a primary. Tags, manifests and stored refs point here,\n"
"  -- so \"registry/repository\" is spelled once.\n"
"  id           INTEGER PRIMARY KEY,\n"
"  registry_id  INTEGER NOT NULL REFERENCES registries(id),\n"
"  name         TEXT NOT NULL,\n"
"  UNIQUE (registry_id, name)\n"
");\n"

"CREATE TABLE tag_history (\n"
"  -- What a tag pointed to, and when: one row per stretch of time during\n"
"  -- which repository:tag pointed to one digest (a tag that moves away and\n"
"  -- back opens a new row). `restore --at` and `catalog history` read it.\n"
"  id             INTEGER PRIMARY KEY,\n"
"  repository_id  INTEGER NOT NULL REFERENCES repositories(id),\n"
"  tag            TEXT NOT NULL,\n"
"  digest         TEXT NOT NULL,\n"
"  first_seen     INTEGER NOT NULL,   -- epoch seconds\n"
"  last_seen      INTEGER NOT NULL,\n"
"  run_id         INTEGER REFERENCES runs(id),   -- the run that opened the row\n"
"  last_run_id    INTEGER REFERENCES runs(id)    -- the run that saw it last\n"
");\n"
"CREATE INDEX tag_history_by_tag\n"
"  -- the latest row of a tag at or before a time (tag_seen, tag_resolve)\n"
"  ON tag_history (repository_id, tag, first_seen);\n"
"CREATE INDEX tag_history_by_digest\n"
"  -- which tags ever named a digest (prune's digest-level checks, show)\n"
"  ON tag_history (digest);\n"

"CREATE TABLE manifests (\n"
"  -- Manifests and indexes byte for byte as the registry served them\n"
"  -- (invariant 5): restore pushes raw as is, and every read checks it\n"
"  -- still hashes to digest.\n"
"  digest      TEXT PRIMARY KEY,\n"
"  media_type  TEXT NOT NULL,\n"
"  size        INTEGER NOT NULL CHECK (size = length(raw)),\n"
"  raw         BLOB NOT NULL,\n"
"  created     INTEGER NOT NULL DEFAULT 0,  -- epoch seconds, 0 when unknown\n"
"  first_seen  INTEGER NOT NULL  -- when first stored; policy's created fallback\n"
");\n"

"CREATE TABLE manifest_repositories (\n"
"  -- Every repository a manifest was seen in: one digest may be pushed to\n"
"  -- many repositories, and a restore may need to go back to each.\n"
"  digest         TEXT NOT NULL REFERENCES manifests(digest),\n"
"  repository_id  INTEGER NOT NULL REFERENCES repositories(id),\n"
"  first_seen     INTEGER NOT NULL,\n"
"  PRIMARY KEY (digest, repository_id)\n"
");\n"
"CREATE INDEX manifest_repositories_by_repository\n"
"  -- the manifests known in one repository (prune plans per repository)\n"
"  ON manifest_repositories (repository_id);\n"

"CREATE TABLE manifest_refs (\n"
"  -- The image graph: every descriptor a manifest holds, in document order.\n"
"  -- 'child' for an index's manifests[] (manifests, with their own rows in\n"
"  -- manifests once put), 'config' then 'layer' for an image (blobs), and\n"
"  -- 'subject' for the manifest a referrer points at.\n"
"  manifest    TEXT NOT NULL REFERENCES manifests(digest),\n"
"  position    INTEGER NOT NULL,   -- 0-based across all roles\n"
"  role        TEXT NOT NULL CHECK (role IN ('child', 'config', 'layer', 'subject')),\n"
"  digest      TEXT NOT NULL,\n"
"  media_type  TEXT NOT NULL,\n"
"  size        INTEGER NOT NULL,   -- as the descriptor states it\n"
"  PRIMARY KEY (manifest, position)\n"
");\n"
"CREATE INDEX manifest_refs_by_digest\n"
"  -- who references a digest: a kept index or subject protects it (invariant 4)\n"
"  ON manifest_refs (digest, role);\n"

"CREATE TABLE blobs (\n"
"  -- Configs and layers by digest with the size and media type of the first\n"
"  -- manifest that named them: totals, and sizes to check copies against.\n"
"  digest      TEXT PRIMARY KEY,\n"
"  size        INTEGER NOT NULL,\n"
"  media_type  TEXT NOT NULL\n"
");\n"

"CREATE TABLE stores (\n"
"  -- Places that hold copies: an archive directory (kind 1, absolute path)\n"
"  -- or a standby registry (kind 2, \"host[:port][/prefix]\").\n"
"  id        INTEGER PRIMARY KEY,\n"
"  kind      INTEGER NOT NULL CHECK (kind IN (1, 2)),\n"
"  location  TEXT NOT NULL,\n"
"  UNIQUE (kind, location)\n"
");\n"

"CREATE TABLE copies (\n"
"  -- A verified copy: the store holds digest and its bytes were read back\n"
"  -- and hashed (invariant 3). Written only after the fact, dropped when a\n"
"  -- re-verification fails. digest (a manifest or a blob) is not a foreign\n"
"  -- key: rows are written in dependency order, blobs first.\n"
"  store_id     INTEGER NOT NULL REFERENCES stores(id),\n"
"  digest       TEXT NOT NULL,\n"
"  verified_at  INTEGER NOT NULL,\n"
"  how          TEXT NOT NULL CHECK (how IN ('read-back', 'deep', 'rebuild', 'head')),\n"
"  run_id       INTEGER REFERENCES runs(id),\n"
"  PRIMARY KEY (store_id, digest)\n"
");\n"
"CREATE INDEX copies_by_digest\n"
"  -- where a copy of a digest is, whatever the store (restore)\n"
"  ON copies (digest);\n"

"CREATE TABLE store_refs (\n"
"  -- The top-level images a store holds and under which name: what\n"
"  -- `catalog list` shows. One row per (store, repository, tag); when a tag\n"
"  -- moves, the image it named stays listed by digest (tag NULL), as the\n"
"  -- archive's index.json keeps it.\n"
"  id             INTEGER PRIMARY KEY,\n"
"  store_id       INTEGER NOT NULL REFERENCES stores(id),\n"
"  repository_id  INTEGER NOT NULL REFERENCES repositories(id),\n"
"  tag            TEXT,   -- NULL: stored by digest\n"
"  digest         TEXT NOT NULL,\n"
"  stored_at      INTEGER NOT NULL,\n"
"  run_id         INTEGER REFERENCES runs(id)\n"
");\n"
"CREATE UNIQUE INDEX store_refs_by_tag\n"
"  -- a tag names one image per store\n"
"  ON store_refs (store_id, repository_id, tag) WHERE tag IS NOT NULL;\n"
"CREATE UNIQUE INDEX store_refs_by_digest\n"
"  -- an image is listed by digest at most once per store and repository\n"
"  ON store_refs (store_id, repository_id, digest) WHERE tag IS NULL;\n"
"CREATE INDEX store_refs_digest\n"
"  -- which stores list an image (restore by digest)\n"
"  ON store_refs (digest);\n"

"CREATE TABLE volumes (\n"
"  -- Finished, verified tar volumes of archive stores; sha256 of the whole\n"
"  -- file lets verify notice a volume replaced or damaged since.\n"
"  id        INTEGER PRIMARY KEY,\n"
"  store_id  INTEGER NOT NULL REFERENCES stores(id),\n"
"  path      TEXT NOT NULL,   -- relative to the store directory\n"
"  size      INTEGER NOT NULL CHECK (size >= 0),\n"
"  sha256    TEXT NOT NULL,\n"
"  created   INTEGER NOT NULL,\n"
"  run_id    INTEGER REFERENCES runs(id),\n"
"  UNIQUE (store_id, path)\n"
");\n"

"CREATE TABLE locations (\n"
"  -- Where a blob's bytes sit in a volume, so restore and verify --deep\n"
"  -- seek straight to them instead of scanning tar headers.\n"
"  volume_id    INTEGER NOT NULL REFERENCES volumes(id),\n"
"  digest       TEXT NOT NULL,\n"
"  data_offset  INTEGER NOT NULL CHECK (data_offset >= 0),\n"
"  data_length  INTEGER NOT NULL CHECK (data_length >= 0),\n"
"  PRIMARY KEY (volume_id, digest)\n"
");\n"
"CREATE INDEX locations_by_digest\n"
"  -- location_get and copy_drop find a blob's places by digest\n"
"  ON locations (digest);\n"

"PRAGMA user_version = 1;\n";

static const char migration_2[] =
"CREATE TABLE deletions (\n"
"  -- One manifest a prune run deletes from a primary. Written before the\n"
"  -- DELETE is sent (deleted_at NULL) and confirmed after it, so a crash\n"
"  -- between the two leaves a row that says \"maybe deleted\": nothing a\n"
"  -- run removed can go unaccounted, and `restore --run` brings back every\n"
"  -- row of a run, confirmed or not.\n"
"  id            INTEGER PRIMARY KEY,\n"
"  run_id        INTEGER NOT NULL REFERENCES runs(id),\n"
"  repository_id INTEGER NOT NULL REFERENCES repositories(id),\n"
"  digest        TEXT NOT NULL,\n"
"  -- the tags it had when it was deleted (a digest delete removes them all)\n"
"  tags          TEXT NOT NULL CHECK (json_valid(tags)),\n"
"  reason        TEXT NOT NULL,      -- the plan's reason, for audits\n"
"  recorded_at   INTEGER NOT NULL,\n"
"  deleted_at    INTEGER,            -- NULL until the registry confirmed\n"
"  undone_at     INTEGER             -- set when restore --run brought it back\n"
");\n"
"CREATE INDEX deletions_by_run\n"
"  -- restore --run reads one run's rows\n"
"  ON deletions (run_id);\n"
"ALTER TABLE runs ADD COLUMN undone_at INTEGER;  -- restore --run marks the whole run\n"
"PRAGMA user_version = 2;\n";

struct migration {
	int version;
	const char *why;
	const char *sql;
};

static const struct migration migrations[] = {
	{ 1, "initial schema", migration_1 },
	{ 2, "deletion journal for restore --run", migration_2 },
};

#define N_MIGRATIONS (sizeof(migrations) / sizeof(migrations[0]))

int catalog_schema_latest(void)
{
	return migrations[N_MIGRATIONS - 1].version;
}

static int pragma_int(catalog *c, const char *sql, int *out)
{
	sqlite3_stmt *st = NULL;
	int rc = catalog_prepare(c, &st, sql);

	if (rc)
		goto done;
	if (sqlite3_step(st) != SQLITE_ROW) {
		rc = catalog_sql_error(c, "cannot read the schema version");
		goto done;
	}
	*out = sqlite3_column_int(st, 0);
done:
	sqlite3_finalize(st);
	return rc;
}

int catalog_schema_version(catalog *c, int *out)
{
	return pragma_int(c, "PRAGMA user_version", out);
}

/* A file we created has application_id set by migration 1; a fresh one
 * has nothing in it at all. Anything else belongs to someone else and must
 * not be "migrated" into a catalog. */
int catalog_schema_check_app(catalog *c, int version)
{
	int app = 0, tables = 0, rc;

	rc = pragma_int(c, "PRAGMA application_id", &app);
	if (!rc && version == 0)
		rc = pragma_int(c, "SELECT count(*) FROM sqlite_master", &tables);
	if (rc)
		return rc;
	if ((version > 0 && app != CATALOG_APP_ID) || (version == 0 && (app || tables)))
		return error_set(RV_EINVALID, "\"%s\" is not a regvault catalog", c->path);
	return 0;
}

static int run_migration(catalog *c, const struct migration *m)
{
	char *errmsg = NULL;
	int rc, version = 0;

	if (sqlite3_exec(c->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
		return catalog_sql_error(c, "cannot start migration %d", m->version);
	/* Re-read inside the transaction: this is the version we change. */
	rc = catalog_schema_version(c, &version);
	if (rc || version >= m->version)
		goto done;
	if (version != m->version - 1) {
		rc = error_set(RV_ERROR, "catalog \"%s\": schema version %d cannot be migrated to %d",
		               c->path, version, m->version);
		goto done;
	}
	if (sqlite3_exec(c->db, m->sql, NULL, NULL, &errmsg) != SQLITE_OK) {
		rc = catalog_sql_error(c, "migration %d (%s) failed", m->version, m->why);
		goto done;
	}
	rc = catalog_schema_version(c, &version);
	if (!rc && version != m->version)
		rc = error_set(RV_ERROR, "catalog \"%s\": migration %d left schema version %d",
		               c->path, m->version, version);
done:
	sqlite3_free(errmsg);
	if (!rc && sqlite3_exec(c->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
		rc = catalog_sql_error(c, "cannot commit migration %d", m->version);
	if (rc && !sqlite3_get_autocommit(c->db))
		sqlite3_exec(c->db, "ROLLBACK", NULL, NULL, NULL);
	return rc;
}

int catalog_schema_migrate(catalog *c)
{
	int version = 0, rc;

	rc = catalog_schema_version(c, &version);
	if (!rc)
		rc = catalog_schema_check_app(c, version);
	if (rc)
		return rc;
	if (version > catalog_schema_latest())
		return error_set(RV_EUNSUPPORTED,
		                 "catalog \"%s\" has schema version %d, newer than this regvault "
		                 "knows (%d): upgrade regvault", c->path, version,
		                 catalog_schema_latest());
	for (size_t i = 0; i < N_MIGRATIONS && !rc; i++)
		if (migrations[i].version > version)
			rc = run_migration(c, &migrations[i]);
	return rc;
}
