/*
 * cmd_prune.c — `regvault prune --policy FILE [--execute] [--plan-out F]
 * [--apply F] [--report F.html]`: the plan (a dry run by default), or keep
 * safe and delete; --report also writes the plan as a page (report/).
 *
 * Everything that can be checked without the network is checked first —
 * the policy, a saved plan, where --plan-out writes — so a typo contacts
 * nothing and creates no catalog. A plan that cannot be made (a deployed
 * source or the registry failed) or that deletes too much is a refusal
 * (exit 3): prune never guesses its way to a deletion.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "cli/commands.h"
#include "cli/exitcode.h"
#include "cli/metrics.h"
#include "cli/output.h"
#include "cli/progress.h"
#include "policy/policy.h"
#include "prune/prune.h"
#include "report/report.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/str.h"
#include "util/timeutil.h"
#include "util/banned.h"

const char cmd_prune_help[] =
"NAME\n"
"    regvault prune - delete what no rule keeps, after keeping it safe\n"
"\n"
"SYNOPSIS\n"
"    regvault prune --policy FILE [--plan-out PLAN] [--kubectl PROGRAM]\n"
"    regvault prune --policy FILE --execute [--plan-out PLAN]\n"
"    regvault prune --policy FILE --apply PLAN\n"
"    regvault prune --policy FILE --report PAGE.html [--plan-out PLAN]\n"
"    regvault prune ... [--metrics-file FILE]\n"
"\n"
"DESCRIPTION\n"
"    Plans which images of the policy's registry to delete, and by\n"
"    default only shows the plan: nothing is deleted without --execute\n"
"    or --apply. The policy file (YAML, see regvault(1) POLICY FILE)\n"
"    names the registry, the repositories in scope, where deleted images\n"
"    are kept safe, where deployed images are read from and the keep\n"
"    rules. A policy that is not exactly right (an unknown key, a\n"
"    missing one, newest: 0, an empty keep) is refused with\n"
"    FILE:LINE:COLUMN and nothing is contacted.\n"
"\n"
"    Each image (one digest in one repository, with all its tags) is\n"
"    PROTECTED when something needs it: it is deployed (pods, workload\n"
"    templates, running image IDs, the last 'rollback' ReplicaSets), a\n"
"    'protect' glob names it, or it is the base image, index child or\n"
"    signature of a kept image; 'keep' when a keep rule keeps it; and\n"
"    'delete' otherwise. A digest is deleted only when none of its tags\n"
"    is kept. A deployed source that fails or lists nothing, sources\n"
"    that name no image of the primary (its name spelled another way\n"
"    there), or a registry that cannot be read stop the plan (exit 3).\n"
"    A plan that deletes more than the policy's max_delete is shown and\n"
"    refused.\n"
"\n"
"    With --execute the plan is carried out: every image to delete and\n"
"    every protected one is copied to each safekeeping target of the\n"
"    policy and read back (what is already verified there is skipped);\n"
"    what is deployed is read again and tags are resolved again, and an\n"
"    image that became deployed or a tag that moved since the plan stops\n"
"    the run (exit 3). Then each image is deleted by digest, only when\n"
"    the catalog holds a verified copy and each of its tags still names\n"
"    it right before the delete; otherwise it is skipped, saying why.\n"
"    Every delete is recorded in the catalog first, so 'regvault restore\n"
"    --run RUN_ID' undoes the whole run. The registry frees the space\n"
"    only when its garbage collection runs (for distribution: 'registry\n"
"    garbage-collect CONFIG').\n"
"\n"
"    With --plan-out the plan is saved as JSON; review it, then carry out\n"
"    exactly that plan with --apply. The saved plan is checked against\n"
"    the policy's registry and max_delete before anything is contacted;\n"
"    then a fresh plan is made, and it must still delete every image the\n"
"    saved plan deletes, with the same tags, or nothing is done (the plan\n"
"    is stale, exit 3).\n"
"\n"
"    With --report the plan is also written as one HTML page to look at\n"
"    before anything is deleted: the summary line, per repository a bar\n"
"    of the bytes kept and deleted and a table of every image (decision,\n"
"    tags, digest, age, size, reasons) where deployed, rollback and base\n"
"    protections carry badges, and a search box that filters the rows\n"
"    (a link can carry the filter: PAGE.html#q=WORDS). The page needs\n"
"    only a browser: no network, no other file. It is written whole (a\n"
"    temporary file renamed) with mode 0644, as it is meant to be shared\n"
"    (as a CI artifact, say); with --execute or --apply it is written\n"
"    before anything is deleted, and a refused plan is written too.\n"
"\n"
"    Text output: per repository a table of DECISION (PROTECTED, keep,\n"
"    delete), TAGS, DIGEST (shortened), AGE (since created: 45m, 5h,\n"
"    3d; '-' when unknown), SIZE (the manifest and what it references)\n"
"    and REASON (the first; -v shows all reasons, and index children and\n"
"    signatures too); then the last line\n"
"      Protected: N | Kept: N | Delete: N | Reclaimable: X\n"
"    counting images with a tag or untagged on their own; Reclaimable is\n"
"    what the blobs only deleted images use add up to, among the\n"
"    repositories in the policy's scope: a blob an image outside the\n"
"    scope also uses is counted too, so it is an upper bound ('catalog\n"
"    usage HOST --policy FILE' counts across the whole registry).\n"
"    With --execute, one line per delete ('deleted', or 'SKIPPED' and\n"
"    why), the run number and the command that undoes it.\n"
"\n"
"OPTIONS\n"
"    --policy FILE\n"
"        The policy (required).\n"
"    --execute\n"
"        Keep safe, then delete. Without it (and without --apply) this\n"
"        is a dry run.\n"
"    --plan-out PLAN\n"
"        Also write the plan to PLAN (JSON, mode 0600, replaced whole).\n"
"    --apply PLAN\n"
"        Carry out the plan saved in PLAN instead of making a new one\n"
"        (implies --execute). PLAN must be for the policy's registry.\n"
"    --report PAGE.html\n"
"        Also write the plan as an HTML page (mode 0644, replaced whole),\n"
"        with a dry run, --plan-out, --execute or --apply.\n"
"    --metrics-file FILE\n"
"        After the run, whatever its outcome, write its metrics to FILE\n"
"        in Prometheus text format, for node_exporter's textfile\n"
"        collector, labelled registry=\"HOST\": regvault_prune_images\n"
"        by the plan's decision (outcome protected, kept, delete),\n"
"        _manifests_deleted and _deletes_skipped (0 in a dry run),\n"
"        _bytes_reclaimable, _executed (1 with --execute or\n"
"        --apply), _refused (1 when refused for safety, exit 3),\n"
"        _duration_seconds, _last_run_success and the\n"
"        _timestamp_seconds of the last run and the last successful one.\n"
"    --kubectl PROGRAM\n"
"        The kubectl to run for kubectl sources (default: kubectl from\n"
"        PATH).\n"
"\n"
"    The global options (regvault --help) apply too: --catalog names the\n"
"    catalog (written: manifests and tags seen, the run, each delete);\n"
"    --jobs requests at once. With --output json the result is the plan\n"
"    document, {\"registry\", \"plannedAt\", \"policy\", \"images\":\n"
"    [{\"repository\", \"digest\", \"tags\", \"mediaType\", \"created\",\n"
"    \"size\", \"decision\", \"protected\", \"topLevel\", \"reasons\"}],\n"
"    \"summary\": {\"inScope\", \"protected\", \"kept\", \"delete\",\n"
"    \"maxDelete\", \"reclaimable\", \"refused\", \"refusal\"}} (the same\n"
"    bytes --plan-out writes); with --execute or --apply {\"plan\", \"run\":\n"
"    {\"id\", \"deleted\", \"skipped\", \"safekept\", \"safekeepFailed\",\n"
"    \"reclaimable\", \"deletions\": [{\"repository\", \"digest\", \"tags\",\n"
"    \"status\", \"error\"}], \"undo\"}, \"error\"}.\n"
"\n"
"EXIT STATUS\n"
"    0 the plan was made (dry run), or every planned delete was done;\n"
"    1 some deletes were skipped (the lines say why; the rest were\n"
"    done), the plan could not be written, or another run holds the\n"
"    catalog; 2 bad usage, an invalid policy or saved plan, a plan for\n"
"    another registry, or a credentials problem; 3 refused for safety:\n"
"    the plan deletes more than max_delete, a deployed source or the\n"
"    registry failed, or the plan is stale (an image it deletes is\n"
"    deployed now, a tag moved).\n"
"\n"
"EXAMPLES\n"
"    regvault prune --policy /etc/regvault/policy.yaml\n"
"    regvault prune --policy policy.yaml --plan-out plan.json\n"
"    regvault prune --policy policy.yaml --report plan.html\n"
"    jq '.images[] | select(.decision == \"delete\")' plan.json\n"
"    regvault prune --policy policy.yaml --apply plan.json\n"
"    regvault prune --policy policy.yaml --execute -o json >run.json\n"
"    regvault restore --run 42\n";

enum {
	OPT_POLICY = 1, OPT_EXECUTE, OPT_PLAN_OUT, OPT_APPLY, OPT_NOW, OPT_KUBECTL, OPT_REPORT,
	OPT_METRICS_FILE
};

static const struct cli_option prune_option_table[] = {
	{ "policy", 0, 1, OPT_POLICY },
	{ "execute", 0, 0, OPT_EXECUTE },
	{ "plan-out", 0, 1, OPT_PLAN_OUT },
	{ "apply", 0, 1, OPT_APPLY },
	{ "now", 0, 1, OPT_NOW },          /* hidden: pins the clock for tests */
	{ "kubectl", 0, 1, OPT_KUBECTL },
	{ "report", 0, 1, OPT_REPORT },
	{ "metrics-file", 0, 1, OPT_METRICS_FILE },
	{ NULL, 0, 0, 0 },
};

/* A saved plan is small; this only stops a wrong file from eating memory. */
#define PLAN_MAX (256u << 20)
/* TAGS are cut to this many columns in the table. */
#define TAGS_WIDTH 32

struct prune_args {
	const char *policy, *plan_out, *apply, *kubectl, *report, *metrics_file;
	int execute;
	int64_t now;
};

/* --- Options ---------------------------------------------------------------------- */

static int take_option(struct prune_args *a, int opt, const char *v)
{
	switch (opt) {
	case OPT_POLICY: a->policy = v; break;
	case OPT_EXECUTE: a->execute = 1; break;
	case OPT_PLAN_OUT: a->plan_out = v; break;
	case OPT_APPLY: a->apply = v; a->execute = 1; break;
	case OPT_KUBECTL: a->kubectl = v; break;
	case OPT_REPORT: a->report = v; break;
	case OPT_METRICS_FILE: a->metrics_file = v; break;
	case OPT_NOW:
		if (str_to_int64(v, &a->now) != 0 || a->now <= 0) {
			error_clear();
			return output_usage_error("prune", "invalid value '%s' for --now: expected "
			                          "seconds since the epoch", v);
		}
		break;
	default:
		return output_usage_error("prune", "unexpected argument '%s'", v);
	}
	return RV_EXIT_OK;
}

/* --plan-out's (--report's) directory must exist: found out now, not
 * after the plan. */
static int check_plan_out(const char *path, const char *option)
{
	char *dir = xstrdup(path), *slash = strrchr(dir, '/');
	struct stat st;
	int ok;

	if (slash)
		slash[slash == dir ? 1 : 0] = '\0';
	ok = !slash || (stat(dir, &st) == 0 && S_ISDIR(st.st_mode));
	free(dir);
	if (!ok)
		return output_usage_error("prune", "invalid value '%s' for --%s: its directory "
		                          "does not exist", path, option);
	return RV_EXIT_OK;
}

static int parse_args(struct prune_args *a, int argc, char **argv)
{
	struct cli_getopt p;
	const char *v;
	int opt, status;

	cli_getopt_init(&p, "prune", argc, argv);
	while ((opt = cli_getopt(&p, prune_option_table, &v)) != CLI_GETOPT_END) {
		if (opt == CLI_GETOPT_ERROR)
			return RV_EXIT_USAGE;
		if ((status = take_option(a, opt, v)) != RV_EXIT_OK)
			return status;
	}
	if (!a->policy)
		return output_usage_error("prune", "missing --policy FILE");
	if (a->apply && a->plan_out)
		return output_usage_error("prune", "--plan-out cannot be combined with --apply");
	if (a->plan_out && !*a->plan_out)
		return output_usage_error("prune", "invalid value '' for --plan-out: expected a path");
	if (a->apply && !*a->apply)
		return output_usage_error("prune", "invalid value '' for --apply: expected a path");
	if (a->kubectl && !*a->kubectl)
		return output_usage_error("prune", "invalid value '' for --kubectl: expected a "
		                          "program");
	if (a->report && !*a->report)
		return output_usage_error("prune", "invalid value '' for --report: expected a path");
	if (a->report && check_plan_out(a->report, "report") != RV_EXIT_OK)
		return RV_EXIT_USAGE;
	if (a->metrics_file && metrics_check_path("prune", a->metrics_file) != RV_EXIT_OK)
		return RV_EXIT_USAGE;
	return a->plan_out ? check_plan_out(a->plan_out, "plan-out") : RV_EXIT_OK;
}

/* --- The plan as text ----------------------------------------------------------------- */

static const char *decision_name(const struct prune_image *im)
{
	if (im->decision == PRUNE_DELETE)
		return "delete";
	return im->keep == PRUNE_PROTECTED ? "PROTECTED" : "keep";
}

/* "45m", "5h", "3d" since created; "-" when unknown. */
static const char *age(char *buf, size_t len, int64_t now, int64_t created)
{
	int64_t s = now - created;

	if (!created)
		return "-";
	if (s < 0)
		s = 0;
	if (s < 3600)
		snprintf(buf, len, "%lldm", (long long)(s / 60));
	else if (s < 86400)
		snprintf(buf, len, "%lldh", (long long)(s / 3600));
	else
		snprintf(buf, len, "%lldd", (long long)(s / 86400));
	return buf;
}

/* Comma-joined, cut to TAGS_WIDTH with "..."; "<none>" when untagged. */
static const char *tags_cell(char *buf, size_t len, const struct prune_image *im)
{
	struct buf b = BUF_INIT;

	for (size_t i = 0; i < im->n_tags; i++)
		buf_addf(&b, "%s%s", i ? "," : "", im->tags[i]);
	if (b.len > TAGS_WIDTH)
		snprintf(buf, len, "%.*s...", TAGS_WIDTH - 3, buf_cstr(&b));
	else
		snprintf(buf, len, "%s", im->n_tags ? buf_cstr(&b) : "<none>");
	buf_release(&b);
	return buf;
}

/* "sha256:" and 12 hex digits. */
static const char *short_digest(char *buf, size_t len, const char *digest)
{
	const char *colon = strchr(digest, ':');

	snprintf(buf, len, "%.*s", colon ? (int)(colon - digest) + 13 : 19, digest);
	return buf;
}

struct widths {
	int tags, age, size;
};

static void measure(const struct prune_plan *p, const struct prune_image **rows, size_t n,
                    struct widths *w)
{
	char buf[64];

	w->tags = 4;
	w->age = 3;
	w->size = 4;
	for (size_t i = 0; i < n; i++) {
		int t = (int)strlen(tags_cell(buf, sizeof(buf), rows[i]));
		int g = (int)strlen(age(buf, sizeof(buf), p->planned_at, rows[i]->created));
		int s = (int)strlen(str_human_bytes(rows[i]->size, buf, sizeof(buf)));
		w->tags = t > w->tags ? t : w->tags;
		w->age = g > w->age ? g : w->age;
		w->size = s > w->size ? s : w->size;
	}
}

static void print_row(const struct prune_plan *p, const struct prune_image *im,
                      const struct widths *w, int all_reasons)
{
	char tags[64], dig[32], ag[32], sz[32], why[1024];

	printf("  %-9s  %-*s  %-19s  %*s  %*s  %s\n", decision_name(im), w->tags,
	       tags_cell(tags, sizeof(tags), im), short_digest(dig, sizeof(dig), im->digest),
	       w->age, age(ag, sizeof(ag), p->planned_at, im->created), w->size,
	       str_human_bytes(im->size, sz, sizeof(sz)),
	       im->n_reasons ? str_printable(why, sizeof(why), im->reasons[0]) : "-");
	/* Further reasons under the first one. */
	for (size_t i = 1; all_reasons && i < im->n_reasons; i++)
		printf("  %*s%s\n", 9 + 2 + w->tags + 2 + 19 + 2 + w->age + 2 + w->size + 2, "",
		       str_printable(why, sizeof(why), im->reasons[i]));
}

/* A table per repository, then the summary line (the last line). With
 * verbose, index children and signatures too, and every reason. */
static void print_plan(const struct prune_plan *p, int verbose)
{
	const struct prune_image **rows = xcalloc(p->n_images + 1, sizeof(*rows));
	char rec[32], rpo[1024];
	struct widths w;
	size_t n = 0;

	for (size_t i = 0; i < p->n_images; i++)
		if (verbose || p->images[i].top)
			rows[n++] = &p->images[i];
	if (n > 1)
		qsort(rows, n, sizeof(*rows), prune_image_order);
	measure(p, rows, n, &w);
	for (size_t i = 0; i < n; i++) {
		if (!i || strcmp(rows[i - 1]->repository, rows[i]->repository) != 0) {
			printf("%s%s/%s\n", i ? "\n" : "", p->registry,
			       str_printable(rpo, sizeof(rpo), rows[i]->repository));
			printf("  %-9s  %-*s  %-19s  %*s  %*s  %s\n", "DECISION", w.tags, "TAGS",
			       "DIGEST", w.age, "AGE", w.size, "SIZE", "REASON");
		}
		print_row(p, rows[i], &w, verbose);
	}
	if (n)
		putchar('\n');
	printf("Protected: %zu | Kept: %zu | Delete: %zu | Reclaimable: %s\n", p->protected_,
	       p->kept, p->deleted, str_human_bytes(p->reclaimable, rec, sizeof(rec)));
	free(rows);
}

/* --- The run as text ------------------------------------------------------------------- */

static void print_deletion(const struct prune_deletion *d)
{
	char why[1024];

	printf("%-7s  %s@%s (", d->done ? "deleted" : "SKIPPED", d->repository, d->digest);
	if (!d->n_tags)
		printf("untagged");
	for (size_t i = 0; i < d->n_tags; i++)
		printf("%s%s", i ? ", " : "", d->tags[i]);
	if (d->done)
		printf(")\n");
	else
		printf("): %s\n", str_printable(why, sizeof(why), d->why ? d->why : "not deleted"));
}

static void print_report(const struct prune_report *r, int quiet)
{
	char sz[32];

	for (size_t i = 0; i < r->n_deletions; i++)
		print_deletion(&r->deletions[i]);
	printf("prune run %lld: %zu deleted, %zu skipped; %zu copies kept safe", (long long)r->run_id,
	       r->deleted, r->skipped, r->safekept);
	if (r->safekeep_failed)
		printf(", %zu failed", r->safekeep_failed);
	putchar('\n');
	if (r->deleted)
		printf("undo: regvault restore --run %lld\n", (long long)r->run_id);
	if (r->deleted && !quiet)
		fprintf(stderr, "regvault: note: the registry frees the space (up to %s) only when its "
		        "garbage collection runs (for distribution: registry garbage-collect CONFIG)\n",
		        str_human_bytes(r->reclaimable, sz, sizeof(sz)));
}

/* --- JSON ---------------------------------------------------------------------------- */

static json_t *plan_doc(const struct prune_plan *p)
{
	char *text = prune_plan_json(p);
	json_t *doc = json_loads(text, 0, NULL);

	free(text);
	if (!doc)
		xdie("cannot read back the plan document");
	return doc;
}

static json_t *strings_json(char *const *v, size_t n)
{
	json_t *a = json_array();

	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, output_json_string(v[i]));
	return a;
}

static json_t *error_json(int rc, const char *msg)
{
	return json_pack("{s:s,s:o}", "code", error_code_name(rc), "message",
	                 output_json_string(msg));
}

static json_t *report_json(const struct prune_report *r)
{
	json_t *dels = json_array();
	char *undo = xasprintf("regvault restore --run %lld", (long long)r->run_id);
	json_t *o;

	for (size_t i = 0; i < r->n_deletions; i++) {
		const struct prune_deletion *d = &r->deletions[i];
		json_array_append_new(dels, json_pack("{s:o,s:s,s:o,s:s,s:o}",
		                      "repository", output_json_string(d->repository),
		                      "digest", d->digest, "tags", strings_json(d->tags, d->n_tags),
		                      "status", d->done ? "deleted" : "skipped",
		                      "error", d->done ? json_null()
		                                       : error_json(d->rc ? d->rc : RV_ERROR,
		                                                    d->why ? d->why : "not deleted")));
	}
	o = json_pack("{s:I,s:I,s:I,s:I,s:I,s:I,s:o,s:o}", "id", (json_int_t)r->run_id,
	              "deleted", (json_int_t)r->deleted, "skipped", (json_int_t)r->skipped,
	              "safekept", (json_int_t)r->safekept,
	              "safekeepFailed", (json_int_t)r->safekeep_failed,
	              "reclaimable", (json_int_t)r->reclaimable, "deletions", dels,
	              "undo", r->deleted ? json_string(undo) : json_null());
	free(undo);
	return o;
}

/* --- Refusals ------------------------------------------------------------------------- */

/* Exit 3 for rc (its message set): a plan or run that could not be made
 * safely. Credentials and certificates are the user's to fix (exit 2).
 * In json mode the error document goes out unless a document did. */
static int refuse(int rc, int doc_printed)
{
	char msg[1024];
	int usage = rc == RV_EAUTH || rc == RV_ETLS;

	if (!usage && !str_has_prefix(error_msg(), "refused"))
		error_wrap(rc, "refused for safety");
	if (!doc_printed)
		return usage ? output_error(rc) : (output_error(rc), RV_EXIT_REFUSED);
	fprintf(stderr, "regvault: error: %s\n", str_printable(msg, sizeof(msg), error_msg()));
	return usage ? rv_exit_code(rc) : RV_EXIT_REFUSED;
}

/* --- Making, reading and carrying out the plan ------------------------------------------ */

/* The saved plan, checked against the policy before anything is contacted. */
static int read_plan(struct prune_plan *out, const char *path, const struct policy *pol)
{
	struct buf b = BUF_INIT;
	int rc = fs_read_file(&b, path, PLAN_MAX);
	size_t allowed;

	if (rc == 0)
		rc = prune_plan_parse(out, buf_cstr(&b), b.len, path);
	buf_release(&b);
	if (rc != 0) {
		output_error(rc);
		return RV_EXIT_USAGE;   /* a missing or unreadable plan too: what was typed */
	}
	if (strcmp(out->registry, pol->registry) != 0) {
		error_set(RV_EINVALID, "%s: the plan is for registry \"%s\", but %s prunes \"%s\"",
		          path, out->registry, pol->path, pol->registry);
		return output_error(RV_EINVALID);
	}
	/* The policy may have tightened since: its max_delete now decides. */
	allowed = policy_max_delete(pol, out->in_scope);
	if (!out->refused && out->deleted > allowed) {
		out->refused = 1;
		out->refusal = xasprintf("the plan deletes %zu of %zu images in scope; max_delete of "
		                         "%s allows %zu", out->deleted, out->in_scope, pol->path,
		                         allowed);
	}
	return RV_EXIT_OK;
}

struct run {
	const struct cli_globals *g;
	const struct prune_args *a;
	struct prune_options o;
	struct prune_plan plan;
	struct prune_report rep;
	int locked;                 /* another run holds the catalog: no metrics */
};

/* With --execute or --apply the JSON document is {"plan", "run", "error"}
 * whatever happens; a dry run's is the plan itself. */
static int print_run_json(const struct run *r, int rc)
{
	json_t *doc = json_pack("{s:o,s:o}", "plan", plan_doc(&r->plan), "run",
	                        r->rep.run_id ? report_json(&r->rep) : json_null());

	if (rc != 0)
		json_object_set_new(doc, "error", error_json(rc, error_msg()));
	return output_json(doc);
}

/* Shows the plan (and saves it); RV_EXIT_OK when it may be carried out. */
static int show_plan(struct run *r)
{
	char *text;
	int rc, status = RV_EXIT_OK;

	if (r->a->plan_out) {
		text = prune_plan_json(&r->plan);
		rc = fs_write_atomic(r->a->plan_out, text, strlen(text), 0600);
		free(text);
		if (rc != 0)
			return output_error(rc);
	}
	/* Before anything is deleted, and a refused plan too: it is the one
	 * most worth looking at. */
	if (r->a->report &&
	    (rc = report_write_file(r->a->report, &r->plan, r->a->now ? r->a->now : time_now())) != 0)
		return output_error(rc);
	if (r->plan.refused)
		error_set(RV_EDENIED, "refused for safety: %s",
		          r->plan.refusal ? r->plan.refusal : "the plan deletes too much");
	if (!output_is_json()) {
		print_plan(&r->plan, r->g->verbose);
		fflush(stdout);
	} else if (!r->a->execute) {
		status = output_json(plan_doc(&r->plan));
	} else if (r->plan.refused) {
		status = print_run_json(r, RV_EDENIED);
	}
	if (r->plan.refused)
		return refuse(RV_EDENIED, 1);
	if (!r->a->execute && !r->g->quiet && !output_is_json())
		fprintf(stderr, "regvault: note: dry run: nothing deleted; add --execute to delete\n");
	return status;
}

/* --apply's promise (prune.h): the saved plan or nothing. A fresh plan
 * must still delete every image the saved one deletes, with its tags. */
static int still_true(struct run *r)
{
	struct prune_plan fresh;
	int rc = prune_plan(&r->o, &fresh);

	if (rc == 0)
		rc = prune_plan_check(&r->plan, &fresh);
	free(fresh.policy);
	fresh.policy = NULL;
	prune_plan_release(&fresh);
	return rc;
}

/* Carries out the plan and says how it went: exit 0 all done, 1 some
 * deletes skipped (or a failure after some were done), 3 refused. */
static int execute(struct run *r)
{
	cli_progress *prog = NULL;
	int rc, skipped, status = RV_EXIT_OK;

	if ((rc = r->a->apply ? still_true(r) : 0) == 0) {
		prog = cli_progress_new("prune", r->g);
		cli_progress_attach(prog, &r->o.xfer);
		rc = prune_execute(&r->o, &r->plan, &r->rep);
		cli_progress_free(prog);
	}
	skipped = rc == RV_ERROR && r->rep.skipped > 0;
	/* Stopped before deleting anything (stale, unsafe): say so in the
	 * document too. */
	if (rc != 0 && !skipped && !r->rep.deleted && rc != RV_EAUTH && rc != RV_ETLS &&
	    !str_has_prefix(error_msg(), "refused"))
		error_wrap(rc, "refused for safety");
	if (output_is_json())
		status = print_run_json(r, rc);
	else if (r->rep.run_id && (rc == 0 || skipped || r->rep.n_deletions))
		print_report(&r->rep, r->g->quiet);
	if (rc == 0 || status != RV_EXIT_OK)
		return status;
	if (skipped || r->rep.deleted) {
		if (output_is_json())
			return RV_EXIT_FAILURE;   /* the document holds the error */
		output_error(rc);
		return RV_EXIT_FAILURE;
	}
	return refuse(rc, output_is_json());
}

static int run(struct run *r, const struct policy *pol)
{
	int rc, status;

	/* A saved plan that is wrong or refused stops here: no catalog, no
	 * registry. */
	if (r->a->apply && (status = read_plan(&r->plan, r->a->apply, pol)) != RV_EXIT_OK)
		return status;
	if (r->a->apply && r->plan.refused)
		return show_plan(r);
	if ((rc = cli_catalog_open(&r->o.cat, r->g, CATALOG_WRITE)) != 0 ||
	    (rc = cli_session_new(&r->o.session, r->g)) != 0) {
		r->locked = rc == RV_EEXISTS;
		return output_error(rc);
	}
	if (!r->a->apply && (rc = prune_plan(&r->o, &r->plan)) != 0)
		return refuse(rc, 0);
	if (!r->plan.policy)
		r->plan.policy = xstrdup(pol->path);
	if ((status = show_plan(r)) != RV_EXIT_OK || !r->a->execute)
		return status;
	return execute(r);
}

/* --metrics-file, after the run whatever became of it (metrics.h). A run
 * that stopped before it had a plan reports zeros with success 0. */
static int write_metrics(const struct run *r, const struct policy *pol, int64_t t0,
                         int status)
{
	const char *images = "Top-level images of the last prune run's plan, by decision.";
	const struct prune_plan *p = &r->plan;
	const struct metrics_sample s[] = {
		{ "images", images, "protected", (int64_t)p->protected_ },
		{ "images", images, "kept", (int64_t)p->kept },
		{ "images", images, "delete", (int64_t)p->deleted },
		{ "manifests_deleted", "Manifests the last prune run deleted, an index's "
		  "children counted too (0 in a dry run).", NULL, (int64_t)r->rep.deleted },
		{ "deletes_skipped", "Planned deletes the last prune run skipped (no verified "
		  "copy, a tag moved).", NULL, (int64_t)r->rep.skipped },
		{ "bytes_reclaimable", "Bytes of blobs only the plan's deleted images use "
		  "(an upper bound).", NULL, p->reclaimable },
		{ "executed", "1 when the last prune run was to delete (--execute or --apply), "
		  "0 for a dry run.", NULL, r->a->execute ? 1 : 0 },
		{ "refused", "1 when the last prune run was refused for safety (exit status 3).",
		  NULL, status == RV_EXIT_REFUSED ? 1 : 0 },
	};
	struct metrics_run m = {
		"prune", "registry", pol->registry, s, sizeof(s) / sizeof(s[0]),
		time_mono_ms() - t0, time_now(), status == RV_EXIT_OK, 0,
	};

	return metrics_finish(r->a->metrics_file, &m, status);
}

int cmd_prune(int argc, char **argv, const struct cli_globals *g)
{
	struct prune_args a = { 0 };
	struct run r = { 0 };
	struct policy *pol = NULL;
	char *args = NULL;
	int64_t t0 = time_mono_ms();
	int rc, status = parse_args(&a, argc, argv);

	if (status != RV_EXIT_OK)
		return status;
	/* A policy that is not exactly right stops everything here (and
	 * writes no metrics: their last_run_timestamp going stale says it). */
	if ((rc = policy_load(&pol, a.policy)) != 0)
		return output_error(rc);
	args = output_args_json(argc, argv);
	r.g = g;
	r.a = &a;
	r.o.policy = pol;
	r.o.xfer = (struct xfer_options)XFER_OPTIONS_INIT;
	r.o.xfer.jobs = g->jobs;
	r.o.deployed = (struct deployed_options)DEPLOYED_OPTIONS_INIT;
	r.o.deployed.kubectl = a.kubectl;
	r.o.now = a.now;
	r.o.args_json = args;
	status = run(&r, pol);
	/* A run refused by the lock did nothing: the run holding it reports. */
	if (a.metrics_file && !r.locked)
		status = write_metrics(&r, pol, t0, status);
	prune_report_release(&r.rep);
	free(r.plan.policy);   /* set here, or read from the saved plan */
	r.plan.policy = NULL;
	prune_plan_release(&r.plan);
	catalog_close(r.o.cat);
	registry_session_free(r.o.session);
	policy_free(pol);
	free(args);
	return status;
}
