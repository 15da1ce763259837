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

#endif
