/*
 * history.c — what each tag of the primary pointed to, and when.
 *
 * A row is a stretch of time during which a tag pointed to one digest:
 * seeing the same digest again extends it (last_seen), a different digest
 * opens the next one. "The current row" is the one with the latest
 * first_seen (ties: the one written last).
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

int catalog_copy_digest(catalog *c, char out[OCI_DIGEST_MAX], const char *s)
{
	size_t n = strlen(s);

	if (n >= OCI_DIGEST_MAX)
		return error_set(RV_ERROR, "catalog \"%s\" is damaged: a %zu-byte digest", c->path, n);
	memcpy(out, s, n + 1);
	return 0;
}

static int check_tag_args(catalog *c, const char *tag, const char *digest)
{
	char q[160];

	if (!tag || !*tag)
		return error_set(RV_EINVALID, "catalog \"%s\": empty tag", c->path);
	if (digest && oci_digest_validate(digest))
		return error_wrap(error_code(), "catalog \"%s\": tag \"%s\"", c->path,
		                  str_printable(q, sizeof(q), tag));
	return 0;
}

/* The current row of the tag: its id and whether it names digest. */
static int current_row(catalog *c, int64_t repo_id, const char *tag, const char *digest,
                       int64_t *out_id, int *same)
{
	sqlite3_stmt *st = NULL;
	int rc = catalog_prepare(c, &st,
		"SELECT id, digest FROM tag_history WHERE repository_id = ?1 AND tag = ?2 "
		"ORDER BY first_seen DESC, id DESC LIMIT 1");

	*out_id = 0;
	*same = 0;
	if (rc)
		goto done;
	sqlite3_bind_int64(st, 1, repo_id);
	catalog_bind_text(st, 2, tag);
	switch (sqlite3_step(st)) {
	case SQLITE_ROW:
		*out_id = sqlite3_column_int64(st, 0);
		*same = strcmp(catalog_column_text(st, 1), digest) == 0;
		break;
	case SQLITE_DONE:
		break;
	default:
		rc = catalog_sql_error(c, "cannot read tag history");
	}
done:
	sqlite3_finalize(st);
	return rc;
}

static int extend_row(catalog *c, int64_t row, int64_t when, int64_t run_id)
{
	sqlite3_stmt *st = NULL;
	int rc = catalog_prepare(c, &st,
		"UPDATE tag_history SET last_seen = max(last_seen, ?2), "
		"first_seen = min(first_seen, ?2), last_run_id = coalesce(?3, last_run_id) "
		"WHERE id = ?1");

	if (!rc) {
		sqlite3_bind_int64(st, 1, row);
		sqlite3_bind_int64(st, 2, when);
		catalog_bind_run(st, 3, run_id);
		rc = catalog_step_done(c, st, "extend tag history");
	}
	sqlite3_finalize(st);
	return rc;
}

static int open_row(catalog *c, int64_t repo_id, const char *tag, const char *digest,
                    int64_t when, int64_t run_id)
{
	sqlite3_stmt *st = NULL;
	int rc = catalog_prepare(c, &st,
		"INSERT INTO tag_history (repository_id, tag, digest, first_seen, last_seen, "
		"run_id, last_run_id) VALUES (?1, ?2, ?3, ?4, ?4, ?5, ?5)");

	if (!rc) {
		sqlite3_bind_int64(st, 1, repo_id);
		catalog_bind_text(st, 2, tag);
		catalog_bind_text(st, 3, digest);
		sqlite3_bind_int64(st, 4, when);
		catalog_bind_run(st, 5, run_id);
		rc = catalog_step_done(c, st, "record tag history");
	}
	sqlite3_finalize(st);
	return rc;
}

int catalog_tag_seen(catalog *c, const char *registry, const char *repo, const char *tag,
                     const char *digest, int64_t when, int64_t run_id)
{
	struct catalog_op op;
	int64_t repo_id = 0, row = 0;
	int same = 0, rc = check_tag_args(c, tag, digest);

	if (rc || (rc = catalog_op_begin(c, &op)))
		return rc;
	rc = catalog_repository_id(c, registry, repo, 1, &repo_id);
	if (!rc)
		rc = current_row(c, repo_id, tag, digest, &row, &same);
	if (!rc && same)
		rc = extend_row(c, row, when, run_id);
	else if (!rc)
		rc = open_row(c, repo_id, tag, digest, when, run_id);
	return catalog_op_end(c, &op, rc);
}

static int tag_not_found(catalog *c, const char *registry, const char *repo, const char *tag,
                         int64_t at)
{
	char name[512], t[32];

	catalog_ref_name(name, sizeof(name), registry, repo, tag, NULL);
	if (at)
		return error_set(RV_ENOTFOUND, "tag \"%s\" was not seen at or before %s "
		                 "(catalog \"%s\")", name, time_format_rfc3339(at, t, sizeof(t)),
		                 c->path);
	return error_set(RV_ENOTFOUND, "tag \"%s\" is not in catalog \"%s\"", name, c->path);
}

int catalog_tag_resolve(catalog *c, const char *registry, const char *repo, const char *tag,
                        int64_t at, char out_digest[OCI_DIGEST_MAX])
{
	sqlite3_stmt *st = NULL;
	int64_t repo_id = 0;
	int rc = check_tag_args(c, tag, NULL);

	if (!rc)
		rc = catalog_repository_id(c, registry, repo, 0, &repo_id);
	if (rc == RV_ENOTFOUND)
		rc = tag_not_found(c, registry, repo, tag, at);
	if (rc)
		goto done;
	rc = catalog_prepare(c, &st,
		"SELECT digest FROM tag_history WHERE repository_id = ?1 AND tag = ?2 "
		"AND (?3 = 0 OR first_seen <= ?3) ORDER BY first_seen DESC, id DESC LIMIT 1");
	if (rc)
		goto done;
	sqlite3_bind_int64(st, 1, repo_id);
	catalog_bind_text(st, 2, tag);
	sqlite3_bind_int64(st, 3, at);
	switch (sqlite3_step(st)) {
	case SQLITE_ROW: rc = catalog_copy_digest(c, out_digest, catalog_column_text(st, 0)); break;
	case SQLITE_DONE: rc = tag_not_found(c, registry, repo, tag, at); break;
	default: rc = catalog_sql_error(c, "cannot read tag history");
	}
done:
	sqlite3_finalize(st);
	return rc;
}

static int read_history(catalog *c, sqlite3_stmt *st, struct catalog_tag_event **out, size_t *n)
{
	size_t alloc = 0;
	int s, rc = 0;

	while ((s = sqlite3_step(st)) == SQLITE_ROW) {
		struct catalog_tag_event *e;

		*out = xgrow(*out, sizeof(**out), *n + 1, &alloc);
		e = &(*out)[*n];
		rc = catalog_copy_digest(c, e->digest, catalog_column_text(st, 0));
		if (rc)
			return rc;
		e->first_seen = sqlite3_column_int64(st, 1);
		e->last_seen = sqlite3_column_int64(st, 2);
		(*n)++;
	}
	if (s != SQLITE_DONE)
		return catalog_sql_error(c, "cannot read tag history");
	return 0;
}

int catalog_tag_history(catalog *c, const char *registry, const char *repo, const char *tag,
                        struct catalog_tag_event **out, size_t *n)
{
	sqlite3_stmt *st = NULL;
	int64_t repo_id = 0;
	int rc = check_tag_args(c, tag, NULL);

	*out = NULL;
	*n = 0;
	if (!rc)
		rc = catalog_repository_id(c, registry, repo, 0, &repo_id);
	if (!rc)
		rc = catalog_prepare(c, &st,
			"SELECT digest, first_seen, last_seen FROM tag_history "
			"WHERE repository_id = ?1 AND tag = ?2 ORDER BY first_seen, id");
	if (rc)
		goto done;
	sqlite3_bind_int64(st, 1, repo_id);
	catalog_bind_text(st, 2, tag);
	rc = read_history(c, st, out, n);
	if (!rc && *n == 0)
		rc = RV_ENOTFOUND;
done:
	if (rc == RV_ENOTFOUND)
		rc = tag_not_found(c, registry, repo, tag, 0);
	if (rc) {
		free(*out);
		*out = NULL;
		*n = 0;
	}
	sqlite3_finalize(st);
	return rc;
}
