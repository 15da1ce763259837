/*
 * cmd_ls.c — `regvault ls HOST[/REPO]`: repositories or tags.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli/commands.h"
#include "cli/exitcode.h"
#include "cli/output.h"
#include "util/error.h"
#include "util/log.h"
#include "util/str.h"
#include "util/banned.h"

const char cmd_ls_help[] =
"NAME\n"
"    regvault ls - list the repositories of a registry or the tags of one\n"
"\n"
"SYNOPSIS\n"
"    regvault ls HOST[:PORT]\n"
"    regvault ls HOST[:PORT]/PATTERN\n"
"    regvault ls [-l] HOST[:PORT]/REPO\n"
"\n"
"DESCRIPTION\n"
"    With a registry alone, prints every repository it has (its catalog),\n"
"    one per line. With a repository, prints its tags, one per line,\n"
"    sorted. A repository part holding glob characters (* ? [ ]) is a\n"
"    pattern: every repository it matches is printed; '*' also matches\n"
"    '/'. Results go to stdout, so the output can be piped to grep.\n"
"\n"
"OPTIONS\n"
"    -l, --long\n"
"        For tags: print each tag with the digest, size in bytes and\n"
"        media type of its manifest, asking the registry for up to\n"
"        --jobs tags at once.\n"
"\n"
"    The global options (regvault --help) apply too. With --output json\n"
"    the result is {\"registry\": HOST, \"repositories\": [...]} or\n"
"    {\"repository\": \"HOST/REPO\", \"tags\": [...]}; with --long each tag\n"
"    is {\"tag\", \"digest\", \"mediaType\", \"size\"}, or {\"tag\", \"error\"}.\n"
"\n"
"EXIT STATUS\n"
"    0 listed; 1 the registry could not be read, the repository is\n"
"    unknown or some tag could not be resolved (the others are still\n"
"    listed); 2 bad usage, invalid name or credentials problem.\n"
"\n"
"EXAMPLES\n"
"    regvault ls 127.0.0.1:5000\n"
"    regvault ls 'reg.example.com/team-*/*'\n"
"    regvault ls -l reg.example.com/team-a/api\n"
"    regvault ls -o json reg.example.com/team-a/api | jq -r '.tags[]'\n";

enum { OPT_LONG = 1 };

static const struct cli_option ls_options[] = {
	{ "long", 'l', 0, OPT_LONG },
	{ NULL, 0, 0, 0 },
};

/* Prints names one per line, or in json mode as doc[key] with doc the
 * run's document. Takes doc. */
static int print_names(const struct strlist *names, json_t *doc, const char *key)
{
	json_t *arr;
	size_t i;

	if (!output_is_json()) {
		json_decref(doc);
		for (i = 0; i < names->n; i++)
			printf("%s\n", names->v[i]);
		return RV_EXIT_OK;
	}
	arr = json_array();
	for (i = 0; i < names->n; i++)
		json_array_append_new(arr, json_string(names->v[i]));
	json_object_set_new(doc, key, arr);
	return output_json(doc);
}

static int list_repositories(const struct cli_target *t, const struct oci_ref *ref)
{
	const char *pattern = ref->repository;
	struct strlist all = STRLIST_INIT, shown = STRLIST_INIT;
	json_t *doc;
	size_t i;
	int status, rc = registry_catalog(t->client, &all);

	if (rc != 0) {
		status = output_error(rc);
		goto done;
	}
	for (i = 0; i < all.n; i++)
		if (!pattern || str_glob_match(pattern, all.v[i]))
			strlist_add(&shown, all.v[i]);
	if (pattern && shown.n == 0)
		log_warn("no repository on \"%s\" matches \"%s\"", ref->registry, pattern);
	doc = json_pack("{s:s}", "registry", ref->registry);
	if (pattern)
		json_object_set_new(doc, "pattern", json_string(pattern));
	status = print_names(&shown, doc, "repositories");
done:
	strlist_release(&shown);
	strlist_release(&all);
	return status;
}

/* --- ls -l: one concurrent manifest HEAD per tag ---------------------------- */

struct head_row {
	const char *tag;
	struct oci_manifest_info info;
	int rc;
	char *error;
	size_t *running;
};

static void head_done(registry_op *op, int rc, void *ctx)
{
	struct head_row *row = ctx;

	row->rc = rc;
	if (rc != 0)
		row->error = xstrdup(registry_op_error(op));
	(*row->running)--;
}

/* HEADs every tag, at most `jobs` at a time on the session. */
static void head_all(const struct cli_target *t, const char *repo, struct head_row *rows,
                     size_t n, int jobs)
{
	size_t next = 0, running = 0;
	int rc;

	while (next < n || running > 0) {
		while (next < n && running < (size_t)jobs) {
			struct head_row *row = &rows[next++];

			row->running = &running;
			rc = registry_manifest_head_start(NULL, t->client, repo, row->tag, &row->info,
			                                  head_done, row);
			if (rc == 0)
				running++;
			else {
				row->rc = rc;
				row->error = xstrdup(error_msg());
			}
		}
		if (running > 0 && registry_session_run(t->session, 1000) == 0 && running > 0)
			xdie("registry session finished with %zu manifest requests unanswered", running);
	}
}

static json_t *row_json(const struct head_row *row)
{
	if (row->rc != 0)
		return json_pack("{s:s,s:{s:s,s:s}}", "tag", row->tag, "error",
		                 "code", error_code_name(row->rc), "message", row->error);
	return json_pack("{s:s,s:s,s:s,s:I}", "tag", row->tag, "digest", row->info.digest,
	                 "mediaType", row->info.media_type, "size", (json_int_t)row->info.size);
}

/* Prints the rows (failed ones on stderr, or as {"tag","error"} in json
 * mode); returns the exit status of the first failed row. */
static int print_rows(const struct head_row *rows, size_t n, const char *repository)
{
	json_t *tags = output_is_json() ? json_array() : NULL;
	int status = RV_EXIT_OK, width = 0, rc;
	char msg[1024];
	size_t i;

	for (i = 0; i < n; i++)
		if ((int)strlen(rows[i].tag) > width)
			width = (int)strlen(rows[i].tag);
	for (i = 0; i < n; i++) {
		if (rows[i].rc != 0) {
			fprintf(stderr, "regvault: error: %s\n",
			        str_printable(msg, sizeof(msg), rows[i].error));
			if (status == RV_EXIT_OK)
				status = rv_exit_code(rows[i].rc);
		}
		if (tags)
			json_array_append_new(tags, row_json(&rows[i]));
		else if (rows[i].rc == 0)
			printf("%-*s  %s  %8lld  %s\n", width, rows[i].tag, rows[i].info.digest,
			       (long long)rows[i].info.size, rows[i].info.media_type);
	}
	if (tags) {
		rc = output_json(json_pack("{s:s,s:o}", "repository", repository, "tags", tags));
		status = status ? status : rc;
	}
	return status;
}

static int list_tags(const struct cli_target *t, const struct oci_ref *ref, int long_fmt,
                     int jobs)
{
	struct strlist tags = STRLIST_INIT;
	struct head_row *rows = NULL;
	char *name = xasprintf("%s/%s", ref->registry, ref->repository);
	size_t i;
	int status, rc = registry_tags_list(t->client, ref->repository, &tags);

	if (rc != 0) {
		status = output_error(rc);
	} else if (!long_fmt) {
		status = print_names(&tags, json_pack("{s:s}", "repository", name), "tags");
	} else {
		rows = xcalloc(tags.n ? tags.n : 1, sizeof(*rows));
		for (i = 0; i < tags.n; i++)
			rows[i].tag = tags.v[i];
		head_all(t, ref->repository, rows, tags.n, jobs);
		status = print_rows(rows, tags.n, name);
		for (i = 0; i < tags.n; i++)
			free(rows[i].error);
		free(rows);
	}
	free(name);
	strlist_release(&tags);
	return status;
}

int cmd_ls(int argc, char **argv, const struct cli_globals *g)
{
	struct oci_ref ref = OCI_REF_INIT;
	struct cli_target t = CLI_TARGET_INIT;
	struct cli_getopt p;
	const char *arg = NULL, *v;
	int long_fmt = 0, opt, rc, status = RV_EXIT_USAGE;

	cli_getopt_init(&p, "ls", argc, argv);
	while ((opt = cli_getopt(&p, ls_options, &v)) != CLI_GETOPT_END) {
		if (opt == CLI_GETOPT_ERROR)
			goto done;
		if (opt == OPT_LONG)
			long_fmt = 1;
		else if (arg) {
			status = output_usage_error("ls", "unexpected argument '%s'", v);
			goto done;
		} else
			arg = v;
	}
	if (!arg) {
		status = output_usage_error("ls", "missing HOST or HOST/REPO");
		goto done;
	}
	rc = oci_ref_parse(&ref, arg, OCI_REF_HOST_OK | OCI_REF_GLOB_OK | OCI_REF_NO_TAG);
	if (rc != 0) {
		status = output_error(rc);
		goto done;
	}
	if (long_fmt && (!ref.repository || str_has_glob(ref.repository))) {
		status = output_usage_error("ls", "--long lists tags: name one repository, "
		                            "HOST/REPO");
		goto done;
	}
	rc = cli_target_open(&t, g, ref.registry);
	if (rc != 0)
		status = output_error(rc);
	else if (!ref.repository || str_has_glob(ref.repository))
		status = list_repositories(&t, &ref);
	else
		status = list_tags(&t, &ref, long_fmt, g->jobs);
done:
	cli_target_close(&t);
	oci_ref_release(&ref);
	return status;
}
