/*
 * cmd_catalog.c — `regvault catalog list|show|history|verify|rebuild`:
 * what the catalog knows, checked and rebuilt.
 *
 * Each subcommand gathers its result as the JSON document first and
 * renders text from that, so the two outputs cannot drift apart.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "backup/backup.h"
#include "catalog/catalog.h"
#include "cli/commands.h"
#include "cli/exitcode.h"
#include "cli/output.h"
#include "mirror/mirror.h"
#include "util/error.h"
#include "util/log.h"
#include "util/str.h"
#include "util/timeutil.h"
#include "util/banned.h"

const char cmd_catalog_help[] =
"NAME\n"
"    regvault catalog - list, show, check and rebuild what is kept where\n"
"\n"
"SYNOPSIS\n"
"    regvault catalog list [GLOB]\n"
"    regvault catalog show REF\n"
"    regvault catalog history HOST/REPO[:TAG]\n"
"    regvault catalog verify [--deep]\n"
"    regvault catalog rebuild --from DIR\n"
"\n"
"DESCRIPTION\n"
"    The catalog (--catalog) is what mirrors and backups recorded: every\n"
"    tag's digest over time, every manifest's exact bytes, and which store\n"
"    (a standby registry or an archive store) holds a verified copy of\n"
"    what; for an archive store also the volume and byte offset of every\n"
"    blob.\n"
"\n"
"    list [GLOB]\n"
"        One line per image a store holds: reference, digest (its first\n"
"        12 hex digits), total size (the manifest and everything it\n"
"        references), when it was stored (UTC) and the store; an image\n"
"        whose copy failed verification ends in '(no verified copy)'.\n"
"        GLOB matches HOST/REPO:TAG or HOST/REPO@DIGEST; '*' also\n"
"        matches '/'.\n"
"    show REF\n"
"        REF as it was named on the primary, HOST/REPO[:TAG] (the digest\n"
"        the tag had when a mirror or backup last saw it) or\n"
"        HOST/REPO@DIGEST: digest, media type, created, size, total size,\n"
"        how many manifests and blobs the image consists of, and every\n"
"        store with a verified copy of it, for an archive store with the\n"
"        volume and byte offset of the manifest.\n"
"    history HOST/REPO[:TAG]\n"
"        Every digest the tag pointed to, oldest first, with when a mirror\n"
"        or backup first and last saw it there (UTC).\n"
"    verify [--deep]\n"
"        Checks every copy the catalog records. In an archive store: its\n"
"        volume is there and holds the blob at the recorded offset. On a\n"
"        standby registry: every manifest of the image is read back and\n"
"        hashed, every blob is there with its size. A copy that fails is\n"
"        listed as FAILED (STORE DIGEST REASON, then the image on a\n"
"        standby) and dropped from the catalog, so that it no longer\n"
"        counts as a verified copy; the next mirror copies it again.\n"
"    rebuild --from DIR\n"
"        Recreates the catalog's knowledge of the archive store DIR from\n"
"        its volumes alone, re-hashing every blob. For safety it refuses\n"
"        (exit 3) when the catalog file exists already: move it away, or\n"
"        rebuild into a new file with --catalog NEW. A rebuild that fails\n"
"        removes the catalog file it created.\n"
"\n"
"    A tag left out means 'latest'. Results go to stdout; list and\n"
"    history print nothing for no match.\n"
"\n"
"OPTIONS\n"
"    --deep\n"
"        (verify) Also re-read every byte and check it hashes to its\n"
"        digest (a standby's blobs are downloaded).\n"
"    --from DIR\n"
"        (rebuild) The archive store to read.\n"
"\n"
"    The global options (regvault --help) apply too. With --output json:\n"
"      list     [{\"reference\", \"registry\", \"repository\", \"tag\",\n"
"               \"digest\", \"mediaType\", \"size\", \"totalSize\",\n"
"               \"created\", \"stored\", \"verified\", \"store\",\n"
"               \"storeKind\"}]\n"
"      show     {\"reference\", \"digest\", \"mediaType\", \"size\",\n"
"               \"totalSize\", \"objects\", \"created\", \"copies\":\n"
"               [{\"store\", \"storeKind\", \"volume\", \"offset\",\n"
"               \"length\"}]}\n"
"      history  [{\"digest\", \"firstSeen\", \"lastSeen\"}]\n"
"      verify   {\"checked\", \"bytesHashed\", \"failures\": [{\"store\",\n"
"               \"digest\", \"error\", \"ref\" (standby copies)}]}\n"
"      rebuild  {\"catalog\", \"from\", \"volumes\", \"blobs\", \"images\",\n"
"               \"bytes\", \"bad\"}\n"
"    Times are RFC 3339 in UTC (null when unknown), sizes in bytes.\n"
"\n"
"EXIT STATUS\n"
"    0 done; 1 the reference or tag is not in the catalog, there is no\n"
"    catalog yet, a copy failed verification, a blob did not hash to its\n"
"    name during rebuild, or the catalog or a store could not be read or\n"
"    written (or another run holds it); 2 bad usage or invalid\n"
"    reference; 3 rebuild refused because the catalog file exists.\n"
"\n"
"EXAMPLES\n"
"    regvault catalog list 'reg.example.com/team-a/*'\n"
"    regvault catalog show reg.example.com/team-a/api:1.4\n"
"    regvault catalog history reg.example.com/team-a/api:latest\n"
"    regvault catalog verify --deep\n"
"    regvault --catalog ./new.db catalog rebuild --from /srv/vault\n";

/* --- Shared ---------------------------------------------------------------- */

static int open_catalog(catalog **out, const struct cli_globals *g, unsigned flags)
{
	int rc;

	if (!g->catalog)
		return output_usage_error("catalog", "no catalog: pass --catalog PATH or set "
		                          "REGVAULT_CATALOG");
	rc = cli_catalog_open(out, g, flags);
	return rc == 0 ? RV_EXIT_OK : output_error(rc);
}

/* For writing, but only a catalog that exists: verify must not create an
 * empty one and then report that all of nothing is fine. */
static int open_existing(catalog **out, const struct cli_globals *g)
{
	struct stat st;

	if (g->catalog && stat(g->catalog, &st) != 0)
		return output_error(error_set(errno == ENOENT ? RV_ENOTFOUND : RV_ERROR,
		                              "cannot open catalog \"%s\": %s", g->catalog,
		                              strerror(errno)));
	return open_catalog(out, g, CATALOG_WRITE);
}

/* Parses argv of a subcommand that takes no options and at most max_args
 * arguments (into args[]), at least min_args. */
static int plain_args(int argc, char **argv, const char **args, int min_args, int max_args,
                      const char *missing)
{
	static const struct cli_option none[] = { { NULL, 0, 0, 0 } };
	struct cli_getopt p;
	const char *v;
	int opt, n = 0;

	cli_getopt_init(&p, "catalog", argc, argv);
	while ((opt = cli_getopt(&p, none, &v)) != CLI_GETOPT_END) {
		if (opt == CLI_GETOPT_ERROR)
			return RV_EXIT_USAGE;
		if (n == max_args)
			return output_usage_error("catalog", "unexpected argument '%s'", v);
		args[n++] = v;
	}
	if (n < min_args)
		return output_usage_error("catalog", "%s", missing);
	return RV_EXIT_OK;
}

/* RFC 3339 string, or JSON null for 0 (unknown). */
static json_t *time_json(int64_t t)
{
	char ts[32];

	return t > 0 ? json_string(time_format_rfc3339(t, ts, sizeof(ts))) : json_null();
}

static const char *jstr(const json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s ? s : "-";
}

static int64_t jint(const json_t *o, const char *key)
{
	return (int64_t)json_integer_value(json_object_get(o, key));
}

static const char *human(int64_t n, char *out, size_t len)
{
	return str_human_bytes(n, out, len);
}

/* "sha256:0123456789ab…" → "0123456789ab" */
static void short_digest(char out[13], const char *digest)
{
	const char *hex = strchr(digest, ':');

	snprintf(out, 13, "%s", hex ? hex + 1 : digest);
}

/* --- list ------------------------------------------------------------------ */

static int list_entry(const struct catalog_entry *e, void *ctx)
{
	char *ref = e->tag ? xasprintf("%s/%s:%s", e->registry, e->repository, e->tag)
	                   : xasprintf("%s/%s@%s", e->registry, e->repository, e->digest);

	json_array_append_new(ctx, json_pack(
		"{s:s,s:s,s:s,s:o,s:s,s:s,s:I,s:I,s:o,s:o,s:o,s:s,s:s}",
		"reference", ref, "registry", e->registry, "repository", e->repository,
		"tag", e->tag ? json_string(e->tag) : json_null(), "digest", e->digest,
		"mediaType", e->media_type, "size", (json_int_t)e->size,
		"totalSize", (json_int_t)e->total_size, "created", time_json(e->created),
		"stored", time_json(e->stored_at), "verified", time_json(e->verified_at),
		"store", e->store, "storeKind", e->store_kind));
	free(ref);
	return 0;
}

static void list_text(const json_t *rows)
{
	char dg[13], sz[32];
	int width = 0;
	size_t i;
	json_t *r;

	json_array_foreach(rows, i, r)
		if ((int)strlen(jstr(r, "reference")) > width)
			width = (int)strlen(jstr(r, "reference"));
	json_array_foreach(rows, i, r) {
		short_digest(dg, jstr(r, "digest"));
		/* An entry whose copy failed verification stays listed (the
		 * store still names it) but must not look restorable. */
		printf("%-*s  %s  %8s  %s  %s%s\n", width, jstr(r, "reference"), dg,
		       human(jint(r, "totalSize"), sz, sizeof(sz)), jstr(r, "stored"),
		       jstr(r, "store"), json_is_null(json_object_get(r, "verified"))
		                         ? "  (no verified copy)" : "");
	}
}

static int sub_list(int argc, char **argv, const struct cli_globals *g)
{
	const char *glob = NULL;
	catalog *cat = NULL;
	json_t *rows = NULL;
	int rc, status = plain_args(argc, argv, &glob, 0, 1, "");

	if (status == RV_EXIT_OK)
		status = open_catalog(&cat, g, CATALOG_READ);
	if (status != RV_EXIT_OK)
		goto done;
	rows = json_array();
	rc = catalog_entries(cat, glob, list_entry, rows);
	if (rc != 0) {
		status = output_error(rc);
	} else if (output_is_json()) {
		status = output_json(rows);
		rows = NULL;
	} else {
		if (glob && json_array_size(rows) == 0)
			log_warn("nothing in the catalog matches \"%s\"", glob);
		list_text(rows);
	}
done:
	json_decref(rows);
	catalog_close(cat);
	return status;
}

/* --- show ------------------------------------------------------------------ */

struct closure_sum {
	size_t objects;
	int64_t bytes;
};

static int add_to_closure(const char *digest, int64_t size, int is_manifest, void *ctx)
{
	struct closure_sum *s = ctx;

	(void)digest;
	(void)is_manifest;
	s->objects++;
	s->bytes += size > 0 ? size : 0;
	return 0;
}

struct copies_of {
	const char *digest;
	json_t *copies;
};

static int copy_of(const struct catalog_copy *cp, void *ctx)
{
	struct copies_of *w = ctx;
	json_t *o;

	if (strcmp(cp->digest, w->digest) != 0)
		return 0;
	o = json_pack("{s:s,s:s}", "store", cp->store, "storeKind", cp->store_kind);
	if (cp->location)
		json_object_update_new(o, json_pack("{s:s,s:I,s:I}", "volume", cp->location->volume,
		                                    "offset", (json_int_t)cp->location->offset,
		                                    "length", (json_int_t)cp->location->length));
	json_array_append_new(w->copies, o);
	return 0;
}

/* The facts about digest as one JSON object (*out), or an RV_E* code. */
static int show_gather(catalog *cat, const char *reference, const char *digest, json_t **out)
{
	struct oci_manifest *m = NULL;
	struct closure_sum sum = { 0, 0 };
	struct copies_of w = { digest, json_array() };
	int64_t created = 0;
	int rc = catalog_manifest_get(cat, digest, &m);

	if (rc == 0)
		rc = catalog_manifest_created(cat, digest, &created);
	if (rc == 0)
		rc = catalog_copies(cat, 0, copy_of, &w);
	if (rc != 0) {
		json_decref(w.copies);
		oci_manifest_free(m);
		return rc;
	}
	*out = json_pack("{s:s,s:s,s:s,s:I,s:o,s:o}", "reference", reference, "digest", digest,
	                 "mediaType", m->media_type, "size", (json_int_t)m->raw_len,
	                 "created", time_json(created), "copies", w.copies);
	/* An index backed up for some platforms only has children the catalog
	 * lacks: no total then, rather than a total that looks complete. */
	if (catalog_closure(cat, digest, add_to_closure, &sum) == 0) {
		json_object_set_new(*out, "objects", json_integer((json_int_t)sum.objects + 1));
		json_object_set_new(*out, "totalSize",
		                    json_integer((json_int_t)(sum.bytes + (int64_t)m->raw_len)));
	} else {
		log_warn("%s", error_msg());
	}
	oci_manifest_free(m);
	return 0;
}

static void field(const char *label, const char *value)
{
	printf("%s:%*s%s\n", label, (int)(12 - strlen(label)), "", value);
}

static void show_text(const json_t *o)
{
	const json_t *copies = json_object_get(o, "copies"), *cp;
	char sz[32], line[128];
	size_t i;

	field("Reference", jstr(o, "reference"));
	field("Digest", jstr(o, "digest"));
	field("Media type", jstr(o, "mediaType"));
	field("Created", jstr(o, "created"));
	field("Size", human(jint(o, "size"), sz, sizeof(sz)));
	if (json_object_get(o, "totalSize")) {
		snprintf(line, sizeof(line), "%s (%lld objects)",
		         human(jint(o, "totalSize"), sz, sizeof(sz)), (long long)jint(o, "objects"));
		field("Total size", line);
	}
	if (json_array_size(copies))
		printf("Copies:\n");
	else
		field("Copies", "none");
	json_array_foreach(copies, i, cp) {
		printf("  %s  %s", jstr(cp, "storeKind"), jstr(cp, "store"));
		if (json_object_get(cp, "volume"))
			printf("  %s  offset %lld", jstr(cp, "volume"), (long long)jint(cp, "offset"));
		putchar('\n');
	}
}

static int sub_show(int argc, char **argv, const struct cli_globals *g)
{
	struct oci_ref ref = OCI_REF_INIT;
	char digest[OCI_DIGEST_MAX] = "", *name = NULL;
	const char *arg = NULL;
	catalog *cat = NULL;
	json_t *doc = NULL;
	int rc, status = plain_args(argc, argv, &arg, 1, 1, "missing REF");

	if (status != RV_EXIT_OK)
		goto done;
	rc = oci_ref_parse(&ref, arg, OCI_REF_DEFAULT_TAG);
	if (rc != 0) {
		status = output_error(rc);
		goto done;
	}
	if ((status = open_catalog(&cat, g, CATALOG_READ)) != RV_EXIT_OK)
		goto done;
	name = oci_ref_string(&ref);
	if (ref.digest)
		snprintf(digest, sizeof(digest), "%s", ref.digest);
	rc = ref.digest ? 0 : catalog_tag_resolve(cat, ref.registry, ref.repository, ref.tag, 0,
	                                          digest);
	if (rc == 0)
		rc = show_gather(cat, name, digest, &doc);
	if (rc != 0)
		status = output_error(rc);
	else if (output_is_json()) {
		status = output_json(doc);
		doc = NULL;
	} else
		show_text(doc);
done:
	json_decref(doc);
	free(name);
	catalog_close(cat);
	oci_ref_release(&ref);
	return status;
}

/* --- history --------------------------------------------------------------- */

static int sub_history(int argc, char **argv, const struct cli_globals *g)
{
	struct oci_ref ref = OCI_REF_INIT;
	struct catalog_tag_event *ev = NULL;
	const char *arg = NULL;
	catalog *cat = NULL;
	json_t *rows = NULL, *r;
	size_t n = 0, i;
	int rc, status = plain_args(argc, argv, &arg, 1, 1, "missing HOST/REPO:TAG");

	if (status != RV_EXIT_OK)
		goto done;
	rc = oci_ref_parse(&ref, arg, OCI_REF_DEFAULT_TAG);
	if (rc != 0) {
		status = output_error(rc);
		goto done;
	}
	if (ref.digest) {
		status = output_usage_error("catalog", "history follows a tag: name it as "
		                            "HOST/REPO:TAG, not by digest");
		goto done;
	}
	if ((status = open_catalog(&cat, g, CATALOG_READ)) != RV_EXIT_OK)
		goto done;
	rc = catalog_tag_history(cat, ref.registry, ref.repository, ref.tag, &ev, &n);
	if (rc != 0) {
		status = output_error(rc);
		goto done;
	}
	rows = json_array();
	for (i = 0; i < n; i++)
		json_array_append_new(rows, json_pack("{s:s,s:o,s:o}", "digest", ev[i].digest,
		                      "firstSeen", time_json(ev[i].first_seen),
		                      "lastSeen", time_json(ev[i].last_seen)));
	if (output_is_json()) {
		status = output_json(rows);
		rows = NULL;
	} else {
		json_array_foreach(rows, i, r)
			printf("%s  %s  %s\n", jstr(r, "digest"), jstr(r, "firstSeen"),
			       jstr(r, "lastSeen"));
	}
done:
	json_decref(rows);
	free(ev);
	catalog_close(cat);
	oci_ref_release(&ref);
	return status;
}

/* --- verify ---------------------------------------------------------------- */

/* Archive copies (backup_verify) and registry copies (mirror_verify) are
 * reported as one list: the same failure shape, "ref" added where the
 * copy is an image on a standby. */
struct verify_both {
	struct verify_report archive;
	struct mirror_verify_report registry;
};

static json_t *failure_json(const char *store, const char *ref, const char *digest, int rc,
                            const char *msg)
{
	json_t *o = json_pack("{s:s,s:s,s:{s:s,s:s}}", "store", store, "digest", digest,
	                      "error", "code", error_code_name(rc), "message",
	                      msg ? msg : "failed");

	if (ref)
		json_object_set_new(o, "ref", json_string(ref));
	return o;
}

static json_t *verify_json(const struct verify_both *r)
{
	json_t *failures = json_array();
	size_t i;

	for (i = 0; i < r->archive.n_failures; i++) {
		const struct verify_failure *f = &r->archive.failures[i];

		json_array_append_new(failures, failure_json(f->store, NULL, f->digest, f->rc,
		                                             f->msg));
	}
	for (i = 0; i < r->registry.n_failures; i++) {
		const struct mirror_verify_failure *f = &r->registry.failures[i];

		json_array_append_new(failures, failure_json(f->store, f->ref, f->digest, f->rc,
		                                             f->msg));
	}
	return json_pack("{s:I,s:I,s:o}", "checked",
	                 (json_int_t)(r->archive.checked + r->registry.objects), "bytesHashed",
	                 (json_int_t)(r->archive.bytes_hashed + r->registry.bytes_hashed),
	                 "failures", failures);
}

static void verify_text(const struct verify_both *r, int deep)
{
	size_t checked = r->archive.checked + r->registry.objects;
	size_t failed = r->archive.n_failures + r->registry.n_failures;
	char sz[32], msg[1024];
	size_t i;

	for (i = 0; i < r->archive.n_failures; i++) {
		const struct verify_failure *f = &r->archive.failures[i];

		printf("FAILED  %s  %s  %s\n", f->store, f->digest,
		       str_printable(msg, sizeof(msg), f->msg ? f->msg : "failed"));
	}
	for (i = 0; i < r->registry.n_failures; i++) {
		const struct mirror_verify_failure *f = &r->registry.failures[i];

		printf("FAILED  %s  %s  %s", f->store, f->digest,
		       str_printable(msg, sizeof(msg), f->msg ? f->msg : "failed"));
		printf(f->ref ? "  (%s)\n" : "\n", str_printable(msg, sizeof(msg), f->ref ? f->ref : ""));
	}
	if (failed)
		printf("verify: %zu copies checked, %zu failed (dropped from the catalog)\n",
		       checked, failed);
	else if (deep)
		printf("verified %zu copies (%s hashed)\n", checked,
		       human(r->archive.bytes_hashed + r->registry.bytes_hashed, sz, sizeof(sz)));
	else
		printf("verified %zu copies (locations checked; --deep also re-hashes)\n", checked);
}

/* Both checks run (a failure in one must not hide the other's); the
 * result is RV_EDIGEST when either found failures, or the first code
 * that stopped a check from running. */
static int verify_all(catalog *cat, const struct cli_globals *g, int deep,
                      struct verify_both *r)
{
	registry_session *session = NULL;
	int arc = backup_verify(cat, deep, &r->archive), mrc;

	if (arc != 0 && !(arc == RV_EDIGEST && r->archive.n_failures > 0))
		return arc;
	mrc = cli_session_new(&session, g);
	if (mrc == 0)
		mrc = mirror_verify(cat, session, deep, &r->registry);
	registry_session_free(session);
	if (mrc != 0 && !(mrc == RV_EDIGEST && r->registry.n_failures > 0))
		return mrc;
	if (arc != 0 && mrc != 0)
		return error_set(RV_EDIGEST, "%zu archive copies and %zu mirrored copies failed "
		                 "verification", r->archive.n_failures, r->registry.n_failures);
	if (arc != 0)   /* mirror_verify succeeded after it: say it again */
		return error_set(RV_EDIGEST, "%zu of %zu archive copies failed verification",
		                 r->archive.n_failures, r->archive.checked);
	return mrc;
}

enum { OPT_DEEP = 1, OPT_FROM };

static const struct cli_option catalog_options[] = {
	{ "deep", 0, 0, OPT_DEEP },
	{ "from", 0, 1, OPT_FROM },
	{ NULL, 0, 0, 0 },
};

/* Options of verify (--deep) and rebuild (--from); `allowed` is the one
 * the subcommand takes. No positional arguments. */
static int option_args(int argc, char **argv, int allowed, const char **value)
{
	struct cli_getopt p;
	const char *v;
	int opt;

	cli_getopt_init(&p, "catalog", argc, argv);
	while ((opt = cli_getopt(&p, catalog_options, &v)) != CLI_GETOPT_END) {
		if (opt == CLI_GETOPT_ERROR)
			return RV_EXIT_USAGE;
		if (opt == CLI_GETOPT_ARG)
			return output_usage_error("catalog", "unexpected argument '%s'", v);
		if (opt != allowed)
			return output_usage_error("catalog", "option '--%s' is not an option of "
			                          "'catalog %s'", catalog_options[opt - 1].long_name,
			                          argv[0]);
		*value = v ? v : "";
	}
	return RV_EXIT_OK;
}

static int sub_verify(int argc, char **argv, const struct cli_globals *g)
{
	struct verify_both rep = { { 0 }, { 0 } };
	const char *deep = NULL;
	catalog *cat = NULL;
	int rc, status = option_args(argc, argv, OPT_DEEP, &deep);

	if (status == RV_EXIT_OK)
		status = open_existing(&cat, g);
	if (status != RV_EXIT_OK)
		goto done;
	rc = verify_all(cat, g, deep != NULL, &rep);
	if (rc != 0 && !(rc == RV_EDIGEST &&
	                 rep.archive.n_failures + rep.registry.n_failures > 0)) {
		status = output_error(rc);
	} else if (output_is_json()) {
		status = output_json(verify_json(&rep));
		if (rc != 0)
			status = RV_EXIT_FAILURE;
	} else {
		verify_text(&rep, deep != NULL);
		status = rc == 0 ? RV_EXIT_OK : output_error(rc);
	}
done:
	verify_report_release(&rep.archive);
	mirror_verify_report_release(&rep.registry);
	catalog_close(cat);
	return status;
}

/* --- rebuild --------------------------------------------------------------- */

/* Removes the catalog a failed rebuild created (it did not exist before),
 * and its lock file when that was new too. */
static void remove_new_catalog(const char *path, int lock_was_there)
{
	static const char *const ext[] = { "", "-wal", "-shm", "-journal", ".lock" };
	size_t n = sizeof(ext) / sizeof(ext[0]) - (lock_was_there ? 1 : 0);

	for (size_t i = 0; i < n; i++) {
		char *p = xasprintf("%s%s", path, ext[i]);

		if (unlink(p) != 0 && errno != ENOENT)
			log_warn("cannot remove \"%s\": %s", p, strerror(errno));
		free(p);
	}
}

static int rebuild_print(const struct rebuild_report *r, const char *path, const char *from)
{
	char sz[32];

	if (output_is_json())
		return output_json(json_pack("{s:s,s:s,s:I,s:I,s:I,s:I,s:I}", "catalog", path,
		                             "from", from, "volumes", (json_int_t)r->volumes,
		                             "blobs", (json_int_t)r->blobs,
		                             "images", (json_int_t)r->images,
		                             "bytes", (json_int_t)r->bytes, "bad", (json_int_t)r->bad));
	printf("rebuilt %s from %s: %zu volumes, %zu blobs (%s), %zu images\n", path, from,
	       r->volumes, r->blobs, human(r->bytes, sz, sizeof(sz)), r->images);
	return RV_EXIT_OK;
}

static int sub_rebuild(int argc, char **argv, const struct cli_globals *g)
{
	struct rebuild_report rep = { 0 };
	const char *from = NULL;
	catalog *cat = NULL;
	struct stat st;
	char *lock;
	int lock_was_there, rc, status = option_args(argc, argv, OPT_FROM, &from);

	if (status != RV_EXIT_OK)
		return status;
	if (!from || !*from)
		return output_usage_error("catalog", "missing --from DIR");
	if (g->catalog && lstat(g->catalog, &st) == 0) {
		/* Mixing a rebuild into a catalog that already knows things
		 * could make it claim copies it no longer has. */
		output_error(error_set(RV_EEXISTS, "catalog \"%s\" exists: refused for safety; "
		                       "move it away, or rebuild into a new file with "
		                       "--catalog NEW", g->catalog));
		return RV_EXIT_REFUSED;
	}
	lock = g->catalog ? xasprintf("%s.lock", g->catalog) : NULL;
	lock_was_there = lock && lstat(lock, &st) == 0;
	free(lock);
	if ((status = open_catalog(&cat, g, CATALOG_WRITE)) != RV_EXIT_OK)
		return status;
	rc = backup_rebuild(cat, from, &rep);
	catalog_close(cat);
	if (rc != 0) {
		status = output_error(rc);
		remove_new_catalog(g->catalog, lock_was_there);
		return status;
	}
	status = rebuild_print(&rep, g->catalog, from);
	if (rep.bad == 0)
		return status;
	rc = error_set(RV_EDIGEST, "%zu blobs in \"%s\" do not hash to their names and were "
	               "not recorded", rep.bad, from);
	return output_is_json() ? RV_EXIT_FAILURE : output_error(rc);
}

/* --- Dispatch -------------------------------------------------------------- */

static const struct {
	const char *name;
	cli_command_fn fn;
} subcommands[] = {
	{ "list", sub_list },
	{ "show", sub_show },
	{ "history", sub_history },
	{ "verify", sub_verify },
	{ "rebuild", sub_rebuild },
};

int cmd_catalog(int argc, char **argv, const struct cli_globals *g)
{
	static const struct cli_option none[] = { { NULL, 0, 0, 0 } };
	struct cli_getopt p;
	const char *v;
	size_t i;

	cli_getopt_init(&p, "catalog", argc, argv);
	switch (cli_getopt(&p, none, &v)) {
	case CLI_GETOPT_ERROR:
		return RV_EXIT_USAGE;
	case CLI_GETOPT_END:
		return output_usage_error("catalog", "missing subcommand: list, show, history, "
		                          "verify or rebuild");
	}
	for (i = 0; i < sizeof(subcommands) / sizeof(subcommands[0]); i++)
		if (!strcmp(subcommands[i].name, v))
			return subcommands[i].fn(argc - (p.i - 1), argv + (p.i - 1), g);
	return output_usage_error("catalog", "unknown subcommand '%s': expected list, show, "
	                          "history, verify or rebuild", v);
}
