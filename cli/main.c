/*
 * main.c — regvault [GLOBAL OPTIONS] COMMAND [ARGS]: global options, the
 * command table, help and version.
 */
#include <stdio.h>
#include <string.h>
#include <curl/curl.h>
#include <jansson.h>
#include <openssl/crypto.h>
#include "cli/commands.h"
#include "cli/exitcode.h"
#include "cli/options.h"
#include "cli/output.h"
#include "util/banned.h"

#ifndef REGVAULT_VERSION
#define REGVAULT_VERSION "0.0.0"
#endif

struct cli_command {
	const char *name;
	cli_command_fn fn;
	const char *summary;   /* one line for `regvault --help` */
	const char *help;      /* `regvault help NAME` */
};

static const struct cli_command commands[] = {
	{ "ls", cmd_ls, "list the repositories of a registry or the tags of one",
	  cmd_ls_help },
	{ "inspect", cmd_inspect, "show digest, platforms, layers, sizes and created time",
	  cmd_inspect_help },
	{ "mirror", cmd_mirror, "copy images to a standby registry, verified, incremental",
	  cmd_mirror_help },
	{ "backup", cmd_backup, "copy images into an archive store or a tarball, verified",
	  cmd_backup_help },
	{ "catalog", cmd_catalog, "list, show, verify or rebuild what is kept where",
	  cmd_catalog_help },
	{ "restore", cmd_restore, "bring an image back by tag or digest, or undo a prune run",
	  cmd_restore_help },
	{ "deployed", cmd_deployed, "what is deployed, by digest; check it is there, restore it",
	  cmd_deployed_help },
	{ "prune", cmd_prune, "keep safe, then delete what no rule keeps (dry run by default)",
	  cmd_prune_help },
};

#define N_COMMANDS (sizeof(commands) / sizeof(commands[0]))

static const char global_help_head[] =
"NAME\n"
"    regvault - safe, reversible container registry pruning\n"
"\n"
"SYNOPSIS\n"
"    regvault [GLOBAL OPTIONS] COMMAND [ARGS]\n"
"    regvault help [COMMAND]\n"
"\n"
"DESCRIPTION\n"
"    regvault copies the images that matter into a standby registry or an\n"
"    archive before anything is deleted, and brings any image back in one\n"
"    command. It lists and inspects registries, mirrors images to standby\n"
"    registries and backs them up into archive stores, with a catalog of\n"
"    what is kept where, restores any image by tag or digest, checks that\n"
"    what is deployed is still there, and prunes a registry by a policy:\n"
"    deployed images, their bases and rollback targets are never deleted,\n"
"    and what is deleted is kept safe first and comes back with one\n"
"    command.\n"
"\n"
"COMMANDS\n";

static const char global_help_tail[] =
"\n"
"GLOBAL OPTIONS\n"
"    Accepted before or after the command name; --opt=VALUE and\n"
"    --opt VALUE both work; '--' ends the options.\n"
"\n"
"    -o, --output text|json\n"
"        text (default): results on stdout, one item per line; json: one\n"
"        JSON document on stdout, {\"error\":{\"code\",\"message\"}} on\n"
"        failure. Messages for people always go to stderr.\n"
"    --authfile FILE\n"
"        Credentials file (Docker config.json or containers auth.json\n"
"        format); only this file is read. Without it, the first of these\n"
"        with credentials for the registry is used: $REGISTRY_AUTH_FILE,\n"
"        $XDG_RUNTIME_DIR/containers/auth.json (unset:\n"
"        /run/containers/$UID/auth.json),\n"
"        ${XDG_CONFIG_HOME:-~/.config}/containers/auth.json,\n"
"        $DOCKER_AUTH_CONFIG (JSON text),\n"
"        ${DOCKER_CONFIG:-~/.docker}/config.json. Credential helpers\n"
"        (credHelpers, credsStore) are run as Docker runs them.\n"
"    --ca-cert FILE\n"
"        Also trust the CA certificates in FILE (PEM).\n"
"    --insecure-registry HOST[:PORT]\n"
"        Allow plain HTTP and unverified TLS for HOST (repeatable).\n"
"        Loopback hosts may use plain HTTP without it, but their TLS\n"
"        certificates are still verified.\n"
"    --jobs N\n"
"        Requests or transfers in parallel, 1 to 64 (default 4).\n""    --max-rps N\n"
"        At most N requests a second (a number above 0, e.g. 0.5 or 20)\n"
"        to any one registry, token requests included. Default: no limit.\n"
"    --catalog PATH\n"
"        The catalog database (default $REGVAULT_CATALOG, else\n"
"        $XDG_DATA_HOME/regvault/catalog.db, else\n"
"        ~/.local/share/regvault/catalog.db); used by mirror, backup,\n"
"        catalog, restore, deployed --restore and prune.\n"
"    -q, --quiet\n"
"        Print only errors on stderr.\n"
"    -v, --verbose\n"
"        More detail on stderr; -vv debug, -vvv also traces HTTP requests\n"
"        (credentials redacted).\n"
"    -h, --help\n"
"        Show this help, or the command's with a command.\n"
"    --version\n"
"        Show the version of regvault and of its libraries.\n"
"\n"
"EXIT STATUS\n"
"    0  success\n"
"    1  operational failure: something could not be read or done\n"
"       (network, registry error, not found); nothing unsafe was done\n"
"    2  bad usage, input or configuration: unknown option or command, bad\n"
"       value, invalid reference or manifest, missing or rejected\n"
"       credentials, access denied, untrusted certificate\n"
"    3  refused for safety\n"
"\n"
"ENVIRONMENT\n"
"    REGVAULT_CATALOG    default for --catalog\n"
"    REGISTRY_AUTH_FILE  credentials file, see --authfile\n"
"    XDG_RUNTIME_DIR, XDG_CONFIG_HOME, DOCKER_CONFIG, DOCKER_AUTH_CONFIG\n"
"                        where credentials are looked for, see --authfile\n"
"    REGVAULT_CRED_HELPER_TIMEOUT_MS\n"
"                        how long a credential helper may run (30000)\n"
"    REGVAULT_TRACE      1: log every HTTP request and response on stderr\n"
"                        (Authorization and tokens redacted)\n""    REGVAULT_PROGRESS   force: draw the progress line even when stderr\n"
"                        is not a terminal (a debugging aid)\n"
"\n"
"EXAMPLES\n"
"    regvault ls 127.0.0.1:5000\n"
"    regvault ls -l reg.example.com/team-a/api\n"
"    regvault inspect -o json reg.example.com/team-a/api:1.4\n"
"    regvault mirror reg.example.com --to standby.example.com\n"
"    regvault backup 'reg.example.com/team-a/*' --to /srv/vault\n"
"    regvault catalog list\n"
"    regvault restore reg.example.com/team-a/api:1.4\n"
"    regvault deployed --deployed kubectl:prod --check\n"
"    regvault prune --policy policy.yaml --plan-out plan.json\n"
"    regvault prune --policy policy.yaml --apply plan.json\n"
"\n"
"    See regvault(1) and 'regvault help COMMAND'.\n";

static void print_global_help(void)
{
	size_t i;

	fputs(global_help_head, stdout);
	for (i = 0; i < N_COMMANDS; i++)
		printf("    %-10s %s\n", commands[i].name, commands[i].summary);
	fputs(global_help_tail, stdout);
}

static void print_version(void)
{
	const curl_version_info_data *cv = curl_version_info(CURLVERSION_NOW);

	printf("regvault %s\n", REGVAULT_VERSION);
	printf("libcurl/%s (%s) OpenSSL/%s jansson/%s\n", cv->version,
	       cv->ssl_version ? cv->ssl_version : "no TLS",
	       OpenSSL_version(OPENSSL_VERSION_STRING), jansson_version_str());
}

static const struct cli_command *find_command(const char *name)
{
	size_t i;

	for (i = 0; i < N_COMMANDS; i++)
		if (!strcmp(commands[i].name, name))
			return &commands[i];
	return NULL;
}

/* `regvault help [COMMAND]` */
static int cmd_help(int argc, char **argv)
{
	const struct cli_command *c;

	if (argc < 2) {
		print_global_help();
		return RV_EXIT_OK;
	}
	if (argc > 2)
		return output_usage_error(NULL, "unexpected argument '%s'", argv[2]);
	c = find_command(argv[1]);
	if (!c)
		return output_usage_error(NULL, "unknown command '%s'", argv[1]);
	fputs(c->help, stdout);
	return RV_EXIT_OK;
}

static int run(int argc, char **argv)
{
	struct cli_globals g = CLI_GLOBALS_INIT;
	const struct cli_command *c;
	struct cli_getopt p;
	const char *name;
	int status = cli_globals_parse(&g, &argc, argv);

	if (status != RV_EXIT_OK)
		goto done;
	/* Whatever is left before the command name is an unknown option (the
	 * global table only names the culprit in a bundle such as -vx). */
	cli_getopt_init(&p, NULL, argc, argv);
	status = cli_getopt(&p, cli_global_options, &name);
	while (status > 0)
		status = cli_getopt(&p, cli_global_options, &name);
	if (status == CLI_GETOPT_ERROR) {
		status = RV_EXIT_USAGE;
		goto done;
	}
	status = RV_EXIT_OK;
	if (g.version) {
		print_version();
	} else if (!name) {
		if (g.help)
			print_global_help();
		else
			status = output_usage_error(NULL, "no command given");
	} else if (!strcmp(name, "help")) {
		status = cmd_help(argc - (p.i - 1), argv + (p.i - 1));
	} else if (!(c = find_command(name))) {
		status = output_usage_error(NULL, "unknown command '%s'", name);
	} else if (g.help) {
		fputs(c->help, stdout);
	} else {
		status = c->fn(argc - (p.i - 1), argv + (p.i - 1), &g);
	}
done:
	cli_globals_release(&g);
	return output_finish(status);
}

int main(int argc, char **argv)
{
	return run(argc, argv);
}
