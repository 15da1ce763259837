/*
 * cmd_mirror.c — `regvault mirror SOURCE... --to HOST[:PORT][/PREFIX]`:
 * options in, mirror_run(), report and metrics out.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "cli/commands.h"
#include "cli/exitcode.h"
#include "cli/inspect.h"
#include "cli/metrics.h"
#include "cli/output.h"
#include "cli/progress.h"
#include "mirror/mirror.h"
#include "util/error.h"
#include "util/log.h"
#include "util/str.h"
#include "util/timeutil.h"
#include "util/banned.h"

const char cmd_mirror_help[] =
"NAME\n"
"    regvault mirror - keep a standby registry in step with a primary\n"
"\n"
"SYNOPSIS\n"
"    regvault mirror SOURCE... --to HOST[:PORT][/PREFIX]\n"
"                    [--tags GLOB]... [--exclude-tags GLOB]...\n"
"                    [--platform OS/ARCH[/VARIANT]]... [--no-referrers]\n"
"                    [--max-rps N] [--metrics-file FILE]\n"
"\n"
"DESCRIPTION\n"
"    Copies every image SOURCE names, whole (index children, configs,\n"
"    layers, referrers and cosign tags), to the registry HOST, where\n"
"    repository REPO becomes PREFIX/REPO with the same tags. Manifests\n"
"    are put byte for byte, so every digest stays the same. Afterwards\n"
"    every manifest is read back from the destination and hashed, and\n"
"    every blob must be there with its size; only then does the catalog\n"
"    (--catalog) record the copy.\n"
"\n"
"    It is incremental: an image the catalog says the destination holds\n"
"    already, verified, under the same tag is 'unchanged' and costs one\n"
"    request to the source and none to the destination; blobs the\n"
"    destination has are not sent again. A tag that moved on the source\n"
"    moves on the destination. Nothing is ever deleted on the\n"
"    destination: what disappears from the source stays there.\n"
"\n"
"    SOURCE is HOST[:PORT] (every repository), HOST/REPO (every tag),\n"
"    HOST/REPO:TAG or HOST/REPO@DIGEST. The repository part may hold\n"
"    globs (* ? [ ]; '*' also matches '/'): quote them from the shell.\n"
"    Cosign and referrer tags are not taken alone; they come with the\n"
"    image they belong to.\n"
"\n"
"    Text output: one line per image, its status (copied, partial,\n"
"    unchanged or FAILED), source -> destination, digest and the bytes\n"
"    it copied (or why it failed), then a summary line. On a terminal a\n"
"    progress line is shown on stderr while blobs move.\n"
"\n"
"    One run at a time: a run that finds another holding the catalog's\n"
"    lock stops at once (exit 1) and changes nothing, so a schedule that\n"
"    fires again before the last run ended is harmless.\n"
"\n"
"OPTIONS\n"
"    --to HOST[:PORT][/PREFIX]\n"
"        The destination registry, and a repository prefix there\n"
"        (required). HOST must be a host name with a dot or a port,\n"
"        localhost or an IP address.\n"
"    --tags GLOB\n"
"        Mirror only the tags matching GLOB (repeatable: any of them).\n"
"        Images named by digest are always mirrored.\n"
"    --exclude-tags GLOB\n"
"        Then leave out the tags matching GLOB (repeatable).\n"
"    --platform OS/ARCH[/VARIANT]\n"
"        Of a multi-platform index, copy only the children for this\n"
"        platform (repeatable). The index still names every child, so\n"
"        such an image is 'partial' and no complete copy is recorded.\n"
"    --no-referrers\n"
"        Leave out referrers (signatures, SBOMs, attestations) and\n"
"        cosign tags.\n"
"    --max-rps N\n"
"        At most N requests a second (fractions allowed) to any one\n"
"        registry, to stay under its rate limit. A global option: it\n"
"        applies to every command. Default: no limit.\n"
"    --metrics-file FILE\n"
"        After the run, whatever its outcome, write its metrics to FILE\n"
"        in the Prometheus text format, atomically (for node_exporter's\n"
"        textfile collector): regvault_mirror_images, _bytes, _blobs,\n"
"        _manifests_put, _duration_seconds, _last_run_timestamp_seconds,\n"
"        _last_run_success and _last_success_timestamp_seconds, labelled\n"
"        with the destination; see regvault(1). Not written by a run\n"
"        that stops because another holds the catalog.\n"
"\n"
"    The global options (regvault --help) apply too: --jobs blobs move\n"
"    at once; --catalog names the catalog. With --output json the result\n"
"    is {\"run\", \"to\", \"images\": [{\"ref\", \"dst\", \"digest\", \"status\",\n"
"    \"bytesCopied\", \"error\"}], \"summary\": {\"copied\", \"partial\",\n"
"    \"unchanged\", \"failed\", \"bytesCopied\", \"bytesSkipped\",\n"
"    \"blobsCopied\", \"blobsSkipped\", \"manifestsPut\",\n"
"    \"durationSeconds\"}}.\n"
"\n"
"EXIT STATUS\n"
"    0 every image is mirrored, verified and recorded; 1 some image\n"
"    failed (the others are still mirrored; the lines say which), a\n"
"    registry, the catalog or the metrics file could not be read or\n"
"    written, or another run holds the catalog; 2 bad usage, invalid\n"
"    SOURCE or destination, or a credentials problem.\n"
"\n"
"EXAMPLES\n"
"    regvault mirror reg.example.com --to standby.example.com\n"
"    regvault mirror 'reg.example.com/team-a/*' --to dr.example.com/dr \\\n"
"        --exclude-tags '*-SNAPSHOT*' --max-rps 20\n"
"    regvault mirror reg.example.com/base --tags '12*' \\\n"
"        --platform linux/amd64 --to 127.0.0.1:5000/mirror\n"
"    regvault mirror reg.example.com --to standby.example.com \\\n"
"        --metrics-file /var/lib/node_exporter/regvault_mirror.prom\n";

enum { OPT_TO = 1, OPT_TAGS, OPT_EXCLUDE_TAGS, OPT_PLATFORM, OPT_NO_REFERRERS,
       OPT_METRICS_FILE };

static const struct cli_option mirror_option_table[] = {
	{ "to", 0, 1, OPT_TO },
	{ "tags", 0, 1, OPT_TAGS },
	{ "exclude-tags", 0, 1, OPT_EXCLUDE_TAGS },
	{ "platform", 0, 1, OPT_PLATFORM },
	{ "no-referrers", 0, 0, OPT_NO_REFERRERS },
	{ "metrics-file", 0, 1, OPT_METRICS_FILE },
	{ NULL, 0, 0, 0 },
};

struct mirror_args {
	struct strlist sources, tags, exclude_tags, platforms;
	const char *to;
	char *dest;                 /* --to normalised: "host[:port][/prefix]" */
	const char *metrics_file;
	int no_referrers;
};

/* --to: an explicit host first, as a SOURCE's (a bare "standby/x" would
 * otherwise mean docker.io/standby/x), then an optional prefix; no tag,
 * digest or glob. */
static int check_to(struct mirror_args *a)
{
	struct oci_ref ref = OCI_REF_INIT;
	size_t hl = strcspn(a->to, "/");
	int host = (hl == 9 && !strncmp(a->to, "localhost", 9)) || a->to[0] == '[' ||
	           memchr(a->to, '.', hl) || memchr(a->to, ':', hl);

	if (!host || oci_ref_parse(&ref, a->to, OCI_REF_HOST_OK | OCI_REF_NO_TAG) != 0 ||
	    strncmp(a->to, ref.registry, strlen(ref.registry)) != 0) {
		oci_ref_release(&ref);
		return output_usage_error("mirror", "invalid value '%s' for --to: expected "
		                          "HOST[:PORT][/PREFIX]", a->to);
	}
	a->dest = ref.repository ? xasprintf("%s/%s", ref.registry, ref.repository)
	                         : xstrdup(ref.registry);
	oci_ref_release(&ref);
	return RV_EXIT_OK;
}

/* Every SOURCE is checked before the catalog is opened, so a typo does
 * not leave a new empty catalog behind. */
static int check_source(const char *s)
{
	struct oci_ref ref = OCI_REF_INIT;
	int rc = oci_ref_parse(&ref, s, OCI_REF_HOST_OK | OCI_REF_GLOB_OK);

	oci_ref_release(&ref);
	return rc == 0 ? RV_EXIT_OK : output_error(rc);
}

static int take_option(struct mirror_args *a, int opt, const char *v)
{
	if ((opt == OPT_TAGS || opt == OPT_EXCLUDE_TAGS) && !*v)
		return output_usage_error("mirror", "invalid value '' for --%s: expected a "
		                          "tag glob", opt == OPT_TAGS ? "tags" : "exclude-tags");
	if (opt == OPT_PLATFORM && !inspect_platform_valid(v))
		return output_usage_error("mirror", "invalid value '%s' for --platform: "
		                          "expected OS/ARCH[/VARIANT]", v);
	switch (opt) {
	case OPT_TO: a->to = v; break;
	case OPT_TAGS: strlist_add(&a->tags, v); break;
	case OPT_EXCLUDE_TAGS: strlist_add(&a->exclude_tags, v); break;
	case OPT_PLATFORM: strlist_add(&a->platforms, v); break;
	case OPT_NO_REFERRERS: a->no_referrers = 1; break;
	case OPT_METRICS_FILE: a->metrics_file = v; break;
	default: strlist_add(&a->sources, v); break;
	}
	return RV_EXIT_OK;
}

static int parse_args(struct mirror_args *a, int argc, char **argv)
{
	struct cli_getopt p;
	const char *v;
	int opt, status;

	cli_getopt_init(&p, "mirror", argc, argv);
	while ((opt = cli_getopt(&p, mirror_option_table, &v)) != CLI_GETOPT_END) {
		if (opt == CLI_GETOPT_ERROR)
			return RV_EXIT_USAGE;
		if ((status = take_option(a, opt, v)) != RV_EXIT_OK)
			return status;
	}
	if (a->sources.n == 0)
		return output_usage_error("mirror", "missing SOURCE");
	if (!a->to)
		return output_usage_error("mirror", "missing --to HOST[:PORT][/PREFIX]");
	if ((status = check_to(a)) != RV_EXIT_OK)
		return status;
	if (a->metrics_file && (status = metrics_check_path("mirror", a->metrics_file)) != RV_EXIT_OK)
		return status;
	for (size_t i = 0; i < a->sources.n; i++)
		if ((status = check_source(a->sources.v[i])) != RV_EXIT_OK)
			return status;
	return RV_EXIT_OK;
}


static const char *status_name(enum mirror_status s)
{
	switch (s) {
	case MIRROR_COPIED: return "copied";
	case MIRROR_PARTIAL: return "partial";
	case MIRROR_UNCHANGED: return "unchanged";
	case MIRROR_FAILED: return "failed";
	}
	return "unknown";
}

static void print_text(const struct mirror_report *r)
{
	char sz[32], sz2[32], msg[1024];
	int w = 0, wd = 0;
	size_t i;

	for (i = 0; i < r->n_items; i++) {
		if ((int)strlen(r->items[i].ref) > w)
			w = (int)strlen(r->items[i].ref);
		if (r->items[i].status != MIRROR_FAILED && (int)strlen(r->items[i].dst) > wd)
			wd = (int)strlen(r->items[i].dst);
	}
	for (i = 0; i < r->n_items; i++) {
		const struct mirror_item *it = &r->items[i];

		if (it->status == MIRROR_FAILED) {
			printf("%-9s  %-*s  %s\n", "FAILED", w, it->ref,
			       str_printable(msg, sizeof(msg), it->msg ? it->msg : "failed"));
			continue;
		}
		printf("%-9s  %-*s \u2192 %-*s  %s  %8s", status_name(it->status), w, it->ref, wd,
		       it->dst, it->digest, str_human_bytes(it->bytes_copied, sz, sizeof(sz)));
		if (it->status == MIRROR_PARTIAL)
			printf("  (%s)", str_printable(msg, sizeof(msg), it->msg ? it->msg : ""));
		putchar('\n');
	}
	printf("mirror: %zu images (%zu copied, ", r->n_items, r->copied);
	if (r->partial)
		printf("%zu partial, ", r->partial);
	printf("%zu unchanged, %zu failed), %s copied, %s already there, in %.1f s\n",
	       r->unchanged, r->failed, str_human_bytes(r->bytes_copied, sz, sizeof(sz)),
	       str_human_bytes(r->bytes_skipped, sz2, sizeof(sz2)), (double)r->duration_ms / 1000);
}

static json_t *item_json(const struct mirror_item *it)
{
	json_t *o = json_pack("{s:o,s:o,s:s,s:I}", "ref", output_json_string(it->ref), "dst",
	                      output_json_string(it->dst), "status", status_name(it->status),
	                      "bytesCopied", (json_int_t)it->bytes_copied);

	json_object_set_new(o, "digest", it->digest[0] ? json_string(it->digest) : json_null());
	if (it->status == MIRROR_PARTIAL && it->msg)
		json_object_set_new(o, "note", output_json_string(it->msg));
	if (it->status == MIRROR_FAILED)
		json_object_set_new(o, "error", json_pack("{s:s,s:o}", "code",
		                    error_code_name(it->rc), "message",
		                    output_json_string(it->msg ? it->msg : "failed")));
	return o;
}

static json_t *report_json(const struct mirror_report *r, const char *to)
{
	json_t *images = json_array();

	for (size_t i = 0; i < r->n_items; i++)
		json_array_append_new(images, item_json(&r->items[i]));
	return json_pack("{s:I,s:o,s:o,s:{s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:f}}",
	                 "run", (json_int_t)r->run_id, "to", output_json_string(to), "images", images,
	                 "summary", "copied", (json_int_t)r->copied,
	                 "partial", (json_int_t)r->partial, "unchanged", (json_int_t)r->unchanged,
	                 "failed", (json_int_t)r->failed,
	                 "bytesCopied", (json_int_t)r->bytes_copied,
	                 "bytesSkipped", (json_int_t)r->bytes_skipped,
	                 "blobsCopied", (json_int_t)r->blobs_copied,
	                 "blobsSkipped", (json_int_t)r->blobs_skipped,
	                 "manifestsPut", (json_int_t)r->manifests_put,
	                 "durationSeconds", (double)r->duration_ms / 1000);
}

/* The report, then for some failed images the error line (text) or exit 1. */
static int print_report(const struct mirror_report *r, int rc, const char *to)
{
	int status;

	if (output_is_json()) {
		status = output_json(report_json(r, to));
		return rc == 0 ? status : RV_EXIT_FAILURE;
	}
	print_text(r);
	return rc == 0 ? RV_EXIT_OK : output_error(rc);
}

/* --metrics-file, after the run whatever became of it (metrics.h). */
static int write_metrics(const char *path, const char *dest, const struct mirror_report *r,
                         int rc, int64_t t0, int status)
{
	const char *images = "Images the last mirror run handled, by outcome.";
	const char *bytes = "Blob bytes of the last mirror run: copied, or skipped because "
	                    "the destination had them.";
	const char *blobs = "Blobs of the last mirror run: copied, or skipped because the "
	                    "destination had them.";
	const struct metrics_sample s[] = {
		{ "images", images, "copied", (int64_t)r->copied },
		{ "images", images, "partial", (int64_t)r->partial },
		{ "images", images, "unchanged", (int64_t)r->unchanged },
		{ "images", images, "failed", (int64_t)r->failed },
		{ "bytes", bytes, "copied", r->bytes_copied },
		{ "bytes", bytes, "skipped", r->bytes_skipped },
		{ "blobs", blobs, "copied", r->blobs_copied },
		{ "blobs", blobs, "skipped", r->blobs_skipped },
		{ "manifests_put", "Manifests the last mirror run put on the destination.", NULL,
		  r->manifests_put },
	};
	/* A run that stopped before mirror_run (no session) has no times. */
	struct metrics_run m = {
		"mirror", "destination", dest, s, sizeof(s) / sizeof(s[0]),
		r->finished ? r->duration_ms : time_mono_ms() - t0,
		r->finished ? r->finished : time_now(), rc == 0, 0,
	};

	return metrics_finish(path, &m, status);
}

int cmd_mirror(int argc, char **argv, const struct cli_globals *g)
{
	struct mirror_args a = { STRLIST_INIT, STRLIST_INIT, STRLIST_INIT, STRLIST_INIT,
	                         NULL, NULL, NULL, 0 };
	struct mirror_options o = { 0 };
	struct mirror_report rep = { 0 };
	registry_session *session = NULL;
	cli_progress *prog = NULL;
	catalog *cat = NULL;
	char *args = NULL;
	int64_t t0 = time_mono_ms();
	int rc, status = parse_args(&a, argc, argv);

	if (status != RV_EXIT_OK)
		goto done;
	rc = cli_catalog_open(&cat, g, CATALOG_WRITE);
	if (rc == RV_EEXISTS) {   /* another run holds it: that run reports */
		status = output_error(rc);
		goto done;
	}
	if (rc == 0)
		rc = cli_session_new(&session, g);
	if (rc == 0) {
		o.xfer = (struct xfer_options)XFER_OPTIONS_INIT;
		o.xfer.jobs = g->jobs;
		o.xfer.no_referrers = a.no_referrers;
		o.xfer.platforms = a.platforms.n ? (const char *const *)a.platforms.v : NULL;
		o.xfer.n_platforms = a.platforms.n;
		prog = cli_progress_new("mirror", g);
		cli_progress_attach(prog, &o.xfer);
		args = output_args_json(argc, argv);
		o.sources = (const char *const *)a.sources.v;
		o.n_sources = a.sources.n;
		o.to = a.to;
		o.cat = cat;
		o.session = session;
		o.tags = a.tags.n ? (const char *const *)a.tags.v : NULL;
		o.n_tags = a.tags.n;
		o.exclude_tags = a.exclude_tags.n ? (const char *const *)a.exclude_tags.v : NULL;
		o.n_exclude_tags = a.exclude_tags.n;
		o.args_json = args;
		rc = mirror_run(&o, &rep);
		cli_progress_free(prog);
	}
	/* RV_ERROR with failed items: the rest were mirrored; anything else
	 * stopped the run before it did anything. */
	if (rc == 0 || (rc == RV_ERROR && rep.failed > 0))
		status = print_report(&rep, rc, a.dest);
	else
		status = output_error(rc);
	if (a.metrics_file)
		status = write_metrics(a.metrics_file, a.dest, &rep, rc, t0, status);
done:
	mirror_report_release(&rep);
	catalog_close(cat);
	registry_session_free(session);
	free(args);
	free(a.dest);
	strlist_release(&a.platforms);
	strlist_release(&a.exclude_tags);
	strlist_release(&a.tags);
	strlist_release(&a.sources);
	return status;
}
