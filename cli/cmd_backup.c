/*
 * cmd_backup.c — `regvault backup SOURCE... --to DIR|FILE.tar`: options in,
 * backup_run(), report out.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "backup/backup.h"
#include "cli/commands.h"
#include "cli/exitcode.h"
#include "cli/inspect.h"
#include "cli/metrics.h"
#include "cli/output.h"
#include "cli/progress.h"
#include "util/error.h"
#include "util/str.h"
#include "util/timeutil.h"
#include "util/banned.h"

const char cmd_backup_help[] =
"NAME\n"
"    regvault backup - copy images into an archive store or a tarball\n"
"\n"
"SYNOPSIS\n"
"    regvault backup SOURCE... --to DIR [--platform OS/ARCH[/VARIANT]]...\n"
"                    [--no-referrers] [--metrics-file FILE]\n"
"    regvault backup SOURCE... --to FILE.tar [...]\n"
"\n"
"DESCRIPTION\n"
"    Copies every image SOURCE names, whole (index children, configs,\n"
"    layers, referrers), into the archive store DIR, and records in the\n"
"    catalog (--catalog) which images the store holds and where each\n"
"    blob is. Every byte is hashed on the way in; the new volume is read\n"
"    back and verified before it is kept and recorded. Only what the\n"
"    store lacks is written: an image it holds under the same name is\n"
"    'unchanged', a digest it holds under a new name is 'listed' (no\n"
"    bytes written), everything else is 'copied'. Each tag's digest is\n"
"    also recorded in the catalog's tag history.\n"
"\n"
"    SOURCE is HOST[:PORT] (every repository), HOST/REPO (every tag),\n"
"    HOST/REPO:TAG or HOST/REPO@DIGEST. The repository part may hold\n"
"    globs (* ? [ ]; '*' also matches '/'): quote them from the shell.\n"
"    Cosign and referrer tags are not taken alone; they come with the\n"
"    image they belong to.\n"
"\n"
"    The store: DIR/volumes/ holds one uncompressed tar volume per run\n"
"    that wrote something, each blob stored once. Extracting every\n"
"    volume, oldest first, into one folder gives an OCI image layout\n"
"    that skopeo, umoci and podman read without regvault; each image is\n"
"    named there by its full original reference, for example\n"
"    oci:FOLDER:reg.example.com/team/app:1.4.\n"
"\n"
"    With --to FILE.tar the images go into one self-contained OCI layout\n"
"    tarball instead, for skopeo (oci-archive:FILE.tar:REF), podman load\n"
"    and docker load.\n"
"\n"
"    Text output: one line per image, its status (copied, listed,\n"
"    unchanged or FAILED), reference, digest and the bytes it added (or\n"
"    why it failed), then a summary line. On a terminal a progress line\n"
"    is shown on stderr while blobs move.\n"
"\n"
"OPTIONS\n"
"    --to DIR|FILE.tar\n"
"        Where the copies go (required). A name ending in '.tar' is a\n"
"        tarball, anything else an archive store directory, created\n"
"        (mode 0700) when missing.\n"
"    --platform OS/ARCH[/VARIANT]\n"
"        Of a multi-platform index, copy only the children for this\n"
"        platform (repeatable). Default: every platform.\n"
"    --no-referrers\n"
"        Leave out referrers (signatures, SBOMs, attestations) and\n"
"        cosign tags.\n"
"    --metrics-file FILE\n"
"        After the run, whatever its outcome, write its metrics to FILE\n"
"        in Prometheus text format, for node_exporter's textfile\n"
"        collector: regvault_backup_images by outcome, _bytes_written,\n"
"        _duration_seconds, _last_run_success and the _timestamp_seconds\n"
"        of the last run and the last successful one, labelled\n"
"        store=\"DIR\" (man regvault, METRICS, has the details).\n"
"\n"
"    The global options (regvault --help) apply too: --jobs blobs move\n"
"    at once; --catalog names the catalog. With --output json the result\n"
"    is {\"run\", \"to\", \"volume\", \"volumeSize\", \"bytesWritten\",\n"
"    \"images\": [{\"ref\", \"digest\", \"status\", \"bytesWritten\",\n"
"    \"error\"}], \"summary\": {\"copied\", \"listed\", \"unchanged\",\n"
"    \"failed\"}}.\n"
"\n"
"EXIT STATUS\n"
"    0 every image is stored and recorded; 1 some image failed (the\n"
"    others are still stored; the lines say which), a registry, the\n"
"    store or the catalog could not be read or written, or another run\n"
"    holds the store or the catalog; 2 bad usage, invalid SOURCE or\n"
"    credentials problem.\n"
"\n"
"EXAMPLES\n"
"    regvault backup 127.0.0.1:5000 --to /var/backups/regvault\n"
"    regvault backup 'reg.example.com/team-a/*' --to /srv/vault\n"
"    regvault backup --platform linux/amd64 reg.example.com/base:12 \\\n"
"        --to /srv/vault\n"
"    regvault backup reg.example.com/app:1.4 --to app-1.4.tar\n"
"    skopeo copy oci-archive:app-1.4.tar:reg.example.com/app:1.4 \\\n"
"        docker://standby.example.com/app:1.4\n";

enum { OPT_TO = 1, OPT_PLATFORM, OPT_NO_REFERRERS, OPT_METRICS_FILE };

static const struct cli_option backup_option_table[] = {
	{ "to", 0, 1, OPT_TO },
	{ "platform", 0, 1, OPT_PLATFORM },
	{ "no-referrers", 0, 0, OPT_NO_REFERRERS },
	{ "metrics-file", 0, 1, OPT_METRICS_FILE },
	{ NULL, 0, 0, 0 },
};

struct backup_args {
	struct strlist sources;
	struct strlist platforms;
	const char *to;
	const char *metrics_file;
	int no_referrers;
};

/* Every SOURCE is checked before the catalog is opened, so a typo does
 * not leave a new empty catalog behind. */
static int check_source(const char *s)
{
	struct oci_ref ref = OCI_REF_INIT;
	int rc = oci_ref_parse(&ref, s, OCI_REF_HOST_OK | OCI_REF_GLOB_OK);

	oci_ref_release(&ref);
	return rc == 0 ? RV_EXIT_OK : output_error(rc);
}

static int parse_args(struct backup_args *a, int argc, char **argv)
{
	struct cli_getopt p;
	const char *v;
	size_t i;
	int opt, status;

	cli_getopt_init(&p, "backup", argc, argv);
	while ((opt = cli_getopt(&p, backup_option_table, &v)) != CLI_GETOPT_END) {
		if (opt == CLI_GETOPT_ERROR)
			return RV_EXIT_USAGE;
		if (opt == OPT_TO)
			a->to = v;
		else if (opt == OPT_METRICS_FILE)
			a->metrics_file = v;
		else if (opt == OPT_NO_REFERRERS)
			a->no_referrers = 1;
		else if (opt == OPT_PLATFORM && !inspect_platform_valid(v))
			return output_usage_error("backup", "invalid value '%s' for --platform: "
			                          "expected OS/ARCH[/VARIANT]", v);
		else if (opt == OPT_PLATFORM)
			strlist_add(&a->platforms, v);
		else
			strlist_add(&a->sources, v);
	}
	if (a->sources.n == 0)
		return output_usage_error("backup", "missing SOURCE");
	if (!a->to)
		return output_usage_error("backup", "missing --to DIR or --to FILE.tar");
	if (!*a->to)
		return output_usage_error("backup", "invalid value '' for --to: expected a path");
	for (i = 0; i < a->sources.n; i++)
		if ((status = check_source(a->sources.v[i])) != RV_EXIT_OK)
			return status;
	if (a->metrics_file)
		return metrics_check_path("backup", a->metrics_file);
	return RV_EXIT_OK;
}


static const char *status_name(enum backup_status s)
{
	switch (s) {
	case BACKUP_COPIED: return "copied";
	case BACKUP_PARTIAL: return "partial";
	case BACKUP_LISTED: return "listed";
	case BACKUP_UNCHANGED: return "unchanged";
	case BACKUP_FAILED: return "failed";
	}
	return "unknown";
}

static void print_text(const struct backup_report *r, const char *to)
{
	char sz[32], msg[1024];
	int width = 0;
	size_t i;

	for (i = 0; i < r->n_items; i++)
		if ((int)strlen(r->items[i].ref) > width)
			width = (int)strlen(r->items[i].ref);
	for (i = 0; i < r->n_items; i++) {
		const struct backup_item *it = &r->items[i];

		if (it->status == BACKUP_FAILED)
			printf("%-9s  %-*s  %s\n", "FAILED", width, it->ref,
			       str_printable(msg, sizeof(msg), it->msg ? it->msg : "failed"));
		else if (it->status == BACKUP_PARTIAL)
			printf("%-9s  %-*s  %s  %8s  (%s)\n", status_name(it->status), width, it->ref,
			       it->digest, str_human_bytes(it->bytes_written, sz, sizeof(sz)),
			       str_printable(msg, sizeof(msg), it->msg ? it->msg : ""));
		else
			printf("%-9s  %-*s  %s  %8s\n", status_name(it->status), width, it->ref,
			       it->digest, str_human_bytes(it->bytes_written, sz, sizeof(sz)));
	}
	printf("backup: %zu images (%zu copied, ", r->n_items, r->copied);
	if (r->partial)
		printf("%zu partial, ", r->partial);
	printf("%zu listed, %zu unchanged, %zu failed), ", r->listed, r->unchanged, r->failed);
	/* A tarball is its own "volume"; a store's is relative to it. */
	if (r->volume && !str_has_suffix(to, ".tar"))
		printf("%s written to %s/%s\n", str_human_bytes(r->bytes_written, sz, sizeof(sz)),
		       to, r->volume);
	else if (r->volume)
		printf("%s written to %s\n", str_human_bytes(r->bytes_written, sz, sizeof(sz)), to);
	else
		printf("nothing new written to %s\n", to);
}

static json_t *item_json(const struct backup_item *it)
{
	json_t *o = json_pack("{s:o,s:s,s:I}", "ref", output_json_string(it->ref), "status",
	                      status_name(it->status), "bytesWritten",
	                      (json_int_t)it->bytes_written);

	if (it->digest[0])
		json_object_set_new(o, "digest", json_string(it->digest));
	if (it->status == BACKUP_PARTIAL && it->msg)
		json_object_set_new(o, "note", output_json_string(it->msg));
	if (it->status == BACKUP_FAILED)
		json_object_set_new(o, "error", json_pack("{s:s,s:o}", "code",
		                    error_code_name(it->rc), "message",
		                    output_json_string(it->msg ? it->msg : "failed")));
	return o;
}

static json_t *report_json(const struct backup_report *r, const char *to)
{
	json_t *images = json_array();

	for (size_t i = 0; i < r->n_items; i++)
		json_array_append_new(images, item_json(&r->items[i]));
	return json_pack("{s:I,s:o,s:o,s:I,s:I,s:o,s:{s:I,s:I,s:I,s:I,s:I}}",
	                 "run", (json_int_t)r->run_id, "to", output_json_string(to),
	                 "volume", r->volume ? output_json_string(r->volume) : json_null(),
	                 "volumeSize", (json_int_t)r->volume_size,
	                 "bytesWritten", (json_int_t)r->bytes_written, "images", images,
	                 "summary", "copied", (json_int_t)r->copied, "partial", (json_int_t)r->partial,
	                 "listed", (json_int_t)r->listed, "unchanged", (json_int_t)r->unchanged,
	                 "failed", (json_int_t)r->failed);
}

/* The report, then for some failed images the error line (text) or exit 1. */
static int print_report(const struct backup_report *r, int rc, const char *to)
{
	int status;

	if (output_is_json()) {
		status = output_json(report_json(r, to));
		return rc == 0 ? status : RV_EXIT_FAILURE;
	}
	print_text(r, to);
	return rc == 0 ? RV_EXIT_OK : output_error(rc);
}

/* --metrics-file, after the run whatever became of it (metrics.h). */
static int write_metrics(const char *path, const char *store, const struct backup_report *r,
                         int rc, int64_t t0, int status)
{
	const char *images = "Images the last backup run handled, by outcome.";
	const struct metrics_sample s[] = {
		{ "images", images, "copied", (int64_t)r->copied },
		{ "images", images, "partial", (int64_t)r->partial },
		{ "images", images, "listed", (int64_t)r->listed },
		{ "images", images, "unchanged", (int64_t)r->unchanged },
		{ "images", images, "failed", (int64_t)r->failed },
		{ "bytes_written", "Blob and manifest bytes the last backup run added to the "
		  "store.", NULL, r->bytes_written },
	};
	struct metrics_run m = {
		"backup", "store", store, s, sizeof(s) / sizeof(s[0]), time_mono_ms() - t0,
		time_now(), rc == 0, 0,
	};

	return metrics_finish(path, &m, status);
}

int cmd_backup(int argc, char **argv, const struct cli_globals *g)
{
	struct backup_args a = { STRLIST_INIT, STRLIST_INIT, NULL, NULL, 0 };
	struct backup_options o = { 0 };
	struct backup_report rep = { 0 };
	struct xfer_options xo = XFER_OPTIONS_INIT;
	registry_session *session = NULL;
	cli_progress *prog = NULL;
	catalog *cat = NULL;
	char *args = NULL;
	int64_t t0 = time_mono_ms();
	int rc, status = parse_args(&a, argc, argv);

	if (status != RV_EXIT_OK)
		goto done;
	if (!g->catalog) {
		status = output_usage_error("backup", "no catalog: pass --catalog PATH or set "
		                            "REGVAULT_CATALOG");
		goto done;
	}
	rc = cli_catalog_open(&cat, g, CATALOG_WRITE);
	if (rc == RV_EEXISTS) {   /* another run holds it: that run reports */
		status = output_error(rc);
		goto done;
	}
	if (rc == 0)
		rc = cli_session_new(&session, g);
	if (rc != 0) {
		status = output_error(rc);
		goto metrics;
	}
	xo.jobs = g->jobs;
	xo.no_referrers = a.no_referrers;
	xo.platforms = a.platforms.n ? (const char *const *)a.platforms.v : NULL;
	xo.n_platforms = a.platforms.n;
	prog = cli_progress_new("backup", g);
	cli_progress_attach(prog, &xo);
	args = output_args_json(argc, argv);
	o.sources = (const char *const *)a.sources.v;
	o.n_sources = a.sources.n;
	o.to = a.to;
	o.cat = cat;
	o.session = session;
	o.xfer = xo;
	o.args_json = args;
	rc = backup_run(&o, &rep);
	cli_progress_free(prog);
	/* RV_ERROR with failed items: the rest were kept; anything else
	 * stopped the run before it recorded anything. */
	if (rc == 0 || (rc == RV_ERROR && rep.failed > 0))
		status = print_report(&rep, rc, rep.path ? rep.path : a.to);
	else
		status = output_error(rc);
metrics:
	if (a.metrics_file)
		status = write_metrics(a.metrics_file, a.to, &rep, rc, t0, status);
done:
	backup_report_release(&rep);
	catalog_close(cat);
	registry_session_free(session);
	free(args);
	strlist_release(&a.platforms);
	strlist_release(&a.sources);
	return status;
}
