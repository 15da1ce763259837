/*
 * cmd_inspect.c — `regvault inspect REF`: options in, inspect_run(), out.
 */
#include <stdio.h>
#include "cli/commands.h"
#include "cli/exitcode.h"
#include "cli/inspect.h"
#include "cli/output.h"
#include "util/banned.h"

const char cmd_inspect_help[] =
"NAME\n"
"    regvault inspect - show what an image reference names\n"
"\n"
"SYNOPSIS\n"
"    regvault inspect [--platform OS/ARCH[/VARIANT]] [--raw] REF\n"
"\n"
"DESCRIPTION\n"
"    Reads the manifest REF names and shows its digest, media type and\n"
"    size. For an image: its config digest, when it was created, its\n"
"    platform, every layer (digest, size, media type) with their total,\n"
"    its annotations and its subject, if any. For an index (multi-platform\n"
"    image): every child manifest with its platform, digest, size and\n"
"    media type, and each child's config, created time and layers.\n"
"\n"
"    REF is HOST[:PORT]/REPO[:TAG] or HOST[:PORT]/REPO@DIGEST; without a\n"
"    tag or digest the tag 'latest' is used. A name without a host means\n"
"    docker.io, as in Docker.\n"
"\n"
"OPTIONS\n"
"    --platform OS/ARCH[/VARIANT]\n"
"        For an index, show only the child for this platform (without a\n"
"        variant, the first child of that OS and architecture). For an\n"
"        image, fail unless it is for this platform.\n"
"    --raw\n"
"        Print the manifest's bytes exactly as the registry stores them,\n"
"        with no newline added (the child's with --platform). Cannot be\n"
"        combined with --output json.\n"
"\n"
"    The global options (regvault --help) apply too. With --output json\n"
"    the same facts are one JSON object: sizes in bytes as integers,\n"
"    created as RFC 3339, children under \"manifests\".\n"
"\n"
"EXIT STATUS\n"
"    0 shown; 1 the manifest or a blob could not be read (unknown\n"
"    manifest, network or registry failure); 2 bad usage, invalid\n"
"    reference, unsupported manifest or credentials problem.\n"
"\n"
"EXAMPLES\n"
"    regvault inspect 127.0.0.1:5000/team-a/api:1.4\n"
"    regvault inspect --platform linux/arm64 reg.example.com/base/debian\n"
"    regvault inspect -o json reg.example.com/app@sha256:4f6e...\n"
"    regvault inspect --raw reg.example.com/app:1.4 | sha256sum\n";

enum { OPT_PLATFORM = 1, OPT_RAW };

static const struct cli_option inspect_options[] = {
	{ "platform", 0, 1, OPT_PLATFORM },
	{ "raw", 0, 0, OPT_RAW },
	{ NULL, 0, 0, 0 },
};

/* The manifest shown: the picked child with --platform, else the top. */
static int write_raw(const struct inspect_result *r)
{
	const struct oci_manifest *m = r->root.manifest;

	if (fwrite(m->raw, 1, m->raw_len, stdout) != m->raw_len)
		return RV_EXIT_FAILURE;
	return RV_EXIT_OK;
}

int cmd_inspect(int argc, char **argv, const struct cli_globals *g)
{
	struct inspect_options opts = { NULL };
	struct inspect_result res = INSPECT_RESULT_INIT;
	struct oci_ref ref = OCI_REF_INIT;
	struct cli_target t = CLI_TARGET_INIT;
	struct cli_getopt p;
	const char *arg = NULL, *v;
	int raw = 0, opt, rc, status = RV_EXIT_USAGE;

	cli_getopt_init(&p, "inspect", argc, argv);
	while ((opt = cli_getopt(&p, inspect_options, &v)) != CLI_GETOPT_END) {
		if (opt == CLI_GETOPT_ERROR)
			goto done;
		if (opt == OPT_PLATFORM)
			opts.platform = v;
		else if (opt == OPT_RAW)
			raw = 1;
		else if (arg) {
			status = output_usage_error("inspect", "unexpected argument '%s'", v);
			goto done;
		} else
			arg = v;
	}
	if (!arg) {
		status = output_usage_error("inspect", "missing REF");
		goto done;
	}
	if (opts.platform && !inspect_platform_valid(opts.platform)) {
		status = output_usage_error("inspect", "invalid value '%s' for --platform: "
		                            "expected OS/ARCH[/VARIANT]", opts.platform);
		goto done;
	}
	if (raw && output_is_json()) {
		status = output_usage_error("inspect", "--raw cannot be combined with --output json");
		goto done;
	}

	rc = oci_ref_parse(&ref, arg, OCI_REF_DEFAULT_TAG);
	if (rc == 0)
		rc = cli_target_open(&t, g, ref.registry);
	if (rc == 0)
		rc = inspect_run(&res, t.store, &ref, &opts);
	if (rc != 0) {
		status = output_error(rc);
		goto done;
	}
	if (raw)
		status = write_raw(&res);
	else if (output_is_json())
		status = output_json(inspect_to_json(&res));
	else {
		inspect_print_text(&res);
		status = RV_EXIT_OK;
	}
done:
	inspect_result_release(&res);
	cli_target_close(&t);
	oci_ref_release(&ref);
	return status;
}
