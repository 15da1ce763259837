/*
 * manifests.c — manifests by digest, the descriptors they hold, and the
 * closure of an image (everything it needs to be restorable).
 *
 * Bytes are sacred (invariant 5): a manifest is stored exactly as parsed
 * from the registry and checked against its digest both on the way in and
 * on the way out, so a damaged catalog can never hand out wrong bytes.
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

/* The graph below a manifest: ?1 is the root (role 'root'); children are
 * followed (nested indexes too), subjects never (a referrer's subject is
 * not part of it). UNION keeps each (digest, role, size) once, which also
 * ends any cycle a forged catalog could hold. */
#define WALK_CTE \
	"WITH RECURSIVE walk(digest, role, size) AS (" \
	"  SELECT ?1, 'root', 0" \
	"  UNION" \
	"  SELECT r.digest, r.role, r.size FROM walk w" \
	"  JOIN manifest_refs r ON r.manifest = w.digest" \
	"  WHERE w.role IN ('root', 'child') AND r.role <> 'subject'" \
	") "

/* Per digest: size (the stored bytes of a manifest, the blobs table for a
 * blob, else what the descriptor said), whether it is a manifest, and
 * whether it is a child manifest the catalog does not have. */
#define WALK_ROWS \
	"SELECT w.digest, max(w.role = 'child') AS is_manifest, " \
	"  coalesce(m.size, b.size, max(w.size)) AS size, " \
	"  max(w.role = 'child' AND m.digest IS NULL) AS missing " \
	"FROM walk w LEFT JOIN manifests m ON m.digest = w.digest " \
	"LEFT JOIN blobs b ON b.digest = w.digest "

/* --- Put ---------------------------------------------------------------------- */

struct ref_stmts {
	sqlite3_stmt *ref;
	sqlite3_stmt *blob;
	const char *manifest;
	int position;
};

static int add_ref(catalog *c, struct ref_stmts *s, const char *role,
                   const struct oci_descriptor *d, int is_blob)
{
	const char *mt = d->media_type ? d->media_type : "";
	int rc;

	sqlite3_reset(s->ref);
	catalog_bind_text(s->ref, 1, s->manifest);
	sqlite3_bind_int(s->ref, 2, s->position++);
	catalog_bind_text(s->ref, 3, role);
	catalog_bind_text(s->ref, 4, d->digest);
	catalog_bind_text(s->ref, 5, mt);
	sqlite3_bind_int64(s->ref, 6, d->size);
	rc = catalog_step_done(c, s->ref, "record a manifest reference");
	if (rc || !is_blob)
		return rc;
	/* A blob's first manifest defines its size and media type; a later
	 * one claiming another size is wrong, and its copy fails on size. */
	sqlite3_reset(s->blob);
	catalog_bind_text(s->blob, 1, d->digest);
	sqlite3_bind_int64(s->blob, 2, d->size);
	catalog_bind_text(s->blob, 3, mt);
	return catalog_step_done(c, s->blob, "record a blob");
}

/* In document order: an index's children, an image's config then layers,
 * then the subject of either. */
static int put_refs(catalog *c, const struct oci_manifest *m)
{
	struct ref_stmts s = { NULL, NULL, m->digest, 0 };
	int rc = catalog_prepare(c, &s.ref,
		"INSERT INTO manifest_refs (manifest, position, role, digest, media_type, size) "
		"VALUES (?1, ?2, ?3, ?4, ?5, ?6)");

	if (!rc)
		rc = catalog_prepare(c, &s.blob,
			"INSERT OR IGNORE INTO blobs (digest, size, media_type) VALUES (?1, ?2, ?3)");
	for (size_t i = 0; !rc && m->kind == OCI_KIND_INDEX && i < m->n_manifests; i++)
		rc = add_ref(c, &s, "child", &m->manifests[i], 0);
	if (!rc && m->kind == OCI_KIND_IMAGE && m->config.digest[0])
		rc = add_ref(c, &s, "config", &m->config, 1);
	for (size_t i = 0; !rc && m->kind == OCI_KIND_IMAGE && i < m->n_layers; i++)
		rc = add_ref(c, &s, "layer", &m->layers[i], 1);
	if (!rc && m->subject)
		rc = add_ref(c, &s, "subject", m->subject, 0);
	sqlite3_finalize(s.ref);
	sqlite3_finalize(s.blob);
	return rc;
}

/* Inserts the manifest row; *inserted is 0 when the digest was there. A
 * known digest only learns its created time when it had none. */
static int put_row(catalog *c, const struct oci_manifest *m, int64_t created, int *inserted)
{
	sqlite3_stmt *st = NULL;
	int rc = catalog_prepare(c, &st,
		"INSERT OR IGNORE INTO manifests (digest, media_type, size, raw, created, first_seen) "
		"VALUES (?1, ?2, ?3, ?4, ?5, ?6)");

	if (rc)
		goto done;
	catalog_bind_text(st, 1, m->digest);
	catalog_bind_text(st, 2, m->media_type ? m->media_type : "");
	sqlite3_bind_int64(st, 3, (sqlite3_int64)m->raw_len);
	sqlite3_bind_blob64(st, 4, m->raw, m->raw_len, SQLITE_STATIC);
	sqlite3_bind_int64(st, 5, created);
	sqlite3_bind_int64(st, 6, time_now());
	rc = catalog_step_done(c, st, "store a manifest");
	*inserted = !rc && sqlite3_changes(c->db) > 0;
	if (rc || *inserted || !created)
		goto done;
	sqlite3_finalize(st);
	rc = catalog_prepare(c, &st, "UPDATE manifests SET created = ?2 "
	                             "WHERE digest = ?1 AND created = 0");
	if (rc)
		goto done;
	catalog_bind_text(st, 1, m->digest);
	sqlite3_bind_int64(st, 2, created);
	rc = catalog_step_done(c, st, "store a manifest's created time");
done:
	sqlite3_finalize(st);
	return rc;
}

static int put_repository(catalog *c, const char *digest, int64_t repo_id)
{
	sqlite3_stmt *st = NULL;
	int rc = catalog_prepare(c, &st,
		"INSERT OR IGNORE INTO manifest_repositories (digest, repository_id, first_seen) "
		"VALUES (?1, ?2, ?3)");

	if (!rc) {
		catalog_bind_text(st, 1, digest);
		sqlite3_bind_int64(st, 2, repo_id);
		sqlite3_bind_int64(st, 3, time_now());
		rc = catalog_step_done(c, st, "record a manifest's repository");
	}
	sqlite3_finalize(st);
	return rc;
}

int catalog_manifest_put(catalog *c, const char *registry, const char *repo,
                         const struct oci_manifest *m, int64_t created)
{
	struct catalog_op op;
	char what[OCI_DIGEST_MAX + 32];
	int64_t repo_id = 0;
	int inserted = 0, rc;

	if (!m || !m->raw)
		return error_set(RV_EINVALID, "catalog \"%s\": no manifest to store", c->path);
	/* Never store bytes that do not hash to their key. */
	snprintf(what, sizeof(what), "manifest \"%s\"", m->digest);
	rc = oci_digest_verify(m->digest, m->raw, m->raw_len, what);
	if (rc || (rc = catalog_op_begin(c, &op)))
		return rc;
	rc = catalog_repository_id(c, registry, repo, 1, &repo_id);
	if (!rc)
		rc = put_row(c, m, created, &inserted);
	if (!rc)
		rc = put_repository(c, m->digest, repo_id);
	if (!rc && inserted)
		rc = put_refs(c, m);
	return catalog_op_end(c, &op, rc);
}

/* --- Get ------------------------------------------------------------------------ */

static int manifest_not_found(catalog *c, const char *digest)
{
	return error_set(RV_ENOTFOUND, "manifest \"%s\" is not in catalog \"%s\"", digest, c->path);
}

int catalog_manifest_get(catalog *c, const char *digest, struct oci_manifest **out)
{
	sqlite3_stmt *st = NULL;
	char *what = NULL;
	const void *raw;
	size_t len;
	int rc = oci_digest_validate(digest);

	*out = NULL;
	if (!rc)
		rc = catalog_prepare(c, &st, "SELECT raw, media_type FROM manifests WHERE digest = ?1");
	if (rc)
		goto done;
	catalog_bind_text(st, 1, digest);
	switch (sqlite3_step(st)) {
	case SQLITE_ROW: break;
	case SQLITE_DONE: rc = manifest_not_found(c, digest); goto done;
	default: rc = catalog_sql_error(c, "cannot read manifest \"%s\"", digest); goto done;
	}
	raw = sqlite3_column_blob(st, 0);
	len = (size_t)sqlite3_column_bytes(st, 0);
	what = xasprintf("manifest \"%s\" in catalog \"%s\"", digest, c->path);
	rc = oci_digest_verify(digest, raw ? raw : "", len, what);
	if (!rc)
		rc = oci_manifest_parse(out, raw ? raw : "", len, catalog_column_text(st, 1));
	if (rc && rc != RV_EDIGEST)
		error_wrap(rc, "%s", what);
done:
	free(what);
	sqlite3_finalize(st);
	return rc;
}

int catalog_manifest_times(catalog *c, const char *digest, int64_t *created, int64_t *first_seen)
{
	sqlite3_stmt *st = NULL;
	int rc = oci_digest_validate(digest);

	*created = 0;
	if (first_seen)
		*first_seen = 0;
	if (!rc)
		rc = catalog_prepare(c, &st, "SELECT created, first_seen FROM manifests WHERE digest = ?1");
	if (rc)
		goto done;
	catalog_bind_text(st, 1, digest);
	switch (sqlite3_step(st)) {
	case SQLITE_ROW:
		*created = sqlite3_column_int64(st, 0);
		if (first_seen)
			*first_seen = sqlite3_column_int64(st, 1);
		break;
	case SQLITE_DONE: rc = manifest_not_found(c, digest); break;
	default: rc = catalog_sql_error(c, "cannot read manifest \"%s\"", digest);
	}
done:
	sqlite3_finalize(st);
	return rc;
}

int catalog_manifest_created(catalog *c, const char *digest, int64_t *out)
{
	return catalog_manifest_times(c, digest, out, NULL);
}

/* --- Closure and sizes ------------------------------------------------------------ */

static int have_manifest(catalog *c, const char *digest)
{
	sqlite3_stmt *st = NULL;
	int rc = oci_digest_validate(digest);

	if (!rc)
		rc = catalog_prepare(c, &st, "SELECT 1 FROM manifests WHERE digest = ?1");
	if (rc)
		goto done;
	catalog_bind_text(st, 1, digest);
	switch (sqlite3_step(st)) {
	case SQLITE_ROW: break;
	case SQLITE_DONE: rc = manifest_not_found(c, digest); break;
	default: rc = catalog_sql_error(c, "cannot read manifest \"%s\"", digest);
	}
done:
	sqlite3_finalize(st);
	return rc;
}

/* Missing children sort first, so the walk fails before fn sees anything:
 * an incomplete closure must never look complete to the caller. */
int catalog_closure(catalog *c, const char *digest, catalog_digest_fn fn, void *ctx)
{
	sqlite3_stmt *st = NULL;
	int s = SQLITE_DONE, rc = have_manifest(c, digest);

	if (!rc)
		rc = catalog_prepare(c, &st, WALK_CTE WALK_ROWS
		                     "WHERE w.role <> 'root' GROUP BY w.digest "
		                     "ORDER BY missing DESC, w.digest");
	if (rc)
		goto done;
	catalog_bind_text(st, 1, digest);
	while (!rc && (s = sqlite3_step(st)) == SQLITE_ROW) {
		const char *d = catalog_column_text(st, 0);

		if (sqlite3_column_int(st, 3)) {
			rc = error_set(RV_ENOTFOUND, "manifest \"%s\" (in \"%s\") is not in catalog \"%s\"",
			               d, digest, c->path);
			goto done;
		}
		rc = fn(d, sqlite3_column_int64(st, 2), sqlite3_column_int(st, 1), ctx);
	}
	if (!rc && s != SQLITE_DONE)
		rc = catalog_sql_error(c, "cannot walk manifest \"%s\"", digest);
done:
	sqlite3_finalize(st);
	return rc;
}

int catalog_total_size(catalog *c, const char *digest, int64_t *out)
{
	sqlite3_stmt *st = NULL;
	int rc = catalog_prepare(c, &st, WALK_CTE "SELECT coalesce(sum(size), 0) FROM ("
	                         WALK_ROWS "GROUP BY w.digest)");

	*out = 0;
	if (rc)
		goto done;
	catalog_bind_text(st, 1, digest);
	if (sqlite3_step(st) == SQLITE_ROW)
		*out = sqlite3_column_int64(st, 0);
	else
		rc = catalog_sql_error(c, "cannot size manifest \"%s\"", digest);
done:
	sqlite3_finalize(st);
	return rc;
}
