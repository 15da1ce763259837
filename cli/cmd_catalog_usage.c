/*
 * cmd_catalog_usage.c — `regvault catalog usage HOST[/REPO]`: what the
 * registry stores per repository, shared and exclusive bytes, what a
 * policy would give back, and what it costs a month.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "catalog/catalog.h"
#include "cli/catalog_sub.h"
#include "cli/exitcode.h"
#include "cli/output.h"
#include "policy/policy.h"
#include "prune/prune.h"
#include "usage/usage.h"
#include "util/error.h"
#include "util/log.h"
#include "util/str.h"
#include "util/banned.h"

/* --- usage ----------------------------------------------------------------- */

/* S3 Standard's list price for the first 50 TB a month (us-east-1),
 * per GB of 10^9 bytes: the figure most storage bills start from. */
#define PRICE_DEFAULT 0.023

static double cost(int64_t bytes, double price)
{
	return (double)bytes / 1e9 * price;
}

/* "$12.34"; "<$0.01" for a cost too small to show in cents. */
static const char *money(double v, char *out, size_t len)
{
	if (v > 0 && v < 0.005)
		snprintf(out, len, "<$0.01");
	else
		snprintf(out, len, "$%.2f", v);
	return out;
}

static int price_value(const char *v, double *out)
{
	char *end = NULL;

	errno = 0;
	*out = v && *v ? strtod(v, &end) : -1;
	if (!v || !*v || errno || *end || !(*out >= 0) || *out > 1e6)
		return output_usage_error("catalog", "invalid value '%s' for --price-per-gb-month: "
		                          "expected dollars per GB (10^9 bytes) and month, e.g. 0.023",
		                          v ? v : "");
	return RV_EXIT_OK;
}

/* The catalog caches manifests when it can be written. A report must not
 * wait for a mirror that holds the lock: it then reads it without caching
 * — or goes without, when there is none. A plan needs it writable. */
static int usage_catalog(catalog **out, int *cache, const struct cli_globals *g, int plan)
{
	int rc = cli_catalog_open(out, g, CATALOG_WRITE);

	*cache = rc == 0;
	if (rc == 0 || plan)
		return rc;
	log_info("%s; reading the registry without caching", error_msg());
	error_clear();
	if (cli_catalog_open(out, g, CATALOG_READ) != 0) {
		*out = NULL;
		error_clear();
	}
	return 0;
}

static json_t *usage_json(const struct usage_report *r, double price, const char *policy)
{
	json_t *rows = json_array(), *total;

	for (size_t i = 0; i < r->n_repos; i++) {
		const struct usage_repo *u = &r->repos[i];
		json_t *o = json_pack("{s:o,s:I,s:I,s:I,s:I,s:I,s:f}",
			"repository", output_json_string(u->name), "tags", (json_int_t)u->tags,
			"manifests", (json_int_t)u->manifests, "bytes", (json_int_t)u->bytes,
			"sharedBytes", (json_int_t)u->shared, "uniqueBytes", (json_int_t)u->unique,
			"uniqueCostPerMonth", cost(u->unique, price));
		json_object_set_new(o, "reclaimableBytes", policy ? json_integer(u->reclaimable)
		                                                  : json_null());
		json_object_set_new(o, "manifestsDeleted", policy ? json_integer(
		                    (json_int_t)u->manifests_deleted) : json_null());
		json_array_append_new(rows, o);
	}
	total = json_pack("{s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:f}",
		"repositories", (json_int_t)r->repositories, "manifests", (json_int_t)r->manifests,
		"untaggedManifests", (json_int_t)r->untagged, "vanished", (json_int_t)r->vanished,
		"blobs", (json_int_t)r->blobs, "bytes", (json_int_t)r->bytes,
		"sharedBytes", (json_int_t)r->shared, "uniqueBytes",
		(json_int_t)(r->bytes - r->shared), "costPerMonth", cost(r->bytes, price));
	json_object_set_new(total, "reclaimableBytes", policy ? json_integer(r->reclaimable)
	                                                      : json_null());
	json_object_set_new(total, "reclaimableCostPerMonth",
	                    policy ? json_real(cost(r->reclaimable, price)) : json_null());
	return json_pack("{s:s,s:f,s:o,s:o,s:o,s:s}", "registry", r->registry, "pricePerGBMonth",
	                 price, "policy", policy ? output_json_string(policy) : json_null(),
	                 "repositories", rows, "total", total, "note",
	                 "untagged manifests regvault never saw are not counted: the registry "
	                 "cannot list them");
}

static int width_of(const char *s, int w)
{
	return (int)strlen(s) > w ? (int)strlen(s) : w;
}

static void usage_text(const struct usage_report *r, double price, const char *policy)
{
	char sz[5][32], name[1024];
	int w[7] = { 10, 4, 9, 4, 6, 6, 11 };   /* REPOSITORY … RECLAIMABLE */

	for (size_t i = 0; i < r->n_repos; i++) {
		const struct usage_repo *u = &r->repos[i];
		w[0] = width_of(str_printable(name, sizeof(name), u->name), w[0]);
		w[3] = width_of(str_human_bytes(u->bytes, sz[0], sizeof(sz[0])), w[3]);
		w[4] = width_of(str_human_bytes(u->shared, sz[0], sizeof(sz[0])), w[4]);
		w[5] = width_of(str_human_bytes(u->unique, sz[0], sizeof(sz[0])), w[5]);
		w[6] = width_of(str_human_bytes(u->reclaimable, sz[0], sizeof(sz[0])), w[6]);
	}
	printf("%-*s  %*s  %*s  %*s  %*s  %*s", w[0], "REPOSITORY", w[1], "TAGS", w[2],
	       "MANIFESTS", w[3], "SIZE", w[4], "SHARED", w[5], "UNIQUE");
	if (policy)
		printf("  %*s", w[6], "RECLAIMABLE");
	printf("  %s\n", "UNIQUE $/MONTH");
	for (size_t i = 0; i < r->n_repos; i++) {
		const struct usage_repo *u = &r->repos[i];
		printf("%-*s  %*zu  %*zu  %*s  %*s  %*s", w[0],
		       str_printable(name, sizeof(name), u->name), w[1], u->tags, w[2], u->manifests,
		       w[3], str_human_bytes(u->bytes, sz[0], sizeof(sz[0])), w[4],
		       str_human_bytes(u->shared, sz[1], sizeof(sz[1])), w[5],
		       str_human_bytes(u->unique, sz[2], sizeof(sz[2])));
		if (policy)
			printf("  %*s", w[6], str_human_bytes(u->reclaimable, sz[3], sizeof(sz[3])));
		printf("  %14s\n", money(cost(u->unique, price), sz[4], sizeof(sz[4])));
	}
	/* The registry as a whole, whatever rows were selected: each blob once. */
	printf("\nRegistry: %zu repositories, %zu manifests, %zu blobs, %s stored (%s of it in "
	       "more than one repository): %s/month at $%g per GB-month\n", r->repositories,
	       r->manifests, r->blobs, str_human_bytes(r->bytes, sz[0], sizeof(sz[0])),
	       str_human_bytes(r->shared, sz[1], sizeof(sz[1])), money(cost(r->bytes, price), sz[2],
	       sizeof(sz[2])), price);
	if (policy)
		printf("Reclaimable by %s: %s (%s/month) once the registry's garbage collection "
		       "runs\n", str_printable(name, sizeof(name), policy),
		       str_human_bytes(r->reclaimable, sz[0], sizeof(sz[0])),
		       money(cost(r->reclaimable, price), sz[1], sizeof(sz[1])));
}

/* The plan's manifests as usage sees them: which are deleted. The
 * strings stay the plan's. */
static struct usage_plan_item *plan_items(const struct prune_plan *p)
{
	struct usage_plan_item *v = xcalloc(p->n_images + 1, sizeof(*v));

	for (size_t i = 0; i < p->n_images; i++) {
		v[i].repository = p->images[i].repository;
		v[i].digest = p->images[i].digest;
		v[i].deleted = p->images[i].decision == PRUNE_DELETE;
	}
	return v;
}

/* Plans with the policy (as `prune` would, a dry run) into *plan. */
static int usage_plan(const struct policy *pol, catalog *cat, registry_session *session,
                      const struct cli_globals *g, struct prune_plan *plan)
{
	struct prune_options po = { 0 };
	int rc;

	po.policy = pol;
	po.cat = cat;
	po.session = session;
	po.xfer = (struct xfer_options)XFER_OPTIONS_INIT;
	po.xfer.jobs = g->jobs;
	po.deployed = (struct deployed_options)DEPLOYED_OPTIONS_INIT;
	if ((rc = prune_plan(&po, plan)) < 0)
		return error_wrap(rc, "cannot plan with \"%s\"", pol->path);
	if (plan->refused)
		log_warn("prune would refuse this plan: %s", plan->refusal ? plan->refusal : "");
	return 0;
}

int catsub_usage(int argc, char **argv, const struct cli_globals *g)
{
	struct oci_ref ref = OCI_REF_INIT;
	struct usage_options o = { 0 };
	struct usage_report rep = { 0 };
	struct prune_plan plan = { 0 };
	struct policy *pol = NULL;
	struct usage_plan_item *items = NULL;
	struct catsub_args a;
	double price = PRICE_DEFAULT;
	int rc = 0, status = catsub_parse(argc, argv, CATSUB_BIT(CATSUB_POLICY) | CATSUB_BIT(CATSUB_PRICE), 1, &a);

	if (status != RV_EXIT_OK)
		return status;
	if (!a.n_args)
		return output_usage_error("catalog", "missing HOST or HOST/REPO");
	if (a.opt[CATSUB_PRICE] && (status = price_value(a.opt[CATSUB_PRICE], &price)) != RV_EXIT_OK)
		return status;
	if ((rc = oci_ref_parse(&ref, a.args[0], OCI_REF_HOST_OK | OCI_REF_GLOB_OK |
	                        OCI_REF_NO_TAG)) < 0 ||
	    (a.opt[CATSUB_POLICY] && (rc = policy_load(&pol, a.opt[CATSUB_POLICY])) < 0)) {
		status = output_error(rc);
		goto done;
	}
	if (pol && strcmp(pol->registry, ref.registry) != 0) {
		status = output_usage_error("catalog", "%s prunes \"%s\", not \"%s\"", pol->path,
		                            pol->registry, ref.registry);
		goto done;
	}
	if ((rc = usage_catalog(&o.cat, &o.cache, g, pol != NULL)) < 0 ||
	    (rc = cli_session_new(&o.session, g)) < 0 ||
	    (pol && (rc = usage_plan(pol, o.cat, o.session, g, &plan)) < 0)) {
		status = output_error(rc);
		goto done;
	}
	o.registry = ref.registry;
	o.jobs = g->jobs;
	o.repo_glob = ref.repository;
	if (pol) {
		o.plan = items = plan_items(&plan);
		o.n_plan = plan.n_images;
	}
	if ((rc = usage_compute(&o, &rep)) < 0) {
		status = output_error(rc);
		goto done;
	}
	if (ref.repository && !rep.n_repos)
		log_warn("no repository of %s matches \"%s\"", ref.registry, ref.repository);
	if (rep.vanished)
		log_warn("%zu manifests went away while the registry was read; counted without "
		         "them", rep.vanished);
	if (output_is_json()) {
		status = output_json(usage_json(&rep, price, pol ? pol->path : NULL));
	} else {
		usage_text(&rep, price, pol ? pol->path : NULL);
		if (!g->quiet)
			fprintf(stderr, "regvault: note: untagged manifests regvault never saw are not "
			        "counted: the registry cannot list them\n");
	}
done:
	usage_report_release(&rep);
	free(items);
	prune_plan_release(&plan);
	policy_free(pol);
	registry_session_free(o.session);
	catalog_close(o.cat);
	oci_ref_release(&ref);
	return status;
}
