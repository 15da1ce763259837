/*
 * commands.h — the subcommands main() dispatches to.
 *
 * Each cmd_<name>() gets argv with the global options already removed
 * (argv[0] is the command name), parses its own options with cli_getopt,
 * does its work through the lower layers and returns the exit status
 * (cli/exitcode.h). Its help text is man-page shaped, under 80 columns.
 */
#ifndef RV_CLI_COMMANDS_H
#define RV_CLI_COMMANDS_H

#include "cli/options.h"

typedef int (*cli_command_fn)(int argc, char **argv, const struct cli_globals *g);

int cmd_ls(int argc, char **argv, const struct cli_globals *g);
extern const char cmd_ls_help[];

int cmd_inspect(int argc, char **argv, const struct cli_globals *g);
extern const char cmd_inspect_help[];

int cmd_mirror(int argc, char **argv, const struct cli_globals *g);
extern const char cmd_mirror_help[];

int cmd_backup(int argc, char **argv, const struct cli_globals *g);
extern const char cmd_backup_help[];

int cmd_catalog(int argc, char **argv, const struct cli_globals *g);
extern const char cmd_catalog_help[];

int cmd_restore(int argc, char **argv, const struct cli_globals *g);
extern const char cmd_restore_help[];

int cmd_deployed(int argc, char **argv, const struct cli_globals *g);
extern const char cmd_deployed_help[];

int cmd_prune(int argc, char **argv, const struct cli_globals *g);
extern const char cmd_prune_help[];

/* --- Shared by restore and deployed --restore (cmd_restore.c) ------------- */

struct restore_report;

/* Opens the catalog g names for a restore: for writing (the restore is
 * recorded, *writable = 1) when it can; read-only when dry_run, when the
 * file does not exist (reading reports that; writing would create an
 * empty one) or when writing fails — another run holding the lock must
 * not stop a restore during an incident (said at debug level). 0 or an
 * RV_E* code with the message set. */
int cli_restore_catalog_open(catalog **out, const struct cli_globals *g, int dry_run,
                             int *writable);
/* The one line of a restore on stdout: "restored TARGET (DIGEST) from
 * SOURCE in T s, N of M blobs uploaded", or "would restore …" for a dry
 * run. */
void cli_restore_print(const struct restore_report *r);
/* The restore as JSON (regvault help restore). */
json_t *cli_restore_json(const struct restore_report *r);

#endif
