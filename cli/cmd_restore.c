/*
 * cmd_restore.c — `regvault restore REF | --from FILE.tar | --run RUN_ID`:
 * options in, restore_run / restore_file / restore_undo_run, one line out.
 *
 * Written for the on-call engineer during an incident: the catalog is
 * opened for writing when it can be (the restore is then recorded as a
 * run), and read-only when another run holds the lock — a nightly mirror
 * must not stand between a broken deployment and its image.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "cli/commands.h"
#include "cli/exitcode.h"
#include "cli/output.h"
#include "cli/progress.h"
#include "oci/reference.h"
#include "restore/restore.h"
#include "util/error.h"
#include "util/log.h"
#include "util/str.h"
#include "util/timeutil.h"
#include "util/banned.h"

const char cmd_restore_help[] =
"NAME\n"
"    regvault restore - bring an image back by tag or digest\n"
"\n"
"SYNOPSIS\n"
"    regvault restore REF [--to HOST[/REPO]] [--at TIME]\n"
"                     [--from-store archive|registry] [--dry-run]\n"
"    regvault restore --from FILE.tar [REF] --to HOST/REPO[:TAG] [--dry-run]\n"
"    regvault restore --run RUN_ID\n"
"\n"
"DESCRIPTION\n"
"    Pushes the verified copy of REF back to the registry it came from.\n"
"    REF is named as it was on the primary: HOST/REPO:TAG (the digest the\n"
"    tag named when a backup or mirror last saw it, or at --at TIME) or\n"
"    HOST/REPO@DIGEST; without tag or digest the tag 'latest' is meant.\n"
"    The catalog (--catalog) says which stores hold a verified copy: an\n"
"    archive store whose directory is here is used first (local disk),\n"
"    else a standby registry; when one fails the next is tried and a\n"
"    warning says why. The whole image comes back, byte for byte (index\n"
"    children, configs, layers, referrers, signature tags), every byte\n"
"    hashed on the way; blobs the registry has are not sent again; the\n"
"    tag is put last. Then the image is read back from the registry.\n"
"\n"
"    A name the catalog does not know is an error (exit 2) that lists\n"
"    close matches: other tags of the repository, similar repositories.\n"
"\n"
"    The restore is recorded as a run in the catalog. When another run\n"
"    holds the catalog's lock (a long backup during an incident), the\n"
"    catalog is read without the lock and the restore is not recorded.\n"
"\n"
"    With --from, the image comes from an OCI layout tarball (regvault\n"
"    backup --to FILE.tar, skopeo copy to oci-archive:) instead,\n"
"    without the catalog. REF is the name inside the tarball (or just\n"
"    its tag); it may be left out when the tarball holds one image.\n"
"\n"
"    With --run, everything the prune run RUN_ID deleted comes back,\n"
"    each digest with all the tags it had, and the run is marked undone.\n"
"    A run of any other command (backup, mirror, ...) is refused; a\n"
"    prune run that deleted nothing is left as it is. With --dry-run it\n"
"    says what would come back and changes nothing, registry or catalog.\n"
"\n"
"    Text output, one line on stdout:\n"
"      restored HOST/REPO:TAG (sha256:...) from archive /srv/vault in\n"
"      2.1 s, 3 of 7 blobs uploaded\n"
"    with --dry-run: would restore ... from ...: 3 of 7 blobs to upload,\n"
"    4 manifests to put. With --run one line per image, 'restored' or\n"
"    'FAILED', then 'run N undone: X images restored' (or 'run N\n"
"    deleted nothing: nothing to restore'); with --dry-run 'would\n"
"    restore' lines and 'run N: X images would be restored'.\n"
"\n"
"OPTIONS\n"
"    --to HOST[/REPO]\n"
"        Restore to this registry (and repository) instead of where the\n"
"        image came from. With --from: HOST/REPO[:TAG], required; the\n"
"        tag defaults to the tarball name's tag.\n"
"    --at TIME\n"
"        The image the tag named at TIME: RFC 3339\n"
"        (2026-11-23T19:00:00Z) or a duration ago (90m, 12h, 2d, 1w).\n"
"    --from-store archive|registry\n"
"        Try this kind of store first; the other stays the fallback.\n"
"    --dry-run\n"
"        Say what would be uploaded; push nothing.\n"
"    --from FILE.tar\n"
"        Restore from an OCI layout tarball.\n"
"    --run RUN_ID\n"
"        Undo a prune run (cannot be combined with REF, --from, --to,\n"
"        --at or --from-store; --dry-run may be added).\n"
"\n"
"    The global options (regvault --help) apply too: --jobs blobs move\n"
"    at once; --catalog names the catalog. With --output json the result\n"
"    is {\"ref\", \"target\", \"digest\", \"source\", \"durationSeconds\",\n"
"    \"blobsUploaded\", \"blobsTotal\", \"bytesUploaded\", \"manifestsPut\",\n"
"    \"dryRun\", \"notes\": [...]}; with --run {\"run\", \"images\": [{\"ref\",\n"
"    \"tags\", \"status\", \"error\"}], \"restored\", \"failed\", \"dryRun\"}.\n"
"\n"
"EXIT STATUS\n"
"    0 the image is back and was read back from the registry (--run:\n"
"    every image); 1 no store holds a verified copy, every store failed,\n"
"    the registry could not be written, an unknown run, or some image of\n"
"    the run failed (the lines say which); 2 bad usage, a reference the\n"
"    catalog does not know (with close matches), a --run that is not a\n"
"    prune run, an invalid tarball or credentials problem.\n"
"\n"
"EXAMPLES\n"
"    regvault restore reg.example.com/team-a/api:1.4\n"
"    regvault restore reg.example.com/team-a/api@sha256:9f86d0...\n"
"    regvault restore reg.example.com/app:latest --at 2d --dry-run\n"
"    regvault restore reg.example.com/app:1.4 --to 127.0.0.1:5000/scratch\n"
"    regvault restore --from app-1.4.tar --to reg.example.com/app:1.4\n"
"    regvault restore --run 42\n";

enum { OPT_TO = 1, OPT_AT, OPT_FROM_STORE, OPT_DRY_RUN, OPT_FROM, OPT_RUN };

static const struct cli_option restore_option_table[] = {
	{ "to", 0, 1, OPT_TO },
	{ "at", 0, 1, OPT_AT },
	{ "from-store", 0, 1, OPT_FROM_STORE },
	{ "dry-run", 0, 0, OPT_DRY_RUN },
	{ "from", 0, 1, OPT_FROM },
	{ "run", 0, 1, OPT_RUN },
	{ NULL, 0, 0, 0 },
};

struct restore_args {
	const char *ref, *to, *at_text, *from, *store_text, *run_text;
	int64_t at, run_id;
	enum restore_prefer prefer;
	int dry_run;
};

static int parse_at(struct restore_args *a)
{
	int64_t d;

	if (time_parse_rfc3339(a->at_text, &a->at) == 0)
		return RV_EXIT_OK;
	if (time_parse_duration(a->at_text, &d) == 0 && d < time_now()) {
		a->at = time_now() - d;
		return RV_EXIT_OK;
	}
	error_clear();
	return output_usage_error("restore", "invalid value '%s' for --at: expected an RFC 3339 "
	                          "time or a duration like 2d", a->at_text);
}

static int parse_run(struct restore_args *a)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(a->run_text, &end, 10);
	if (errno || end == a->run_text || *end || v <= 0 || a->run_text[0] == '+')
		return output_usage_error("restore", "invalid value '%s' for --run: expected a run "
		                          "number", a->run_text);
	a->run_id = v;
	return RV_EXIT_OK;
}

/* Which options go together: --run alone; --from without the catalog's. */
static int check_combination(const struct restore_args *a)
{
	if (a->run_text && (a->ref || a->from || a->to || a->at_text || a->store_text))
		return output_usage_error("restore", "--run cannot be combined with %s",
		                          a->ref ? "REF" : a->from ? "--from" : a->to ? "--to" :
		                          a->at_text ? "--at" : "--from-store");
	if (a->run_text)
		return RV_EXIT_OK;
	if (a->from && (a->at_text || a->store_text))
		return output_usage_error("restore", "--from cannot be combined with %s",
		                          a->at_text ? "--at" : "--from-store");
	if (a->from && !a->to)
		return output_usage_error("restore", "missing --to HOST/REPO[:TAG]");
	if (!a->from && !a->ref)
		return output_usage_error("restore", "missing REF");
	return RV_EXIT_OK;
}

/* REF and --to are checked before the catalog is opened. */
static int check_names(const struct restore_args *a)
{
	struct oci_ref r = OCI_REF_INIT;
	char *registry = NULL, *repo = NULL;
	int rc = 0;

	if (!a->from && a->ref)
		rc = oci_ref_parse(&r, a->ref, OCI_REF_DEFAULT_TAG);
	if (rc == 0 && !a->from && a->to)
		rc = oci_ref_parse_location(a->to, &registry, &repo);
	if (rc == 0 && r.digest && a->at_text) {
		oci_ref_release(&r);
		return output_usage_error("restore", "--at needs a REF with a tag");
	}
	oci_ref_release(&r);
	free(registry);
	free(repo);
	return rc == 0 ? RV_EXIT_OK : output_error(rc);
}

static int take_option(struct restore_args *a, int opt, const char *v)
{
	switch (opt) {
	case OPT_TO: a->to = v; break;
	case OPT_AT: a->at_text = v; return parse_at(a);
	case OPT_DRY_RUN: a->dry_run = 1; break;
	case OPT_FROM: a->from = v; break;
	case OPT_RUN: a->run_text = v; return parse_run(a);
	case OPT_FROM_STORE:
		a->store_text = v;
		if (!strcmp(v, "archive"))
			a->prefer = RESTORE_ARCHIVE;
		else if (!strcmp(v, "registry"))
			a->prefer = RESTORE_REGISTRY;
		else
			return output_usage_error("restore", "invalid value '%s' for --from-store: "
			                          "expected archive or registry", v);
		break;
	default:
		if (a->ref)
			return output_usage_error("restore", "unexpected argument '%s'", v);
		a->ref = v;
	}
	return RV_EXIT_OK;
}

static int parse_args(struct restore_args *a, int argc, char **argv)
{
	struct cli_getopt p;
	const char *v;
	int opt, status;

	cli_getopt_init(&p, "restore", argc, argv);
	while ((opt = cli_getopt(&p, restore_option_table, &v)) != CLI_GETOPT_END) {
		if (opt == CLI_GETOPT_ERROR)
			return RV_EXIT_USAGE;
		if ((status = take_option(a, opt, v)) != RV_EXIT_OK)
			return status;
	}
	if ((status = check_combination(a)) != RV_EXIT_OK)
		return status;
	return a->run_text ? RV_EXIT_OK : check_names(a);
}

/* --- Shared with `regvault deployed --restore` ------------------------------ */

int cli_restore_catalog_open(catalog **out, const struct cli_globals *g, int dry_run,
                             int *writable)
{
	struct stat st;
	char *why;
	int rc;

	*writable = 0;
	if (!g->catalog)
		return cli_catalog_open(out, g, CATALOG_READ);   /* its message */
	/* A missing catalog stays missing: reading says so; writing would
	 * create an empty one and then report that it knows nothing. */
	if (dry_run || stat(g->catalog, &st) != 0)
		return cli_catalog_open(out, g, CATALOG_READ);
	if ((rc = cli_catalog_open(out, g, CATALOG_WRITE)) == 0) {
		*writable = 1;
		return 0;
	}
	why = xstrdup(error_msg());
	error_clear();
	if ((rc = cli_catalog_open(out, g, CATALOG_READ)) == 0)
		log_debug("%s; restoring without recording the run", why);
	free(why);
	return rc;
}

void cli_restore_print(const struct restore_report *r)
{
	if (r->dry_run)
		printf("would restore %s (%s) from %s: %d of %d blobs to upload, "
		       "%d manifests to put\n", r->target, r->digest, r->source, r->blobs_uploaded,
		       r->blobs_total, r->manifests_put);
	else
		printf("restored %s (%s) from %s in %.1f s, %d of %d blobs uploaded\n", r->target,
		       r->digest, r->source, (double)r->duration_ms / 1000, r->blobs_uploaded,
		       r->blobs_total);
}

json_t *cli_restore_json(const struct restore_report *r)
{
	json_t *notes = json_array();

	for (size_t i = 0; i < r->n_notes; i++)
		json_array_append_new(notes, output_json_string(r->notes[i]));
	return json_pack("{s:o,s:o,s:s,s:o,s:f,s:i,s:i,s:I,s:i,s:b,s:o}",
	                 "ref", output_json_string(r->ref ? r->ref : ""),
	                 "target", output_json_string(r->target ? r->target : ""),
	                 "digest", r->digest,
	                 "source", output_json_string(r->source ? r->source : ""),
	                 "durationSeconds", (double)r->duration_ms / 1000,
	                 "blobsUploaded", r->blobs_uploaded, "blobsTotal", r->blobs_total,
	                 "bytesUploaded", (json_int_t)r->bytes_uploaded,
	                 "manifestsPut", r->manifests_put, "dryRun", r->dry_run, "notes", notes);
}

/* --- restore --run ------------------------------------------------------------ */

static void print_undo_item(const struct restore_undo_item *it, int dry_run)
{
	char msg[1024];

	printf("%s %s (", it->rc ? "FAILED" : dry_run ? "would restore" : "restored", it->ref);
	if (!it->n_tags)
		printf("untagged");
	for (size_t k = 0; k < it->n_tags; k++)
		printf("%s%s", k ? ", " : "tags ", it->tags[k]);
	if (it->rc)
		printf("): %s\n", str_printable(msg, sizeof(msg), it->msg ? it->msg : "failed"));
	else
		printf(")\n");
}

static json_t *undo_json(const struct restore_undo_report *r)
{
	json_t *images = json_array();

	for (size_t i = 0; i < r->n_items; i++) {
		const struct restore_undo_item *it = &r->items[i];
		json_t *tags = json_array(), *o;

		for (size_t k = 0; k < it->n_tags; k++)
			json_array_append_new(tags, output_json_string(it->tags[k]));
		o = json_pack("{s:o,s:o,s:s}", "ref", output_json_string(it->ref), "tags", tags,
		              "status", it->rc ? "failed" : "restored");
		if (it->rc)
			json_object_set_new(o, "error", json_pack("{s:s,s:o}", "code",
			                    error_code_name(it->rc), "message",
			                    output_json_string(it->msg ? it->msg : "failed")));
		json_array_append_new(images, o);
	}
	return json_pack("{s:I,s:o,s:I,s:I,s:b}", "run", (json_int_t)r->run_id, "images", images,
	                 "restored", (json_int_t)r->restored, "failed", (json_int_t)r->failed,
	                 "dryRun", r->dry_run);
}

/* Undoing needs the lock: it marks every image, and the run, undone. A dry
 * run only reads, so it works beside a running prune. */
static int undo_run(int64_t run_id, registry_session *session, const struct xfer_options *xo,
                    const struct cli_globals *g)
{
	struct restore_undo_report rep = { 0 };
	struct stat st;
	catalog *cat = NULL;
	/* A missing catalog: reading says so (writing would create one). */
	int status, rc = cli_catalog_open(&cat, g, !xo->plan_only && g->catalog &&
	                                              stat(g->catalog, &st) == 0
	                                              ? CATALOG_WRITE : CATALOG_READ);

	if (rc == 0)
		rc = restore_undo_run(cat, session, run_id, xo, &rep);
	if (rc != 0 && !(rc == RV_ERROR && rep.failed)) {
		status = output_error(rc);
	} else if (output_is_json()) {
		status = output_json(undo_json(&rep));
		status = rc == 0 ? status : RV_EXIT_FAILURE;
	} else {
		for (size_t i = 0; i < rep.n_items; i++)
			print_undo_item(&rep.items[i], rep.dry_run);
		if (rc == 0 && rep.n_items == 0)
			printf("run %lld deleted nothing: nothing to restore\n", (long long)run_id);
		else if (rc == 0 && rep.dry_run)
			printf("run %lld: %zu images would be restored\n", (long long)run_id,
			       rep.restored);
		else if (rc == 0)
			printf("run %lld undone: %zu images restored\n", (long long)run_id, rep.restored);
		status = rc == 0 ? RV_EXIT_OK : output_error(rc);
	}
	restore_undo_report_release(&rep);
	catalog_close(cat);
	return status;
}

/* --- restore REF / --from ------------------------------------------------------ */

static int restore_ref(const struct restore_args *a, registry_session *session,
                       const struct xfer_options *xo, const struct cli_globals *g,
                       struct restore_report *rep, char *args)
{
	struct restore_options o = { 0 };
	catalog *cat = NULL;
	int writable, rc = cli_restore_catalog_open(&cat, g, a->dry_run, &writable);

	if (rc == 0) {
		o.ref = a->ref;
		o.to = a->to;
		o.at = a->at;
		o.prefer = a->prefer;
		o.dry_run = a->dry_run;
		o.cat = cat;
		o.session = session;
		o.xfer = *xo;
		o.args_json = writable ? args : NULL;
		rc = restore_run(&o, rep);
	}
	catalog_close(cat);
	return rc;
}

int cmd_restore(int argc, char **argv, const struct cli_globals *g)
{
	struct restore_args a = { 0 };
	struct restore_report rep = { 0 };
	struct xfer_options xo = XFER_OPTIONS_INIT;
	registry_session *session = NULL;
	cli_progress *prog = NULL;
	char *args = NULL;
	int rc, status = parse_args(&a, argc, argv);

	if (status != RV_EXIT_OK)
		return status;
	if ((rc = cli_session_new(&session, g)) != 0)
		return output_error(rc);
	xo.jobs = g->jobs;
	if (a.run_text) {
		xo.plan_only = a.dry_run;
		status = undo_run(a.run_id, session, &xo, g);
		goto done;
	}
	prog = a.dry_run ? NULL : cli_progress_new("restore", g);
	cli_progress_attach(prog, &xo);
	args = output_args_json(argc, argv);
	if (a.from)
		rc = restore_file(a.from, a.ref, a.to, session, &xo, a.dry_run, &rep);
	else
		rc = restore_ref(&a, session, &xo, g, &rep, args);
	cli_progress_free(prog);
	if (rc != 0)
		status = output_error(rc);
	else if (output_is_json())
		status = output_json(cli_restore_json(&rep));
	else
		cli_restore_print(&rep);
done:
	restore_report_release(&rep);
	registry_session_free(session);
	free(args);
	return status;
}
