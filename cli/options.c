/*
 * options.c — global options, the subcommands' option parser, and the
 * registry session built from the global options.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "cli/exitcode.h"
#include "catalog/catalog.h"
#include "cli/options.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/str.h"
#include "util/banned.h"

enum {
	G_CATALOG = 1, G_OUTPUT, G_AUTHFILE, G_CA_CERT, G_INSECURE, G_JOBS,
	G_MAX_RPS, G_QUIET, G_VERBOSE, G_HELP, G_VERSION,
};

const struct cli_option cli_global_options[] = {
	{ "catalog", 0, 1, G_CATALOG },
	{ "output", 'o', 1, G_OUTPUT },
	{ "authfile", 0, 1, G_AUTHFILE },
	{ "ca-cert", 0, 1, G_CA_CERT },
	{ "insecure-registry", 0, 1, G_INSECURE },
	{ "jobs", 0, 1, G_JOBS },
	{ "max-rps", 0, 1, G_MAX_RPS },
	{ "quiet", 'q', 0, G_QUIET },
	{ "verbose", 'v', 0, G_VERBOSE },
	{ "help", 'h', 0, G_HELP },
	{ "version", 0, 0, G_VERSION },
	{ NULL, 0, 0, 0 },
};

static const struct cli_option *find_long(const struct cli_option *opts,
                                          const char *name, size_t len)
{
	for (; opts->long_name; opts++)
		if (strlen(opts->long_name) == len && !memcmp(opts->long_name, name, len))
			return opts;
	return NULL;
}

static const struct cli_option *find_short(const struct cli_option *opts, char c)
{
	for (; opts->long_name; opts++)
		if (c && opts->short_name == c)
			return opts;
	return NULL;
}

/* --- Global options -------------------------------------------------------- */

/* Raw values as typed, checked once the whole command line is read, so
 * that `-o json` given after a bad value still makes the error JSON. */
struct raw_globals {
	const char *output;
	const char *jobs;
	const char *max_rps;
	const char *catalog;
};

static void apply_global(struct cli_globals *g, struct raw_globals *raw, int id,
                         const char *value)
{
	switch (id) {
	case G_CATALOG: raw->catalog = value; break;
	case G_OUTPUT: raw->output = value; break;
	case G_AUTHFILE: g->authfile = value; break;
	case G_CA_CERT: g->ca_cert = value; break;
	case G_INSECURE: strlist_add(&g->insecure, value); break;
	case G_JOBS: raw->jobs = value; break;
	case G_MAX_RPS: raw->max_rps = value; break;
	case G_QUIET: g->quiet = 1; break;
	case G_VERBOSE: g->verbose++; break;
	case G_HELP: g->help = 1; break;
	case G_VERSION: g->version = 1; break;
	}
}

/* 1 when every letter of the bundle (after '-') is a global option; a
 * letter that takes a value ends the bundle (the rest is its value). */
static int is_global_bundle(const char *letters)
{
	for (; *letters; letters++) {
		const struct cli_option *o = find_short(cli_global_options, *letters);

		if (!o)
			return 0;
		if (o->takes_value)
			return 1;
	}
	return 1;
}

/* Consumes argv[*i] when it is a global option (and its value); returns
 * 1 when consumed, 0 when it belongs to the command, or RV_EXIT_USAGE
 * negated after printing the error. */
static int take_global(struct cli_globals *g, struct raw_globals *raw,
                       int argc, char **argv, int *i)
{
	const char *a = argv[*i];
	const struct cli_option *o;

	if (a[1] == '-') {
		const char *name = a + 2, *eq = strchr(name, '=');

		o = find_long(cli_global_options, name, eq ? (size_t)(eq - name) : strlen(name));
		if (!o)
			return 0;
		if (!o->takes_value && eq)
			return -output_usage_error(NULL, "option '--%s' takes no value", o->long_name);
		if (o->takes_value && !eq && *i + 1 >= argc)
			return -output_usage_error(NULL, "option '--%s' needs a value", o->long_name);
		apply_global(g, raw, o->id, !o->takes_value ? NULL : eq ? eq + 1 : argv[++*i]);
		return 1;
	}
	if (!is_global_bundle(a + 1))
		return 0;
	for (a++; *a; a++) {
		o = find_short(cli_global_options, *a);
		if (!o->takes_value) {
			apply_global(g, raw, o->id, NULL);
			continue;
		}
		if (!a[1] && *i + 1 >= argc)
			return -output_usage_error(NULL, "option '-%c' needs a value", *a);
		apply_global(g, raw, o->id, a[1] ? a + 1 : argv[++*i]);
		break;
	}
	return 1;
}

/* --max-rps: a plain decimal number above 0 ("0.5", "20"), no sign, no
 * exponent, no "inf" — what strtod alone would also take. */
static int parse_rps(const char *s, double *out)
{
	const char *c = s;
	char *end;
	int digits = 0, dot = 0;

	for (; *c; c++) {
		if (*c >= '0' && *c <= '9')
			digits++;
		else if (*c == '.' && !dot)
			dot = 1;
		else
			return -1;
	}
	if (!digits)
		return -1;
	errno = 0;
	*out = strtod(s, &end);
	if (errno != 0 || *end || !(*out > 0) || *out > CLI_MAX_RPS_MAX)
		return -1;
	return 0;
}

static int check_globals(struct cli_globals *g, const struct raw_globals *raw)
{
	const char *trace = getenv("REGVAULT_TRACE");
	int64_t jobs;
	size_t k;

	g->trace = g->verbose >= 3 || (trace && *trace && strcmp(trace, "0") != 0);
	if (raw->output && !strcmp(raw->output, "json"))
		g->output = OUTPUT_JSON;
	else if (raw->output && strcmp(raw->output, "text") != 0)
		return output_usage_error(NULL, "invalid value '%s' for --output: "
		                          "expected 'text' or 'json'", raw->output);
	output_init(g->output, g->quiet, g->verbose, g->trace);

	if (raw->jobs && (str_to_int64(raw->jobs, &jobs) != 0 || jobs < 1 || jobs > CLI_JOBS_MAX))
		return output_usage_error(NULL, "invalid value '%s' for --jobs: "
		                          "expected a number from 1 to %d", raw->jobs, CLI_JOBS_MAX);
	if (raw->jobs)
		g->jobs = (int)jobs;
	if (raw->max_rps && parse_rps(raw->max_rps, &g->max_rps) != 0)
		return output_usage_error(NULL, "invalid value '%s' for --max-rps: expected "
		                          "requests per second above 0 (at most %d)",
		                          raw->max_rps, CLI_MAX_RPS_MAX);
	for (k = 0; k < g->insecure.n; k++) {
		const char *h = g->insecure.v[k];

		if (!*h || strchr(h, '/') || strchr(h, '@') || strpbrk(h, " \t"))
			return output_usage_error(NULL, "invalid value '%s' for "
			                          "--insecure-registry: expected HOST[:PORT]", h);
	}
	/* Caught here, a typo in a path is a usage error (2), not a failure
	 * of the first request (1). */
	if (g->authfile && access(g->authfile, R_OK) != 0)
		return output_usage_error(NULL, "cannot read --authfile '%s': %s", g->authfile,
		                          strerror(errno));
	if (g->ca_cert && access(g->ca_cert, R_OK) != 0)
		return output_usage_error(NULL, "cannot read --ca-cert '%s': %s", g->ca_cert,
		                          strerror(errno));
	if (raw->catalog && !*raw->catalog)
		return output_usage_error(NULL, "invalid value '' for --catalog: expected a path");
	g->catalog = raw->catalog ? xstrdup(raw->catalog) : catalog_default_path();
	return RV_EXIT_OK;
}

int cli_globals_parse(struct cli_globals *g, int *argc, char **argv)
{
	struct raw_globals raw = { NULL, NULL, NULL, NULL };
	int i, out = 1, only_args = 0;

	for (i = 1; i < *argc; i++) {
		char *a = argv[i];
		int rc;

		if (only_args || a[0] != '-' || a[1] == '\0') {
			argv[out++] = a;
			continue;
		}
		if (!strcmp(a, "--")) {
			/* Kept: the command's parser must see where options end. */
			only_args = 1;
			argv[out++] = a;
			continue;
		}
		rc = take_global(g, &raw, *argc, argv, &i);
		if (rc < 0)
			return -rc;
		if (rc == 0)
			argv[out++] = a;
	}
	*argc = out;
	argv[out] = NULL;
	return check_globals(g, &raw);
}

void cli_globals_release(struct cli_globals *g)
{
	free(g->catalog);
	g->catalog = NULL;
	strlist_release(&g->insecure);
}

/* --- Subcommand options ---------------------------------------------------- */

void cli_getopt_init(struct cli_getopt *p, const char *cmd, int argc, char **argv)
{
	p->cmd = cmd;
	p->argc = argc;
	p->argv = argv;
	p->i = 1;
	p->bundle = NULL;
	p->only_args = 0;
}

static int short_option(struct cli_getopt *p, const struct cli_option *opts,
                        const char **value)
{
	char c = *p->bundle++;
	const struct cli_option *o = find_short(opts, c);

	if (!o && find_short(cli_global_options, c)) {
		/* Globals are pulled out before the command parses; a bundle
		 * mixing both would make "-pv" ambiguous once -p takes a value. */
		output_usage_error(p->cmd, "global option '-%c' cannot be bundled with "
		                   "'%s' options; write it separately", c, p->cmd);
		return CLI_GETOPT_ERROR;
	}
	if (!o) {
		output_usage_error(p->cmd, "unknown option '-%c'", c);
		return CLI_GETOPT_ERROR;
	}
	if (!o->takes_value)
		return o->id;
	if (*p->bundle) {
		*value = p->bundle;
	} else if (p->i < p->argc) {
		*value = p->argv[p->i++];
	} else {
		output_usage_error(p->cmd, "option '-%c' needs a value", c);
		return CLI_GETOPT_ERROR;
	}
	p->bundle = NULL;
	return o->id;
}

static int long_option(struct cli_getopt *p, const struct cli_option *opts,
                       const char *name, const char **value)
{
	const char *eq = strchr(name, '=');
	size_t len = eq ? (size_t)(eq - name) : strlen(name);
	const struct cli_option *o = find_long(opts, name, len);

	if (!o) {
		output_usage_error(p->cmd, "unknown option '--%.*s'", (int)len, name);
		return CLI_GETOPT_ERROR;
	}
	if (!o->takes_value && eq) {
		output_usage_error(p->cmd, "option '--%s' takes no value", o->long_name);
		return CLI_GETOPT_ERROR;
	}
	if (o->takes_value) {
		if (eq)
			*value = eq + 1;
		else if (p->i < p->argc)
			*value = p->argv[p->i++];
		else {
			output_usage_error(p->cmd, "option '--%s' needs a value", o->long_name);
			return CLI_GETOPT_ERROR;
		}
	}
	return o->id;
}

int cli_getopt(struct cli_getopt *p, const struct cli_option *opts, const char **value)
{
	const char *a;

	*value = NULL;
	if (p->bundle && *p->bundle)
		return short_option(p, opts, value);
	p->bundle = NULL;
	if (p->i >= p->argc)
		return CLI_GETOPT_END;
	a = p->argv[p->i++];
	if (p->only_args || a[0] != '-' || a[1] == '\0') {
		*value = a;
		return CLI_GETOPT_ARG;
	}
	if (!strcmp(a, "--")) {
		p->only_args = 1;
		return cli_getopt(p, opts, value);
	}
	if (a[1] == '-')
		return long_option(p, opts, a + 2, value);
	p->bundle = a + 1;
	return short_option(p, opts, value);
}

/* --- Talking to a registry ------------------------------------------------- */

int cli_session_new(registry_session **out, const struct cli_globals *g)
{
	struct registry_options opts = REGISTRY_OPTIONS_INIT;

	opts.authfile = g->authfile;
	opts.ca_cert = g->ca_cert;
	opts.insecure = (const char *const *)g->insecure.v;
	opts.n_insecure = g->insecure.n;
	opts.trace = g->trace;
	opts.max_host_connections = g->jobs;
	opts.max_rps = g->max_rps;
	return registry_session_new(out, &opts);
}

int cli_catalog_open(catalog **out, const struct cli_globals *g, unsigned flags)
{
	int rc;

	if (!g->catalog)
		return error_set(RV_EINVALID, "no catalog: pass --catalog PATH or set "
		                 "REGVAULT_CATALOG");
	rc = catalog_open(out, g->catalog, flags);
	/* catalog.h: a writer that finds the lock taken gets RV_EEXISTS. Said
	 * the way a scheduled job's log reader needs it: what, and that it is
	 * harmless (the other run is doing the work). */
	if (rc == RV_EEXISTS && (flags & CATALOG_WRITE))
		rc = error_set(RV_EEXISTS, "another regvault run holds the catalog lock "
		               "\"%s.lock\"; try again when it has finished", g->catalog);
	return rc;
}

int cli_target_open(struct cli_target *t, const struct cli_globals *g, const char *registry)
{
	int rc = cli_session_new(&t->session, g);

	if (rc == 0)
		rc = registry_client_open(&t->client, t->session, registry);
	if (rc == 0)
		rc = registry_store_new(&t->store, t->client);
	if (rc != 0)
		cli_target_close(t);
	return rc;
}

void cli_target_close(struct cli_target *t)
{
	oci_store_close(t->store);
	t->store = NULL;
	if (t->client)
		registry_client_close(t->client);
	t->client = NULL;
	registry_session_free(t->session);
	t->session = NULL;
}
