/*
 * options.h — command-line parsing shared by main() and the subcommands,
 * and turning the global options into a registry session.
 *
 * Global options may stand before or after the command name: main() first
 * pulls every global option out of argv (cli_globals_parse), then hands the
 * rest to the command, which parses its own options with cli_getopt.
 * Both forms `--opt=value` and `--opt value` work, short options take
 * `-o value` and `-ovalue`, flags bundle (`-vv`), and `--` ends options.
 * Long names match exactly (no abbreviations: scripts must not break when
 * an option is added).
 */
#ifndef RV_CLI_OPTIONS_H
#define RV_CLI_OPTIONS_H

#include "catalog/catalog.h"
#include "cli/output.h"
#include "oci/reference.h"
#include "oci/store.h"
#include "registry/registry.h"
#include "util/strlist.h"

#define CLI_JOBS_DEFAULT 4
#define CLI_JOBS_MAX 64
#define CLI_MAX_RPS_MAX 100000

struct cli_globals {
	char *catalog;              /* --catalog, $REGVAULT_CATALOG, or the XDG default */
	enum output_mode output;    /* -o/--output */
	const char *authfile;       /* --authfile; NULL: the lookup order of registry.h */
	const char *ca_cert;        /* --ca-cert */
	struct strlist insecure;    /* --insecure-registry, in order given */
	int jobs;                   /* --jobs, 1..CLI_JOBS_MAX */
	double max_rps;             /* --max-rps, requests a second per host; 0: no limit */
	int quiet;                  /* -q */
	int verbose;                /* -v count */
	int trace;                  /* -vvv or REGVAULT_TRACE=1 */
	int help;                   /* -h/--help seen */
	int version;                /* --version seen */
};

#define CLI_GLOBALS_INIT { NULL, OUTPUT_TEXT, NULL, NULL, STRLIST_INIT, \
                           CLI_JOBS_DEFAULT, 0, 0, 0, 0, 0, 0 }

/* Removes every global option from argv (from index 1 on; argv[0] stays),
 * stores their values in g and compacts argv so *argc counts what is left:
 * the command name, its options and arguments, unknown options included
 * (the command reports those). Values are checked here too. Returns
 * RV_EXIT_OK, or RV_EXIT_USAGE after printing the error. */
int cli_globals_parse(struct cli_globals *g, int *argc, char **argv);
void cli_globals_release(struct cli_globals *g);

/* --- Subcommand options --------------------------------------------------- */

struct cli_option {
	const char *long_name;   /* without "--"; NULL ends a table */
	char short_name;         /* 0: none */
	int takes_value;
	int id;                  /* > 0, returned by cli_getopt */
};

struct cli_getopt {
	const char *cmd;         /* for "Try 'regvault CMD --help'." */
	int argc;
	char **argv;
	int i;                   /* next argv index */
	const char *bundle;      /* rest of a short-option bundle, or NULL */
	int only_args;           /* after "--" */
};

#define CLI_GETOPT_END (-1)
#define CLI_GETOPT_ERROR (-2)
#define CLI_GETOPT_ARG 0

/* The global options' table (main() uses it to name what is unknown in a
 * bundle before the command name). */
extern const struct cli_option cli_global_options[];

/* Starts parsing argv[1..argc) of command cmd (argv[0] is its name). */
void cli_getopt_init(struct cli_getopt *p, const char *cmd, int argc, char **argv);
/* Next item: an option id with *value set for options that take one,
 * CLI_GETOPT_ARG with *value the positional argument, CLI_GETOPT_END, or
 * CLI_GETOPT_ERROR after printing the usage error. */
int cli_getopt(struct cli_getopt *p, const struct cli_option *opts, const char **value);

/* --- Talking to a registry ------------------------------------------------ */

/* A registry session configured by the global options (credentials, CA,
 * insecure hosts, tracing, --jobs connections per host, --max-rps), for commands
 * whose lower layer opens the clients itself (backup). 0 or an RV_E* code
 * with the message set; the caller frees it with registry_session_free. */
int cli_session_new(registry_session **out, const struct cli_globals *g);

/* Opens the catalog g names (flags as for catalog_open). A writer that
 * finds another run holding the lock gets RV_EEXISTS with the message
 * "another regvault run holds the catalog lock …" (exit 1). 0 or an RV_E*
 * code with the message set; RV_EINVALID when no catalog is named. */
int cli_catalog_open(catalog **out, const struct cli_globals *g, unsigned flags);

/* One registry reached with the global options: the session, a client for
 * the host and that client as an oci_store. */
struct cli_target {
	registry_session *session;
	registry_client *client;
	struct oci_store *store;
};

#define CLI_TARGET_INIT { NULL, NULL, NULL }

/* Opens session, client and store for registry (a host[:port] as
 * oci_ref's registry field holds it). 0 or an RV_E* code with the error
 * message set; t is closed again on failure. */
int cli_target_open(struct cli_target *t, const struct cli_globals *g, const char *registry);
void cli_target_close(struct cli_target *t);

#endif
