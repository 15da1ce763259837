/*
 * cmd_deployed.c — `regvault deployed --deployed SRC... [--check]
 * [--restore]`: what is deployed, by digest; is it still in its registry;
 * bring back what is not.
 *
 * The 23:30 question after `ImagePullBackOff: manifest unknown` is "what
 * else is gone?": --check answers it for everything deployed at once, and
 * --restore brings the missing ones back from the catalog's stores.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "cli/commands.h"
#include "cli/exitcode.h"
#include "cli/output.h"
#include "deployed/deployed.h"
#include "restore/restore.h"
#include "util/error.h"
#include "util/log.h"
#include "util/str.h"
#include "xfer/xfer.h"
#include "util/banned.h"

const char cmd_deployed_help[] =
"NAME\n"
"    regvault deployed - what is deployed, by digest; check it, restore it\n"
"\n"
"SYNOPSIS\n"
"    regvault deployed --deployed SRC... [--check] [--restore]\n"
"                      [--rollback N]\n"
"\n"
"DESCRIPTION\n"
"    Reads which images are deployed from every SRC, the same sources a\n"
"    prune policy names, and resolves each tag to the digest its\n"
"    registry holds now. Pod, init and ephemeral containers, the running\n"
"    imageID of each pod, every workload's pod template (CronJobs and\n"
"    Deployments scaled to zero too) and, with --rollback, older\n"
"    ReplicaSet revisions all count. A source that fails, or names no\n"
"    image at all, is an error: never 'nothing deployed'.\n"
"\n"
"    SRC is one of\n"
"      kubectl[:CONTEXT]     runs kubectl [--context CONTEXT] get pods,\n"
"                            replicasets, deployments, statefulsets,\n"
"                            daemonsets, jobs, cronjobs -A -o json\n"
"      kubernetes-json:FILE  the saved output of such a command\n"
"      refs-file:FILE        one image reference per line, # comments\n"
"\n"
"    Text output: one line per distinct reference, the reference, its\n"
"    digest and where it was found first (\"(+N more)\" when elsewhere\n"
"    too). A tag that does not resolve is shown with '-' and an error.\n"
"\n"
"    --check then verifies that each image is really there: its manifest\n"
"    by digest and every blob it needs (for an index its children too).\n"
"    Each line starts 'present' or 'MISSING' (with what is missing:\n"
"    'manifest unknown' or 'blob sha256:... missing'), or 'FAILED' when\n"
"    the registry could not be asked; a summary line ends the list.\n"
"    For a tag that is gone, the digest is the catalog's, when known.\n"
"\n"
"    --restore checks too, then restores each missing image from the\n"
"    catalog's stores (see regvault help restore): by digest when it is\n"
"    known to the registry or pinned, by its tag when the tag is gone.\n"
"    Each restore prints its own line; every restored image is checked\n"
"    again.\n"
"\n"
"OPTIONS\n"
"    --deployed SRC\n"
"        Where to read deployed images (repeatable, at least one).\n"
"    --check\n"
"        Verify that every deployed image is in its registry, whole.\n"
"    --restore\n"
"        Check, then restore what is missing.\n"
"    --rollback N\n"
"        Also count the N newest older ReplicaSet revisions of each\n"
"        Deployment (what 'kubectl rollout undo' returns to). Default 0.\n"
"\n"
"    The global options (regvault --help) apply too: --jobs tags are\n"
"    resolved at once; --catalog names the catalog for --restore. With\n"
"    --output json the result is an array, one object per reference:\n"
"    {\"ref\", \"registry\", \"repository\", \"tag\", \"digest\", \"places\":\n"
"    [{\"text\", \"where\", \"why\"}], \"error\"}, with --check also \"status\"\n"
"    (present, missing, failed, restored) and \"problem\", with --restore\n"
"    \"restore\" (as regvault restore -o json prints it, or {\"error\"}).\n"
"\n"
"EXIT STATUS\n"
"    0 every reference resolved (--check: every image is present;\n"
"    --restore: every missing one came back and is present now); 1 some\n"
"    image is missing or could not be checked or restored, a tag did not\n"
"    resolve, a file is missing, kubectl failed or timed out; 2 bad\n"
"    usage, a bad SRC, a file that is not valid JSON or holds an invalid\n"
"    reference, a source naming no image, or a credentials problem.\n"
"\n"
"EXAMPLES\n"
"    regvault deployed --deployed kubectl:prod\n"
"    regvault deployed --deployed kubectl:prod --check\n"
"    regvault deployed --deployed kubectl:prod --restore\n"
"    kubectl get pods -A -o json >cluster.json\n"
"    regvault deployed --deployed kubernetes-json:cluster.json \\\n"
"        --deployed refs-file:deployed.txt --check -o json\n";

enum { OPT_DEPLOYED = 1, OPT_CHECK, OPT_RESTORE, OPT_ROLLBACK };

static const struct cli_option deployed_option_table[] = {
	{ "deployed", 0, 1, OPT_DEPLOYED },
	{ "check", 0, 0, OPT_CHECK },
	{ "restore", 0, 0, OPT_RESTORE },
	{ "rollback", 0, 1, OPT_ROLLBACK },
	{ NULL, 0, 0, 0 },
};

struct deployed_args {
	struct deployed_source *sources;
	size_t n_sources;
	int check, restore, rollback;
};

enum state { ST_LISTED = 0, ST_PRESENT, ST_MISSING, ST_FAILED, ST_RESTORED };

/* One distinct reference and every place it was found. */
struct item {
	char *name;                    /* canonical "host/repo[:tag][@digest]" */
	const struct oci_ref *ref;     /* of its first place */
	size_t *places;                /* indices into the deployed set */
	size_t n_places;
	char digest[OCI_DIGEST_MAX];   /* "" when unknown */
	int rc;                        /* resolving: 0, or why the tag did not resolve */
	char *msg;
	enum state state;
	char *problem;                 /* MISSING/FAILED: what */
	int restore_rc;                /* --restore: 0, or why it failed */
	char *restore_msg;
	struct restore_report rep;
	int restore_tried;
};

/* One registry the references name: a client on the shared session. */
struct reg {
	char *name;
	registry_client *client;
	struct oci_store *store;
	int rc;                        /* why it could not be opened */
	char *msg;
};

struct run {
	const struct deployed_set *set;
	struct item *items;
	size_t n;
	struct reg *regs;
	size_t n_regs;
	registry_session *session;
	catalog *cat;                  /* for --restore, or read-only for digests of lost tags */
	int cat_writable;
	const struct cli_globals *g;
	char *args;
};

/* --- Options ------------------------------------------------------------------- */

static int take_option(struct deployed_args *a, int opt, const char *v)
{
	char *end;
	long n;

	switch (opt) {
	case OPT_DEPLOYED:
		a->sources = xrealloc(a->sources, (a->n_sources + 1) * sizeof(*a->sources));
		if (deployed_source_parse(&a->sources[a->n_sources], v) != 0)
			return output_usage_error("deployed", "%s", error_msg());
		a->n_sources++;
		return RV_EXIT_OK;
	case OPT_CHECK: a->check = 1; return RV_EXIT_OK;
	case OPT_RESTORE: a->restore = a->check = 1; return RV_EXIT_OK;
	case OPT_ROLLBACK:
		n = strtol(v, &end, 10);
		if (!*v || *end || n < 0 || n > 100 || v[0] == '+' || v[0] == '-')
			return output_usage_error("deployed", "invalid value '%s' for --rollback: "
			                          "expected a number from 0 to 100", v);
		a->rollback = (int)n;
		return RV_EXIT_OK;
	default:
		return output_usage_error("deployed", "unexpected argument '%s'", v);
	}
}

static int parse_args(struct deployed_args *a, int argc, char **argv)
{
	struct cli_getopt p;
	const char *v;
	int opt, status;

	cli_getopt_init(&p, "deployed", argc, argv);
	while ((opt = cli_getopt(&p, deployed_option_table, &v)) != CLI_GETOPT_END) {
		if (opt == CLI_GETOPT_ERROR)
			return RV_EXIT_USAGE;
		if ((status = take_option(a, opt, v)) != RV_EXIT_OK)
			return status;
	}
	if (a->n_sources == 0)
		return output_usage_error("deployed", "missing --deployed SRC");
	return RV_EXIT_OK;
}

/* --- Distinct references, resolved ------------------------------------------------ */

/* One entry of the set under its canonical name, for sorting. */
struct named {
	char *name;
	size_t index;
};

static int by_name(const void *a, const void *b)
{
	const struct named *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	return c ? c : x->index < y->index ? -1 : x->index > y->index;
}

/* Groups the set by canonical reference, sorted by it; each item's places
 * stay in the order they were found. */
static void group(struct run *r)
{
	struct named *v = xcalloc(r->set->n + 1, sizeof(*v));
	struct item *it = NULL;

	for (size_t i = 0; i < r->set->n; i++) {
		v[i].name = oci_ref_string(&r->set->refs[i].ref);
		v[i].index = i;
	}
	if (r->set->n > 1)
		qsort(v, r->set->n, sizeof(*v), by_name);
	for (size_t i = 0; i < r->set->n; i++) {
		if (it && !strcmp(it->name, v[i].name)) {
			free(v[i].name);
		} else {
			r->items = xrealloc(r->items, (r->n + 1) * sizeof(*r->items));
			it = &r->items[r->n++];
			memset(it, 0, sizeof(*it));
			it->name = v[i].name;
			it->ref = &r->set->refs[v[i].index].ref;
		}
		it->places = xrealloc(it->places, (it->n_places + 1) * sizeof(*it->places));
		it->places[it->n_places++] = v[i].index;
	}
	free(v);
}

/* The registry's entry, opened on first use. */
static struct reg *reg_for(struct run *r, const char *name)
{
	struct reg *rg;

	for (size_t i = 0; i < r->n_regs; i++)
		if (!strcmp(r->regs[i].name, name))
			return &r->regs[i];
	r->regs = xrealloc(r->regs, (r->n_regs + 1) * sizeof(*r->regs));
	rg = &r->regs[r->n_regs++];
	memset(rg, 0, sizeof(*rg));
	rg->name = xstrdup(name);
	if ((rg->rc = registry_client_open(&rg->client, r->session, name)) == 0)
		rg->rc = registry_store_new(&rg->store, rg->client);
	if (rg->rc != 0) {   /* every reference to it fails with this */
		rg->msg = xstrdup(error_msg());
		error_clear();
	}
	return rg;
}

/* Every reference of one registry at once (--jobs HEADs); a pinned digest
 * is taken as it is and checked later. */
static void resolve_registry(struct run *r, struct reg *rg)
{
	struct xfer_found *f = NULL;
	size_t *idx = NULL, n = 0;

	for (size_t i = 0; i < r->n; i++) {
		const struct oci_ref *ref = r->items[i].ref;
		if (strcmp(ref->registry, rg->name) != 0)
			continue;
		f = xrealloc(f, (n + 1) * sizeof(*f));
		idx = xrealloc(idx, (n + 1) * sizeof(*idx));
		memset(&f[n], 0, sizeof(*f));
		f[n].repo = xstrdup(ref->repository);
		f[n].ref = xstrdup(ref->digest ? ref->digest : ref->tag);
		idx[n++] = i;
	}
	if (rg->store)
		xfer_resolve(rg->store, f, n, r->g->jobs);
	for (size_t k = 0; k < n; k++) {
		struct item *it = &r->items[idx[k]];
		it->rc = rg->store ? f[k].rc : rg->rc;
		it->msg = xstrdup(rg->store ? (f[k].msg ? f[k].msg : "") : rg->msg);
		if (it->rc == 0)
			snprintf(it->digest, sizeof(it->digest), "%s", f[k].digest);
	}
	xfer_found_free(f, n);
	free(idx);
}

/* A tag that is gone from its registry: the digest the catalog saw last. */
static void digest_from_catalog(struct run *r, struct item *it)
{
	if (r->cat && it->rc == RV_ENOTFOUND && it->ref->tag &&
	    catalog_tag_resolve(r->cat, it->ref->registry, it->ref->repository, it->ref->tag, 0,
	                        it->digest) != 0) {
		it->digest[0] = '\0';
		error_clear();
	}
}

static void resolve_all(struct run *r)
{
	for (size_t i = 0; i < r->n; i++)
		reg_for(r, r->items[i].ref->registry);
	for (size_t i = 0; i < r->n_regs; i++)
		resolve_registry(r, &r->regs[i]);
	for (size_t i = 0; i < r->n; i++)
		digest_from_catalog(r, &r->items[i]);
}

/* --- Is it there? ------------------------------------------------------------------ */

static int check_blob(registry_client *c, const char *repo, const char *digest,
                      char **problem)
{
	int rc = registry_blob_head(c, repo, digest, NULL);

	if (rc == RV_ENOTFOUND)
		*problem = xasprintf("blob %s missing", digest);
	return rc;
}

/* Checks one manifest by digest and what it needs: blobs of an image,
 * children of an index (depth-limited: indexes of indexes are rare).
 * 0 present; RV_ENOTFOUND with *problem saying what is missing; other
 * codes when the registry could not be asked. */
static int check_manifest(registry_client *c, const char *repo, const char *digest, int depth,
                          char **problem)
{
	struct oci_manifest *m = NULL;
	int rc = registry_manifest_get(c, repo, digest, &m);

	if (rc == RV_ENOTFOUND)
		*problem = depth ? xasprintf("manifest %s missing", digest)
		                 : xstrdup("manifest unknown");
	for (size_t i = 0; rc == 0 && depth < 4 && m->kind == OCI_KIND_INDEX &&
	                   i < m->n_manifests; i++)
		rc = check_manifest(c, repo, m->manifests[i].digest, depth + 1, problem);
	if (rc == 0 && m->kind == OCI_KIND_IMAGE)
		rc = check_blob(c, repo, m->config.digest, problem);
	for (size_t i = 0; rc == 0 && m->kind == OCI_KIND_IMAGE && i < m->n_layers; i++)
		if (!oci_descriptor_is_foreign(&m->layers[i]))
			rc = check_blob(c, repo, m->layers[i].digest, problem);
	oci_manifest_free(m);
	return rc;
}

static void check_item(struct run *r, struct item *it)
{
	struct reg *rg = reg_for(r, it->ref->registry);
	int rc;

	free(it->problem);
	it->problem = NULL;
	if (it->rc == RV_ENOTFOUND) {   /* the tag is gone */
		it->state = ST_MISSING;
		it->problem = xstrdup("manifest unknown");
		return;
	}
	if (it->rc != 0) {
		it->state = ST_FAILED;
		it->problem = xstrdup(it->msg ? it->msg : "failed");
		return;
	}
	rc = check_manifest(rg->client, it->ref->repository, it->digest, 0, &it->problem);
	it->state = rc == 0 ? ST_PRESENT : rc == RV_ENOTFOUND ? ST_MISSING : ST_FAILED;
	if (rc != 0 && !it->problem)
		it->problem = xstrdup(error_msg());
	error_clear();
}

/* --- Bringing back what is missing ------------------------------------------------ */

/* By tag only when the registry lost the tag and the reference names no
 * digest: a tag the registry still resolves points at the right digest
 * already, and restoring "by tag" from the catalog could move it back. */
static char *restore_name(const struct item *it)
{
	const struct oci_ref *ref = it->ref;

	if (it->rc == RV_ENOTFOUND && !ref->digest)
		return xasprintf("%s/%s:%s", ref->registry, ref->repository, ref->tag);
	return xasprintf("%s/%s@%s", ref->registry, ref->repository,
	                 ref->digest ? ref->digest : it->digest);
}

static void restore_item(struct run *r, struct item *it)
{
	struct restore_options o = { 0 };
	struct oci_manifest_info info;
	struct reg *rg = reg_for(r, it->ref->registry);
	char *name = restore_name(it), *was;

	o.ref = name;
	o.cat = r->cat;
	o.session = r->session;
	o.xfer = (struct xfer_options)XFER_OPTIONS_INIT;
	o.xfer.jobs = r->g->jobs;
	o.args_json = r->cat_writable ? r->args : NULL;
	it->restore_tried = 1;
	if ((it->restore_rc = restore_run(&o, &it->rep)) != 0) {
		it->restore_msg = xstrdup(error_msg());
		error_clear();
		free(name);
		return;
	}
	free(name);
	/* Check again, as the registry now answers. */
	if (!it->ref->digest && registry_manifest_head(rg->client, it->ref->repository,
	                                                it->ref->tag, &info) == 0) {
		snprintf(it->digest, sizeof(it->digest), "%s", info.digest);
		it->rc = 0;
	}
	error_clear();
	was = it->problem;   /* what was missing, kept for the JSON */
	it->problem = NULL;
	check_item(r, it);
	if (it->state == ST_PRESENT) {
		it->state = ST_RESTORED;
		it->problem = was;
	} else {
		free(was);
	}
}

static int open_catalog(struct run *r, int restore)
{
	struct stat st;
	int rc;

	if (restore) {
		if ((rc = cli_restore_catalog_open(&r->cat, r->g, 0, &r->cat_writable)) != 0)
			return output_error(rc);
		return RV_EXIT_OK;
	}
	/* Checking only: the catalog, when there is one, names the digest of
	 * a tag that is gone. Read without the lock; no catalog is fine. */
	if (r->g->catalog && stat(r->g->catalog, &st) == 0 &&
	    catalog_open(&r->cat, r->g->catalog, CATALOG_READ) != 0) {
		r->cat = NULL;
		error_clear();
	}
	return RV_EXIT_OK;
}

/* --- Output -------------------------------------------------------------------------- */

static const char *why_name(enum deployed_why w)
{
	switch (w) {
	case DEPLOYED_RUNNING: return "running";
	case DEPLOYED_TEMPLATE: return "template";
	case DEPLOYED_ROLLBACK: return "rollback";
	case DEPLOYED_LISTED: return "listed";
	}
	return "unknown";
}

static const char *state_name(enum state s)
{
	switch (s) {
	case ST_LISTED: return "listed";
	case ST_PRESENT: return "present";
	case ST_MISSING: return "missing";
	case ST_FAILED: return "failed";
	case ST_RESTORED: return "restored";
	}
	return "unknown";
}

static void print_where(const struct run *r, const struct item *it)
{
	char buf[1024];

	printf("  %s", str_printable(buf, sizeof(buf), r->set->refs[it->places[0]].where));
	if (it->n_places > 1)
		printf(" (+%zu more)", it->n_places - 1);
	putchar('\n');
}

static int name_width(const struct run *r)
{
	int width = 0;

	for (size_t i = 0; i < r->n; i++)
		if ((int)strlen(r->items[i].name) > width)
			width = (int)strlen(r->items[i].name);
	return width;
}

/* One line: [STATUS  ]REF  DIGEST[  PROBLEM]  WHERE. */
static void print_item(const struct run *r, const struct item *it, int check, const char *prefix)
{
	char buf[1024];

	if (check)
		printf("%-7s  ", it->state == ST_MISSING ? "MISSING" : it->state == ST_FAILED ?
		       "FAILED" : "present");
	printf("%-*s  %s", name_width(r), it->name, it->digest[0] ? it->digest : "-");
	if (check && it->problem)
		printf("  %s%s", prefix, str_printable(buf, sizeof(buf), it->problem));
	print_where(r, it);
}

/* Every reference as resolved (and checked), then with --check a summary. */
static void print_listing(const struct run *r, int check)
{
	size_t present = 0, missing = 0, failed = 0;

	for (size_t i = 0; i < r->n; i++) {
		print_item(r, &r->items[i], check, "");
		present += r->items[i].state == ST_PRESENT;
		missing += r->items[i].state == ST_MISSING;
		failed += r->items[i].state == ST_FAILED;
	}
	if (!check)
		return;
	printf("deployed: %zu references, %zu present, %zu missing", r->n, present, missing);
	if (failed)
		printf(", %zu not checked", failed);
	putchar('\n');
}

/* How one restore went: its line, and the check after it when that
 * still finds something missing. */
static void print_restored(const struct run *r, const struct item *it)
{
	char buf[1024];

	if (it->restore_rc)
		printf("FAILED   restore %s: %s\n", it->name,
		       str_printable(buf, sizeof(buf), it->restore_msg));
	else
		cli_restore_print(&it->rep);
	if (!it->restore_rc && it->state != ST_RESTORED)
		print_item(r, it, 1, "after restore: ");
}

static void print_restore_summary(const struct run *r)
{
	size_t tried = 0, back = 0;

	for (size_t i = 0; i < r->n; i++) {
		tried += r->items[i].restore_tried;
		back += r->items[i].state == ST_RESTORED;
	}
	printf("restore: %zu of %zu missing references restored and present again\n", back,
	       tried);
}

static json_t *item_json(const struct run *r, const struct item *it, const struct deployed_args *a)
{
	json_t *places = json_array(), *o;
	const struct oci_ref *ref = it->ref;

	for (size_t k = 0; k < it->n_places; k++) {
		const struct deployed_ref *d = &r->set->refs[it->places[k]];
		json_array_append_new(places, json_pack("{s:o,s:o,s:s}", "text",
		                      output_json_string(d->text), "where",
		                      output_json_string(d->where), "why", why_name(d->why)));
	}
	o = json_pack("{s:o,s:o,s:o,s:o,s:o,s:o}", "ref", output_json_string(it->name),
	              "registry", output_json_string(ref->registry),
	              "repository", output_json_string(ref->repository),
	              "tag", ref->tag ? output_json_string(ref->tag) : json_null(),
	              "digest", it->digest[0] ? json_string(it->digest) : json_null(),
	              "places", places);
	if (it->rc && !a->check)
		json_object_set_new(o, "error", json_pack("{s:s,s:o}", "code", error_code_name(it->rc),
		                    "message", output_json_string(it->msg ? it->msg : "")));
	if (a->check) {
		json_object_set_new(o, "status", json_string(state_name(it->state)));
		json_object_set_new(o, "problem", it->problem ? output_json_string(it->problem)
		                                              : json_null());
	}
	if (it->restore_tried && it->restore_rc)
		json_object_set_new(o, "restore", json_pack("{s:{s:s,s:o}}", "error", "code",
		                    error_code_name(it->restore_rc), "message",
		                    output_json_string(it->restore_msg)));
	else if (it->restore_tried)
		json_object_set_new(o, "restore", cli_restore_json(&it->rep));
	return o;
}

/* Anything not resolved, present or brought back is a failure. */
static int outcome(const struct run *r, int check)
{
	for (size_t i = 0; i < r->n; i++) {
		const struct item *it = &r->items[i];
		if (check ? it->state != ST_PRESENT && it->state != ST_RESTORED : it->rc != 0)
			return RV_EXIT_FAILURE;
	}
	return RV_EXIT_OK;
}

static int print_json(const struct run *r, const struct deployed_args *a)
{
	json_t *arr = json_array();

	for (size_t i = 0; i < r->n; i++)
		json_array_append_new(arr, item_json(r, &r->items[i], a));
	return output_json(arr);
}

/* Text goes out as it happens (a restore can take a while); JSON at the
 * end, as one document. */
static int check_and_restore(struct run *r, const struct deployed_args *a)
{
	int status = RV_EXIT_OK;

	for (size_t i = 0; a->check && i < r->n; i++)
		check_item(r, &r->items[i]);
	for (size_t i = 0; !a->check && i < r->n; i++)
		if (r->items[i].rc)
			log_msg(LOGLV_ERROR, "%s", r->items[i].msg ? r->items[i].msg : "cannot resolve");
	if (!output_is_json()) {
		print_listing(r, a->check);
		fflush(stdout);
	}
	for (size_t i = 0; a->restore && i < r->n; i++) {
		if (r->items[i].state != ST_MISSING)
			continue;
		restore_item(r, &r->items[i]);
		if (!output_is_json())
			print_restored(r, &r->items[i]);
	}
	if (a->restore && !output_is_json())
		print_restore_summary(r);
	if (output_is_json())
		status = print_json(r, a);
	return status != RV_EXIT_OK ? status : outcome(r, a->check);
}

/* --- The command ------------------------------------------------------------------- */

static void run_release(struct run *r)
{
	for (size_t i = 0; i < r->n; i++) {
		free(r->items[i].name);
		free(r->items[i].places);
		free(r->items[i].msg);
		free(r->items[i].problem);
		free(r->items[i].restore_msg);
		restore_report_release(&r->items[i].rep);
	}
	free(r->items);
	for (size_t i = 0; i < r->n_regs; i++) {
		oci_store_close(r->regs[i].store);
		registry_client_close(r->regs[i].client);
		free(r->regs[i].name);
		free(r->regs[i].msg);
	}
	free(r->regs);
	catalog_close(r->cat);
	registry_session_free(r->session);
	free(r->args);
}

int cmd_deployed(int argc, char **argv, const struct cli_globals *g)
{
	struct deployed_args a = { NULL, 0, 0, 0, 0 };
	struct deployed_options o = DEPLOYED_OPTIONS_INIT;
	struct deployed_set set = DEPLOYED_SET_INIT;
	struct run r = { 0 };
	int rc, status = parse_args(&a, argc, argv);

	r.set = &set;
	r.g = g;
	if (status != RV_EXIT_OK)
		goto done;
	o.rollback = a.rollback;
	/* A source that fails or names nothing is an error (deployed.h). */
	if ((rc = deployed_read(&set, a.sources, a.n_sources, &o)) != 0 ||
	    (rc = cli_session_new(&r.session, g)) != 0) {
		status = output_error(rc);
		goto done;
	}
	if (a.check && (status = open_catalog(&r, a.restore)) != RV_EXIT_OK)
		goto done;
	r.args = output_args_json(argc, argv);
	group(&r);
	resolve_all(&r);
	status = check_and_restore(&r, &a);
done:
	run_release(&r);
	deployed_set_release(&set);
	for (size_t i = 0; i < a.n_sources; i++)
		deployed_source_release(&a.sources[i]);
	free(a.sources);
	return status;
}
