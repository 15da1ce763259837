/*
 * cmd_catalog.c — `regvault catalog list|show|history|verify|rebuild|usage`:
 * the help text, the dispatch, what the subcommands share (catalog_sub.h)
 * and the small ones: what the catalog knows (list, show, history) and
 * rebuilding it from an archive store. verify and its drill are in
 * cmd_catalog_verify.c, usage in cmd_catalog_usage.c.
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
#include "cli/catalog_sub.h"
#include "cli/commands.h"
#include "cli/exitcode.h"
#include "cli/output.h"
#include "util/error.h"
#include "util/log.h"
#include "util/str.h"
#include "util/timeutil.h"
#include "util/banned.h"

const char cmd_catalog_help[] =
"NAME\n"
"    regvault catalog - what is kept where, checked, drilled, rebuilt;\n"
"    what the registry stores\n"
"\n"
"SYNOPSIS\n"
"    regvault catalog list [GLOB]\n"
"    regvault catalog show REF\n"
"    regvault catalog history HOST/REPO[:TAG]\n"
"    regvault catalog verify [--deep]\n"
"    regvault catalog verify --drill N --to HOST[:PORT] [--seed S]\n"
"    regvault catalog rebuild --from DIR\n"
"    regvault catalog usage HOST[:PORT][/REPO] [--policy FILE]\n"
"                           [--price-per-gb-month PRICE]\n"
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
"    verify --drill N --to HOST[:PORT]\n"
"        A restore drill, instead of the checks above: from every place\n"
"        copies are kept (each archive store and standby registry the\n"
"        catalog knows), N images chosen at random are restored from that\n"
"        place alone into the scratch registry HOST[:PORT], under\n"
"        regvault-drill/<run>/<place>/<repository> (new repositories, so\n"
"        every blob really travels), by digest. Each is then pulled back\n"
"        (every manifest and blob downloaded and hashed), compared with\n"
"        the image the catalog records, and its manifests deleted from\n"
"        the scratch registry by digest; the blobs stay there until its\n"
"        garbage collection runs. One line per image (ok or FAILED and\n"
"        why), then per place the images drilled, the bytes pulled back,\n"
"        the time and the failures. The choice comes from a seed, printed\n"
"        first on stderr: --seed S drills the same images again while\n"
"        the places hold the same ones. Nothing is written to the\n"
"        catalog and the primary is not contacted. Referrers and\n"
"        signatures are not drilled.\n"
"    rebuild --from DIR\n"
"        Recreates the catalog's knowledge of the archive store DIR from\n"
"        its volumes alone, re-hashing every blob. For safety it refuses\n"
"        (exit 3) when the catalog file exists already: move it away, or\n"
"        rebuild into a new file with --catalog NEW. A rebuild that fails\n"
"        removes the catalog file it created.\n"
"    usage HOST[:PORT][/REPO]\n"
"        What the registry stores now, per repository: TAGS, MANIFESTS,\n"
"        SIZE (every distinct blob its manifests name: the manifests' own\n"
"        bytes, configs, layers), SHARED (those another repository names\n"
"        too), UNIQUE (the rest: what deleting the repository frees) and\n"
"        the monthly cost of UNIQUE; then the registry as a whole, every\n"
"        blob counted once, as distribution stores it. The whole registry\n"
"        is read (sharing spans repositories); REPO, a name or a glob,\n"
"        only selects rows. Tags are resolved, manifests come from the\n"
"        catalog when it has them and are cached there otherwise.\n"
"        Untagged manifests are counted when regvault has seen them\n"
"        (under a tag, in a backup or a plan); others are invisible, as\n"
"        the registry cannot list them.\n"
"        With --policy, the plan prune would make (a dry run) adds\n"
"        RECLAIMABLE: the bytes of blobs that only manifests the plan\n"
"        deletes name. A blob any remaining manifest names, in the\n"
"        policy's scope or not, stays. The registry frees the space when\n"
"        its garbage collection runs.\n"
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
"    --drill N\n"
"        (verify) Drill N images from each place (1 to 100000; a place\n"
"        holding fewer drills them all).\n"
"    --to HOST[:PORT]\n"
"        (verify --drill) The scratch registry. It needs deletes enabled\n"
"        (distribution: storage.delete.enabled); use one that serves\n"
"        nothing else.\n"
"    --seed S\n"
"        (verify --drill) Replay the choice of an earlier drill.\n"
"    --policy FILE\n"
"        (usage) Also what this prune policy would reclaim. Its registry\n"
"        must be HOST; the catalog is then written (as prune writes it).\n"
"    --price-per-gb-month PRICE\n"
"        (usage) Dollars per GB (10^9 bytes) and month; default 0.023,\n"
"        the S3 Standard list price for the first 50 TB. A provider that\n"
"        bills per GiB (2^30 bytes) at P costs P x 0.931 per GB.\n"
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
"               \"bytes\", \"bad\", \"skipped\"}\n"
"      verify --drill\n"
"               {\"seed\", \"scratch\", \"perLocation\", \"drilled\", \"failed\",\n"
"               \"cleanupFailed\", \"locations\": [{\"store\", \"storeKind\",\n"
"               \"held\", \"drilled\", \"failed\", \"cleanupFailed\", \"bytes\",\n"
"               \"durationMs\", \"images\": [{\"reference\", \"digest\",\n"
"               \"restoredAs\", \"bytes\", \"objects\", \"durationMs\",\n"
"               \"status\", \"error\", \"cleanup\"}]}]}\n"
"      usage    {\"registry\", \"policy\", \"pricePerGBMonth\", \"note\",\n"
"               \"repositories\": [{\"repository\", \"tags\", \"manifests\",\n"
"               \"bytes\", \"sharedBytes\", \"uniqueBytes\",\n"
"               \"uniqueCostPerMonth\", \"manifestsDeleted\",\n"
"               \"reclaimableBytes\"}], \"total\": {\"repositories\",\n"
"               \"manifests\", \"untaggedManifests\", \"vanished\", \"blobs\",\n"
"               \"bytes\", \"sharedBytes\", \"uniqueBytes\", \"costPerMonth\",\n"
"               \"reclaimableBytes\", \"reclaimableCostPerMonth\"}}\n"
"               (the reclaimable fields are null without --policy)\n"
"    Times are RFC 3339 in UTC (null when unknown), sizes in bytes.\n"
"\n"
"EXIT STATUS\n"
"    0 done; 1 the reference or tag is not in the catalog, there is no\n"
"    catalog yet, a copy failed verification, a blob did not hash to its\n"
"    name or an image's manifest was missing during rebuild, or the\n"
"    catalog or a store could not be read or written (or another run\n"
"    holds it), a drilled image did not come back whole or could not be\n"
"    deleted again, the registry could not be read or planned for\n"
"    (usage); 2 bad usage, invalid reference, policy or price; 3 rebuild\n"
"    refused because the catalog file exists.\n"
"\n"
"EXAMPLES\n"
"    regvault catalog list 'reg.example.com/team-a/*'\n"
"    regvault catalog show reg.example.com/team-a/api:1.4\n"
"    regvault catalog history reg.example.com/team-a/api:latest\n"
"    regvault catalog verify --deep\n"
"    regvault catalog verify --drill 3 --to scratch.example.com:5000\n"
"    regvault catalog usage reg.example.com --policy policy.yaml\n"
"    regvault -o json catalog usage 'reg.example.com/team-a/*'\n"
"    regvault --catalog ./new.db catalog rebuild --from /srv/vault\n";

/* --- Shared ---------------------------------------------------------------- */

int catsub_open(catalog **out, const struct cli_globals *g, unsigned flags)
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
int catsub_open_existing(catalog **out, const struct cli_globals *g)
{
	struct stat st;

	if (g->catalog && stat(g->catalog, &st) != 0)
		return output_error(error_set(errno == ENOENT ? RV_ENOTFOUND : RV_ERROR,
		                              "cannot open catalog \"%s\": %s", g->catalog,
		                              strerror(errno)));
	return catsub_open(out, g, CATALOG_WRITE);
}

static const struct cli_option catalog_options[] = {
	{ "deep", 0, 0, CATSUB_DEEP },
	{ "from", 0, 1, CATSUB_FROM },
	{ "drill", 0, 1, CATSUB_DRILL },
	{ "to", 0, 1, CATSUB_TO },
	{ "seed", 0, 1, CATSUB_SEED },
	{ "policy", 0, 1, CATSUB_POLICY },
	{ "price-per-gb-month", 0, 1, CATSUB_PRICE },
	{ NULL, 0, 0, 0 },
};

/* Parses the options `allowed` (CATSUB_BIT set) and at most max_args
 * positional arguments of subcommand argv[0]. */
int catsub_parse(int argc, char **argv, unsigned allowed, int max_args, struct catsub_args *a)
{
	struct cli_getopt p;
	const char *v;
	int opt;

	memset(a, 0, sizeof(*a));
	cli_getopt_init(&p, "catalog", argc, argv);
	while ((opt = cli_getopt(&p, catalog_options, &v)) != CLI_GETOPT_END) {
		if (opt == CLI_GETOPT_ERROR)
			return RV_EXIT_USAGE;
		if (opt == CLI_GETOPT_ARG) {
			if (a->n_args == max_args)
				return output_usage_error("catalog", "unexpected argument '%s'", v);
			a->args[a->n_args++] = v;
			continue;
		}
		if (!(allowed & CATSUB_BIT(opt)))
			return output_usage_error("catalog", "option '--%s' is not an option of "
			                          "'catalog %s'", catalog_options[opt - 1].long_name,
			                          argv[0]);
		a->opt[opt] = v ? v : "";
	}
	return RV_EXIT_OK;
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
		status = catsub_open(&cat, g, CATALOG_READ);
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
	if ((status = catsub_open(&cat, g, CATALOG_READ)) != RV_EXIT_OK)
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
	if ((status = catsub_open(&cat, g, CATALOG_READ)) != RV_EXIT_OK)
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
		return output_json(json_pack("{s:s,s:s,s:I,s:I,s:I,s:I,s:I,s:I}", "catalog", path,
		                             "from", from, "volumes", (json_int_t)r->volumes,
		                             "blobs", (json_int_t)r->blobs,
		                             "images", (json_int_t)r->images,
		                             "bytes", (json_int_t)r->bytes, "bad", (json_int_t)r->bad,
		                             "skipped", (json_int_t)r->skipped));
	printf("rebuilt %s from %s: %zu volumes, %zu blobs (%s), %zu images\n", path, from,
	       r->volumes, r->blobs, human(r->bytes, sz, sizeof(sz)), r->images);
	return RV_EXIT_OK;
}

static int sub_rebuild(int argc, char **argv, const struct cli_globals *g)
{
	struct rebuild_report rep = { 0 };
	struct catsub_args a;
	const char *from;
	catalog *cat = NULL;
	struct stat st;
	char *lock;
	int lock_was_there, rc, status = catsub_parse(argc, argv, CATSUB_BIT(CATSUB_FROM), 0, &a);

	if (status != RV_EXIT_OK)
		return status;
	from = a.opt[CATSUB_FROM];
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
	if ((status = catsub_open(&cat, g, CATALOG_WRITE)) != RV_EXIT_OK)
		return status;
	rc = backup_rebuild(cat, from, &rep);
	catalog_close(cat);
	if (rc != 0) {
		status = output_error(rc);
		remove_new_catalog(g->catalog, lock_was_there);
		return status;
	}
	status = rebuild_print(&rep, g->catalog, from);
	/* What was salvaged is recorded; what was not must not pass for a
	 * clean rebuild in a script. */
	if (rep.bad)
		rc = error_set(RV_EDIGEST, "%zu blobs in \"%s\" do not hash to their names and "
		               "were not recorded", rep.bad, from);
	else if (rep.skipped)
		rc = error_set(RV_ENOTFOUND, "%zu images in \"%s\" were not recorded: their "
		               "manifests are missing or damaged", rep.skipped, from);
	else
		return status;
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
	{ "verify", catsub_verify },
	{ "rebuild", sub_rebuild },
	{ "usage", catsub_usage },
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
		                          "verify, rebuild or usage");
	}
	for (i = 0; i < sizeof(subcommands) / sizeof(subcommands[0]); i++)
		if (!strcmp(subcommands[i].name, v))
			return subcommands[i].fn(argc - (p.i - 1), argv + (p.i - 1), g);
	return output_usage_error("catalog", "unknown subcommand '%s': expected list, show, "
	                          "history, verify, rebuild or usage", v);
}
