/*
 * catalog_sub.h — what the files of `regvault catalog` share: the one
 * option table every subcommand parses with, and opening the catalog.
 *
 * cmd_catalog.c has the help text, the dispatch and the small
 * subcommands (list, show, history, rebuild); cmd_catalog_verify.c has
 * verify and its drill, cmd_catalog_usage.c has usage. cli/ only.
 */
#ifndef RV_CLI_CATALOG_SUB_H
#define RV_CLI_CATALOG_SUB_H

#include "catalog/catalog.h"
#include "cli/options.h"

/* Every option of every catalog subcommand; each says which it takes. */
enum catsub_opt {
	CATSUB_DEEP = 1, CATSUB_FROM, CATSUB_DRILL, CATSUB_TO, CATSUB_SEED, CATSUB_POLICY,
	CATSUB_PRICE, CATSUB_OPT_MAX
};

#define CATSUB_BIT(id) (1u << (id))

/* What a subcommand was given: each option's value ("" for flags, NULL
 * when absent) and its positional arguments. */
struct catsub_args {
	const char *opt[CATSUB_OPT_MAX];
	const char *args[1];
	int n_args;
};

/* Parses the options `allowed` (CATSUB_BIT set) and at most max_args
 * positional arguments of subcommand argv[0] into *a. RV_EXIT_OK, or
 * RV_EXIT_USAGE with the usage error printed. */
int catsub_parse(int argc, char **argv, unsigned allowed, int max_args, struct catsub_args *a);

/* Opens the catalog g names (usage error when none is named). RV_EXIT_OK,
 * or the exit status with the error printed. */
int catsub_open(catalog **out, const struct cli_globals *g, unsigned flags);
/* The same, for writing, but only a catalog that exists. */
int catsub_open_existing(catalog **out, const struct cli_globals *g);

/* The subcommands in their own files: argv[0] is the subcommand's name. */
int catsub_verify(int argc, char **argv, const struct cli_globals *g);
int catsub_usage(int argc, char **argv, const struct cli_globals *g);

#endif
