/* Unit tests for policy/: a strict reader of the prune policy. Every
 * refusal is checked at its exact LINE:COLUMN with a piece of its message;
 * every field of a full policy is checked after parsing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "policy/policy.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/xalloc.h"
#include "util/banned.h"

/* A valid top (lines 1-5) and keep (line 6) to put one mistake after. */
#define TOP "version: 1\nregistry: reg.io\nrepositories: [\"*\"]\n" \
	"safekeeping: {archive: /b}\ndeployed: none\n"
#define KEEP "keep: [{tags: [latest]}]\n"
/* The same top without `deployed` (lines 1-4), for deployed cases on line 5. */
#define TOP4 "version: 1\nregistry: reg.io\nrepositories: [\"*\"]\nsafekeeping: {archive: /b}\n"

static const char full[] =
	"version: 1\n"
	"registry: registry.example.com:5000\n"
	"repositories: [\"team-a/*\", payments]\n"
	"safekeeping:\n"
	"  archive: /var/backups/regvault\n"
	"  registry: standby.example.com/mirror\n"
	"deployed:\n"
	"  - kubectl: {context: prod}\n"
	"  - kubectl: {}\n"
	"  - kubernetes-json: cluster.json\n"
	"  - refs-file: /srv/deployed.txt\n"
	"rollback: 3\n"
	"protect_base_images: false\n"
	"protect: [\"base/?*:*\", tools/ci:stable]\n"
	"keep:                       # a union\n"
	"  - tags: [\"latest\"]\n"
	"  - tags: [\"*-SNAPSHOT*\"]\n"
	"    newest: 5\n"
	"  - tags: [\"*\"]\n"
	"    exclude_tags:\n"
	"      - \"*-SNAPSHOT*\"\n"
	"      - \"*-rc*\"\n"
	"    newest: 10\n"
	"  - younger_than: 30d\n"
	"untagged: delete\n"
	"max_delete: 25\n";

static void check_full(const struct policy *p)
{
	assert_string_equal(p->registry, "registry.example.com:5000");
	assert_int_equal(p->n_repositories, 2);
	assert_string_equal(p->repositories[0], "team-a/*");
	assert_string_equal(p->repositories[1], "payments");
	assert_string_equal(p->safekeeping_archive, "/var/backups/regvault");
	assert_string_equal(p->safekeeping_registry, "standby.example.com/mirror");
	assert_int_equal(p->deployed_none, 0);
	assert_int_equal(p->n_deployed, 4);
	assert_int_equal(p->deployed[0].kind, DEPLOYED_KUBECTL);
	assert_string_equal(p->deployed[0].arg, "prod");
	assert_int_equal(p->deployed[1].kind, DEPLOYED_KUBECTL);
	assert_null(p->deployed[1].arg);
	assert_int_equal(p->deployed[2].kind, DEPLOYED_KUBERNETES_JSON);
	assert_string_equal(p->deployed[2].arg, "/etc/regvault/cluster.json");
	assert_int_equal(p->deployed[3].kind, DEPLOYED_REFS_FILE);
	assert_string_equal(p->deployed[3].arg, "/srv/deployed.txt");
	assert_int_equal(p->rollback, 3);
	assert_int_equal(p->protect_base_images, 0);
	assert_int_equal(p->n_protect, 2);
	assert_string_equal(p->protect[0], "base/?*:*");
	assert_string_equal(p->protect[1], "tools/ci:stable");
	assert_int_equal(p->n_keep, 4);
	assert_int_equal(p->keep[0].n_tags, 1);
	assert_string_equal(p->keep[0].tags[0], "latest");
	assert_int_equal(p->keep[0].n_exclude_tags, 0);
	assert_int_equal(p->keep[0].newest, 0);
	assert_int_equal(p->keep[0].younger_than, 0);
	assert_int_equal(p->keep[0].line, 16);
	assert_string_equal(p->keep[1].tags[0], "*-SNAPSHOT*");
	assert_int_equal(p->keep[1].newest, 5);
	assert_int_equal(p->keep[1].line, 17);
	assert_string_equal(p->keep[2].tags[0], "*");
	assert_int_equal(p->keep[2].n_exclude_tags, 2);
	assert_string_equal(p->keep[2].exclude_tags[0], "*-SNAPSHOT*");
	assert_string_equal(p->keep[2].exclude_tags[1], "*-rc*");
	assert_int_equal(p->keep[2].newest, 10);
	assert_null(p->keep[3].tags);
	assert_int_equal(p->keep[3].n_tags, 0);
	assert_int_equal(p->keep[3].younger_than, 30 * 86400);
	assert_int_equal(p->keep[3].line, 24);
	assert_int_equal(p->untagged, POLICY_UNTAGGED_DELETE);
	assert_int_equal(p->max_delete_percent, 0);
	assert_true(p->max_delete == 25);
}

static void test_full(void **state)
{
	struct policy *p = NULL;

	(void)state;
	assert_int_equal(policy_parse(&p, full, strlen(full), "/etc/regvault/policy.yaml"), 0);
	assert_string_equal(p->path, "/etc/regvault/policy.yaml");
	check_full(p);
	policy_free(p);
}

/* The same policy with a UTF-8 BOM and CRLF line ends reads the same, and
 * positions still count lines, not carriage returns. */
static void test_bom_crlf(void **state)
{
	struct buf b = BUF_INIT;
	struct policy *p = NULL;

	(void)state;
	buf_addstr(&b, "\xEF\xBB\xBF");
	for (const char *s = full; *s; s++)
		buf_addstr(&b, *s == '\n' ? "\r\n" : (char[]){ *s, 0 });
	assert_int_equal(policy_parse(&p, b.ptr, b.len, "/etc/regvault/policy.yaml"), 0);
	check_full(p);
	policy_free(p);
	buf_reset(&b);
	buf_addstr(&b, "\xEF\xBB\xBFversion: 1\r\nregistry: reg.io\r\nrepositories: [\"*\"]\r\n"
	           "safekeeping: {archive: /b}\r\ndeployed: none\r\nkeep:\r\n  - newest: 0\r\n");
	assert_int_equal(policy_parse(&p, b.ptr, b.len, "policy.yaml"), RV_EINVALID);
	assert_null(p);
	assert_string_equal(error_msg(), "policy.yaml:7:13: newest must be an integer >= 1, not \"0\"");
	buf_release(&b);
}

static void test_minimal(void **state)
{
	static const char text[] = TOP KEEP;
	struct policy *p = NULL;

	(void)state;
	assert_int_equal(policy_parse(&p, text, strlen(text), "policy.yaml"), 0);
	assert_string_equal(p->registry, "reg.io");
	assert_int_equal(p->deployed_none, 1);
	assert_int_equal(p->n_deployed, 0);
	assert_null(p->deployed);
	assert_null(p->safekeeping_registry);
	/* the defaults of policy.h */
	assert_int_equal(p->rollback, 1);
	assert_int_equal(p->protect_base_images, 1);
	assert_int_equal(p->n_protect, 0);
	assert_int_equal(p->untagged, POLICY_UNTAGGED_KEEP);
	assert_int_equal(p->max_delete_percent, 1);
	assert_true(p->max_delete == 10);
	assert_int_equal(policy_max_delete(p, 1000), 100);
	policy_free(p);
}

struct bad {
	const char *name;
	const char *text;
	int line, col;         /* 0: a message about the whole file, "policy.yaml: …" */
	const char *msg;       /* a piece of the message after the position */
};

static const struct bad bad[] = {
	/* unknown and duplicate keys */
	{ "unknown top key", TOP KEEP "max_delet: 5\n", 7, 1, "unknown key \"max_delet\" (known: "
	  "version, registry, repositories, safekeeping, deployed, rollback, protect_base_images, "
	  "protect, keep, untagged, max_delete)" },
	{ "unknown rule key", TOP "keep:\n  - tags: [latest]\n    newst: 5\n", 8, 5,
	  "unknown key \"newst\" in keep rule (known: tags, exclude_tags, newest, younger_than)" },
	{ "duplicate top key", TOP KEEP "version: 1\n", 7, 1, "duplicate key \"version\" (first at 1:1)" },
	{ "duplicate rule key", TOP "keep:\n  - {tags: [a], tags: [b]}\n", 7, 17,
	  "duplicate key \"tags\" in keep rule (first at 7:6)" },
	{ "list as key", "? [a]\n: b\n", 1, 3, "a key must be a word, not a list" },
	/* YAML features a policy does not have */
	{ "anchor", TOP "keep: &k [{tags: [a]}]\n", 6, 7, "anchor \"&k\" is not allowed" },
	{ "alias", TOP "keep: *k\n", 6, 7, "alias \"*k\" is not allowed" },
	{ "tag int", "version: !!int 1\n", 1, 10, "tag \"!!int\" is not allowed" },
	{ "tag str", TOP KEEP "rollback: !!str 1\n", 7, 11, "tag \"!!str\" is not allowed" },
	{ "tag local", TOP KEEP "untagged: !keep keep\n", 7, 11, "tag \"!keep\" is not allowed" },
	{ "two documents", TOP KEEP "---\nversion: 1\n", 7, 1, "a second YAML document starts here" },
	{ "unquoted star", "repositories: [*]\n", 1, 17,
	  "did not find expected alphabetic or numeric character (while scanning an alias at "
	  "1:16); a glob that starts with '*' must be quoted" },
	{ "syntax", "version: 1\nregistry: a: b\n", 2, 12,
	  "mapping values are not allowed in this context" },
	{ "syntax context", "keep:\n  - x\n - y\n", 3, 2,
	  "did not find expected key (while parsing a block mapping at 1:1)" },
	{ "control char", TOP KEEP "untagged: \x01\n", 7, 11, "control characters are not allowed (0x1)" },
	{ "bad utf-8", "version: 1\nregistry: r\xC3\xA9g\xFF\n", 2, 14, "invalid leading UTF-8 octet" },
	{ "nesting", "a: [[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]\n", 1, 19, "nested deeper than 16 levels" },
	/* the document */
	{ "a list", "- version: 1\n", 1, 1, "the policy must be a mapping of keys, not a list" },
	{ "a word", "hello\n", 1, 1, "the policy must be a mapping of keys, not \"hello\"" },
	{ "missing deployed", "version: 1\nregistry: reg.io\nrepositories: [\"*\"]\n"
	  "safekeeping: {archive: /b}\n" KEEP, 1, 1,
	  "required key \"deployed\" is missing (use \"deployed: none\" for an empty cluster)" },
	{ "missing version after comments", "# prune policy\n\nregistry: reg.io\n", 3, 1,
	  "required key \"version\" is missing (write \"version: 1\")" },
	{ "missing keep", TOP, 1, 1, "required key \"keep\" is missing" },
	/* version */
	{ "version 2", "version: 2\n", 1, 10, "version must be 1, not \"2\"" },
	{ "version quoted", "version: \"1\"\n", 1, 10, "\"1\" is a string: write 1 without quotes" },
	{ "version float", "version: 1.0\n", 1, 10, "version must be 1, not \"1.0\"" },
	/* registry */
	{ "registry path", "registry: reg.io/team\n", 1, 11,
	  "registry must be a host[:port] without a path, not \"reg.io/team\"" },
	{ "registry not host", "registry: \"my registry\"\n", 1, 11, "registry: location \"my registry\"" },
	{ "registry empty", "registry:\n", 1, 10, "registry must not be empty" },
	{ "registry list", "registry: [a.io]\n", 1, 11, "registry must be a string, not a list" },
	{ "registry control", "registry: \"reg\\t.io\"\n", 1, 11, "registry must not hold control characters" },
	/* repositories */
	{ "repositories empty", "repositories: []\n", 1, 15, "repositories is an empty list (use [\"*\"] for every repository)" },
	{ "repositories scalar", "repositories: \"*\"\n", 1, 15,
	  "repositories must be a list, not \"*\" (write [\"*\"])" },
	{ "repositories with tag", "repositories: [app, \"app:latest\"]\n", 1, 21,
	  "repositories entry \"app:latest\" is not a repository glob" },
	{ "repositories empty glob", "repositories: [\"\"]\n", 1, 16, "repositories entry must not be empty" },
	/* safekeeping */
	{ "safekeeping empty", "safekeeping: {}\n", 1, 14,
	  "safekeeping must name an archive, a registry or both, not an empty mapping" },
	{ "safekeeping null", "safekeeping:\n", 1, 13, "safekeeping must name an archive, a registry or both, not empty" },
	{ "safekeeping unknown", "safekeeping: {archiv: /b}\n", 1, 15,
	  "unknown key \"archiv\" in safekeeping (known: archive, registry)" },
	{ "safekeeping bad registry", "safekeeping: {registry: \"Not A Host\"}\n", 1, 25,
	  "safekeeping registry: location \"Not A Host\"" },
	{ "safekeeping tilde", "safekeeping: {archive: ~/backups}\n", 1, 24,
	  "safekeeping archive: \"~\" is not expanded" },
	{ "standby is primary", "version: 1\nregistry: reg.io\nrepositories: [\"*\"]\n"
	  "safekeeping: {registry: reg.io}\ndeployed: none\n" KEEP, 4, 25,
	  "safekeeping registry \"reg.io\" is the registry being pruned" },
	{ "standby in scope", "version: 1\nregistry: reg.io\nrepositories: [\"*\"]\n"
	  "safekeeping: {registry: reg.io/backup}\ndeployed: none\n" KEEP, 4, 25,
	  "safekeeping registry \"reg.io/backup\" is inside the repositories being pruned (\"*\")" },
	/* deployed */
	{ "deployed empty list", TOP4 "deployed: []\n" KEEP, 5, 11,
	  "deployed is an empty list: name a source, or write \"deployed: none\" for an empty cluster" },
	{ "deployed none quoted", TOP4 "deployed: \"none\"\n", 5, 11, "\"none\" is a string: write none without quotes" },
	{ "deployed None", TOP4 "deployed: None\n", 5, 11, "deployed must be a list of sources or none, not \"None\"" },
	{ "deployed null", TOP4 "deployed:\n", 5, 10, "deployed must be a list of sources or none, not empty" },
	{ "deployed mapping", TOP4 "deployed:\n  kubectl: {}\n", 6, 3, "not a mapping (each source is a list item" },
	{ "deployed word", TOP4 "deployed:\n  - kubectl\n", 6, 5,
	  "a deployed entry must be a mapping such as \"refs-file: FILE\" or \"kubectl: {}\", not \"kubectl\"" },
	{ "deployed no space", TOP4 "deployed: [refs-file:d.txt]\n", 5, 12, "not \"refs-file:d.txt\"" },
	{ "deployed unknown", TOP4 "deployed:\n  - kubctl: {}\n", 6, 5,
	  "unknown deployed source \"kubctl\" (known: kubectl, kubernetes-json, refs-file)" },
	{ "deployed two keys", TOP4 "deployed:\n  - {refs-file: a, kubectl: {}}\n", 6, 20,
	  "a deployed entry names one source: give \"kubectl\" its own \"- \" list item" },
	{ "kubectl word", TOP4 "deployed:\n  - kubectl: prod\n", 6, 14,
	  "kubectl must be a mapping, not \"prod\" (write kubectl: {context: prod})" },
	{ "kubectl null", TOP4 "deployed:\n  - kubectl:\n", 6, 13,
	  "kubectl must be a mapping, not empty (write kubectl: {} for the current context)" },
	{ "kubectl unknown", TOP4 "deployed:\n  - kubectl: {contxt: a}\n", 6, 15,
	  "unknown key \"contxt\" in kubectl (known: context)" },
	{ "kubectl empty context", TOP4 "deployed:\n  - kubectl: {context: \"\"}\n", 6, 24,
	  "kubectl context must not be empty" },
	{ "refs-file empty", TOP4 "deployed:\n  - refs-file: \"\"\n", 6, 16, "refs-file must not be empty" },
	{ "refs-file list", TOP4 "deployed:\n  - refs-file: [a]\n", 6, 16, "refs-file must be a string, not a list" },
	{ "kubernetes-json tilde", TOP4 "deployed:\n  - kubernetes-json: ~/c.json\n", 6, 22,
	  "kubernetes-json: \"~\" is not expanded" },
	/* rollback, protect_base_images, protect */
	{ "rollback 101", TOP KEEP "rollback: 101\n", 7, 11, "rollback must be an integer from 0 to 100, not \"101\"" },
	{ "rollback -1", TOP KEEP "rollback: -1\n", 7, 11, "rollback must be an integer from 0 to 100, not \"-1\"" },
	{ "rollback octal", TOP KEEP "rollback: 010\n", 7, 11, "not \"010\"" },
	{ "rollback hex", TOP KEEP "rollback: 0x10\n", 7, 11, "not \"0x10\"" },
	{ "rollback plus", TOP KEEP "rollback: +1\n", 7, 11, "not \"+1\"" },
	{ "rollback minus zero", TOP KEEP "rollback: -0\n", 7, 11, "not \"-0\"" },
	{ "bool yes", TOP KEEP "protect_base_images: yes\n", 7, 22,
	  "protect_base_images must be true or false, not \"yes\"" },
	{ "bool True", TOP KEEP "protect_base_images: True\n", 7, 22, "not \"True\"" },
	{ "bool off", TOP KEEP "protect_base_images: off\n", 7, 22, "not \"off\"" },
	{ "bool quoted", TOP KEEP "protect_base_images: 'true'\n", 7, 22,
	  "\"true\" is a string: write true without quotes" },
	{ "protect no colon", TOP KEEP "protect: [\"base/?*\"]\n", 7, 11,
	  "protect entry \"base/?*\" needs ':' between a repository glob and a tag glob" },
	{ "protect two colons", TOP KEEP "protect: [\"a:b:c\"]\n", 7, 11, "has more than one ':'" },
	{ "protect empty side", TOP KEEP "protect: [\"base:\"]\n", 7, 11, "needs a glob on both sides" },
	{ "protect empty list", TOP KEEP "protect: []\n", 7, 10, "protect is an empty list (leave the key out instead)" },
	/* keep */
	{ "keep empty", TOP "keep: []\n", 6, 7, "keep is an empty list" },
	{ "keep mapping", TOP "keep: {tags: [a]}\n", 6, 7, "keep must be a list of rules, not a mapping" },
	{ "rule empty", TOP "keep: [{}]\n", 6, 8, "a keep rule must be a mapping with tags, exclude_tags, "
	  "newest or younger_than, not an empty mapping" },
	{ "rule null", TOP "keep:\n  -\n", 7, 4, "not empty" },
	{ "rule word", TOP "keep: [latest]\n", 6, 8, "not \"latest\"" },
	{ "tags empty", TOP "keep: [{tags: []}]\n", 6, 15, "tags is an empty list" },
	{ "tags scalar", TOP "keep: [{tags: latest}]\n", 6, 15, "tags must be a list, not \"latest\" (write [\"latest\"])" },
	{ "tags empty glob", TOP "keep: [{tags: [a, \"\"]}]\n", 6, 19, "tags entry must not be empty" },
	{ "exclude empty", TOP "keep: [{tags: [a], exclude_tags: []}]\n", 6, 34, "exclude_tags is an empty list" },
	{ "newest 0", TOP "keep:\n  - tags: [latest]\n    newest: 0\n", 8, 13,
	  "newest must be an integer >= 1, not \"0\"" },
	{ "newest quoted", TOP "keep:\n  - tags: [latest]\n    newest: \"5\"\n", 8, 13,
	  "\"5\" is a string: write 5 without quotes" },
	{ "newest float", TOP "keep: [{newest: 5.0}]\n", 6, 17, "newest must be an integer >= 1, not \"5.0\"" },
	{ "newest huge", TOP "keep: [{newest: 99999999999}]\n", 6, 17, "not \"99999999999\"" },
	{ "newest overflow", TOP "keep: [{newest: 99999999999999999999}]\n", 6, 17, "not \"99999999999999999999\"" },
	{ "newest null", TOP "keep: [{newest: }]\n", 6, 17, "newest must be an integer >= 1, not empty" },
	{ "younger bare", TOP "keep: [{younger_than: 30}]\n", 6, 23,
	  "younger_than must be a duration with a unit: 90s, 15m, 12h, 30d or 2w, not \"30\"" },
	{ "younger zero", TOP "keep: [{younger_than: 0d}]\n", 6, 23, "not \"0d\"" },
	{ "younger unit", TOP "keep: [{younger_than: 30y}]\n", 6, 23, "not \"30y\"" },
	{ "younger overflow", TOP "keep: [{younger_than: 99999999999999999w}]\n", 6, 23, "not \"99999999999999999w\"" },
	/* untagged, max_delete */
	{ "untagged yes", TOP KEEP "untagged: yes\n", 7, 11, "untagged must be keep or delete, not \"yes\"" },
	{ "untagged quoted nul", TOP KEEP "untagged: \"keep\\0\"\n", 7, 11, "untagged must be keep or delete, not a string holding a NUL byte" },
	{ "max_delete 0", TOP KEEP "max_delete: 0\n", 7, 13,
	  "max_delete must be a count >= 1 or a percentage from 1% to 100%, not \"0\"" },
	{ "max_delete 0%", TOP KEEP "max_delete: 0%\n", 7, 13, "not \"0%\"" },
	{ "max_delete 101%", TOP KEEP "max_delete: 101%\n", 7, 13, "not \"101%\"" },
	{ "max_delete 12.5%", TOP KEEP "max_delete: 12.5%\n", 7, 13, "not \"12.5%\"" },
	{ "max_delete -1", TOP KEEP "max_delete: -1\n", 7, 13, "not \"-1\"" },
	{ "max_delete %", TOP KEEP "max_delete: \"%\"\n", 7, 13, "not \"%\"" },
	{ "max_delete quoted", TOP KEEP "max_delete: \"50%\"\n", 7, 13,
	  "\"50%\" is a string: write 50% without quotes" },
	{ "max_delete null", TOP KEEP "max_delete:\n", 7, 12, "not empty" },
	/* A loader that failed upstream hands over zeros and empty lists: the
	 * first of them stops everything. */
	{ "zeros and empty lists", "version: 1\nregistry: reg.io\nrepositories: []\n"
	  "safekeeping: {archive: /b}\ndeployed: []\nkeep: []\nrollback: 0\nmax_delete: 0\n", 3, 15,
	  "repositories is an empty list (use [\"*\"] for every repository)" },
	{ "zeros without lists", TOP "keep:\n  - newest: 0\nmax_delete: 0\n", 7, 13, "newest must be an integer >= 1" },
	/* empty files */
	{ "empty", "", 0, 0, "the policy is empty" },
	{ "blank", "\n  \n\n", 0, 0, "the policy is empty" },
	{ "comments only", "# version: 1\n   # nothing else\n", 0, 0, "the policy is empty" },
	{ "document marker only", "---\n", 0, 0, "the policy is empty" },
	{ "document markers", "---\n...\n", 0, 0, "the policy is empty" },
	{ "null", "null\n", 0, 0, "the policy is empty" },
	{ "tilde", "~", 0, 0, "the policy is empty" },
};

static void test_refusals(void **state)
{
	char want[64];
	int failed = 0;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct policy *p = (struct policy *)&p;   /* must be reset to NULL */
		int rc = policy_parse(&p, bad[i].text, strlen(bad[i].text), "policy.yaml");
		const char *msg = error_msg();

		if (bad[i].line)
			snprintf(want, sizeof(want), "policy.yaml:%d:%d: ", bad[i].line, bad[i].col);
		else
			snprintf(want, sizeof(want), "policy.yaml: ");
		if (rc != RV_EINVALID || p || strncmp(msg, want, strlen(want)) != 0 ||
		    !strstr(msg + strlen(want), bad[i].msg) || strchr(msg, '\n')) {
			print_error("case \"%s\": rc %d, message \"%s\"; want \"%s...%s\"\n",
			            bad[i].name, rc, msg, want, bad[i].msg);
			failed++;
		}
	}
	assert_int_equal(failed, 0);
}

struct good {
	const char *name;
	const char *text;
};

/* Accepted shapes that a too-strict reader might refuse. */
static const struct good good[] = {
	{ "block lists", "version: 1\nregistry: reg.io\nrepositories:\n  - \"*\"\nsafekeeping:\n"
	  "  registry: standby.io\ndeployed:\n  - refs-file: d.txt\nkeep:\n  - tags:\n      - latest\n" },
	{ "document markers", "---\n" TOP KEEP "...\n" },
	{ "comments", "# policy\n" TOP "# rules\n" KEEP "# end\n" },
	{ "quoted keys and values", "\"version\": 1\n'registry': 'reg.io'\nrepositories: ['*']\n"
	  "safekeeping: {archive: \"/b\"}\ndeployed: none\nkeep: [{tags: ['latest']}]\nuntagged: 'keep'\n" },
	{ "standby same host, other scope", "version: 1\nregistry: reg.io:5000\n"
	  "repositories: [\"team-a/*\"]\nsafekeeping: {registry: reg.io:5000/backup}\n"
	  "deployed: none\n" KEEP },
	{ "rollback 0 and 100", TOP KEEP "rollback: 0\n" },
	{ "max_delete 100%", TOP KEEP "max_delete: 100%\n" },
	{ "newest only", TOP "keep: [{newest: 3}]\n" },
	{ "deployed flow", TOP4 "deployed: [{kubectl: {}}, {refs-file: ./d.txt}]\n" KEEP },
	{ "numeric-looking tags", TOP "keep: [{tags: [1.10, 2, true, null-x]}]\n" },
	{ "unicode", TOP "keep: [{tags: [\"v1-\xC3\xA9t\xC3\xA9\"]}]\n" },
};

static void test_accepted(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		struct policy *p = NULL;

		if (policy_parse(&p, good[i].text, strlen(good[i].text), "policy.yaml") != 0)
			fail_msg("case \"%s\": %s", good[i].name, error_msg());
		assert_non_null(p);
		policy_free(p);
	}
}

static void test_tag_text_verbatim(void **state)
{
	static const char text[] = TOP "keep: [{tags: [1.10, 010, true]}]\n";
	struct policy *p = NULL;

	(void)state;
	assert_int_equal(policy_parse(&p, text, strlen(text), "policy.yaml"), 0);
	assert_int_equal(p->keep[0].n_tags, 3);
	assert_string_equal(p->keep[0].tags[0], "1.10");
	assert_string_equal(p->keep[0].tags[1], "010");
	assert_string_equal(p->keep[0].tags[2], "true");
	policy_free(p);
}

/* exclude_tags without tags keeps every tag but those: tags = ["*"]. */
static void test_exclude_only(void **state)
{
	static const char text[] = TOP "keep:\n  - exclude_tags: [\"*-rc*\"]\n    newest: 3\n";
	struct policy *p = NULL;

	(void)state;
	assert_int_equal(policy_parse(&p, text, strlen(text), "policy.yaml"), 0);
	assert_int_equal(p->keep[0].n_tags, 1);
	assert_string_equal(p->keep[0].tags[0], "*");
	assert_int_equal(p->keep[0].n_exclude_tags, 1);
	assert_string_equal(p->keep[0].exclude_tags[0], "*-rc*");
	assert_int_equal(p->keep[0].newest, 3);
	policy_free(p);
}

static void parse_paths(const char *policy_path, char **archive, char **refs)
{
	static const char text[] = "version: 1\nregistry: reg.io\nrepositories: [\"*\"]\n"
		"safekeeping: {archive: backups}\ndeployed:\n  - refs-file: ./lists/d.txt\n" KEEP;
	struct policy *p = NULL;

	assert_int_equal(policy_parse(&p, text, strlen(text), policy_path), 0);
	*archive = xstrdup(p->safekeeping_archive);
	*refs = xstrdup(p->deployed[0].arg);
	policy_free(p);
}

static void test_relative_paths(void **state)
{
	char *cwd = getcwd(NULL, 0), *a, *r, *want;

	(void)state;
	assert_non_null(cwd);
	parse_paths("/etc/regvault/policy.yaml", &a, &r);
	assert_string_equal(a, "/etc/regvault/backups");
	assert_string_equal(r, "/etc/regvault/lists/d.txt");
	free(a);
	free(r);
	parse_paths("/policy.yaml", &a, &r);
	assert_string_equal(a, "/backups");
	free(a);
	free(r);
	parse_paths("policy.yaml", &a, &r);
	want = xasprintf("%s/backups", cwd);
	assert_string_equal(a, want);
	free(want);
	free(a);
	free(r);
	parse_paths("conf/policy.yaml", &a, &r);
	want = xasprintf("%s/conf/lists/d.txt", cwd);
	assert_string_equal(r, want);
	free(want);
	free(a);
	free(r);
	free(cwd);
}

struct md {
	const char *value;
	int percent;
	double n;
};

static void test_max_delete_forms(void **state)
{
	static const struct md forms[] = {
		{ "1", 0, 1 }, { "50", 0, 50 }, { "1%", 1, 1 }, { "50%", 1, 50 }, { "100%", 1, 100 },
		{ "9007199254740993", 0, 9007199254740993.0 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(forms) / sizeof(forms[0]); i++) {
		char *text = xasprintf(TOP KEEP "max_delete: %s\n", forms[i].value);
		struct policy *p = NULL;

		if (policy_parse(&p, text, strlen(text), "policy.yaml") != 0)
			fail_msg("max_delete %s: %s", forms[i].value, error_msg());
		assert_int_equal(p->max_delete_percent, forms[i].percent);
		assert_true(p->max_delete == forms[i].n);
		policy_free(p);
		free(text);
	}
}

struct arith {
	int percent;
	double value;
	size_t in_scope, want;
};

static void test_max_delete_arithmetic(void **state)
{
	static const struct arith cases[] = {
		{ 1, 10, 9, 0 },       /* floor: 10% of 9 is 0, any deletion is refused */
		{ 1, 10, 10, 1 },
		{ 1, 10, 19, 1 },
		{ 1, 10, 0, 0 },
		{ 1, 50, 7, 3 },
		{ 1, 100, 7, 7 },
		{ 1, 1, 99, 0 },
		{ 1, 1, 100, 1 },
		{ 1, 33, 1000, 330 },
		{ 1, 99, SIZE_MAX, SIZE_MAX / 100 * 99 + SIZE_MAX % 100 * 99 / 100 },
		{ 1, 100, SIZE_MAX, SIZE_MAX },
		{ 0, 5, 3, 3 },        /* a count never exceeds what is in scope */
		{ 0, 5, 5, 5 },
		{ 0, 5, 100, 5 },
		{ 0, 1, 0, 0 },
		{ 0, 1e18, 10, 10 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct policy p = { 0 };

		p.max_delete_percent = cases[i].percent;
		p.max_delete = cases[i].value;
		if (policy_max_delete(&p, cases[i].in_scope) != cases[i].want)
			fail_msg("case %zu: %zu, want %zu", i, policy_max_delete(&p, cases[i].in_scope),
			         cases[i].want);
	}
}

static void test_size_limit(void **state)
{
	size_t len = 1024 * 1024 + 1;
	char *text = xmalloc(len);
	struct policy *p = NULL;

	(void)state;
	memset(text, '#', len);
	assert_int_equal(policy_parse(&p, text, len, "policy.yaml"), RV_EINVALID);
	assert_string_equal(error_msg(), "policy.yaml: the policy is larger than 1 MiB");
	/* exactly 1 MiB of comment is read, and is empty */
	assert_int_equal(policy_parse(&p, text, len - 1, "policy.yaml"), RV_EINVALID);
	assert_string_equal(error_msg(), "policy.yaml: the policy is empty");
	free(text);
}

static void test_load(void **state)
{
	char dir[] = "/tmp/rv-test-policy-XXXXXX";
	char *file, *big, *missing, *want;
	struct policy *p = NULL;
	char *text;

	(void)state;
	assert_non_null(mkdtemp(dir));
	file = xasprintf("%s/policy.yaml", dir);
	big = xasprintf("%s/big.yaml", dir);
	missing = xasprintf("%s/missing.yaml", dir);
	assert_int_equal(fs_write_atomic(file, full, strlen(full), 0600), 0);
	assert_int_equal(policy_load(&p, file), 0);
	assert_string_equal(p->path, file);
	want = xasprintf("%s/cluster.json", dir);
	assert_string_equal(p->deployed[2].arg, want);
	free(want);
	policy_free(p);

	assert_int_equal(policy_load(&p, missing), RV_EINVALID);
	assert_null(p);
	want = xasprintf("cannot read policy \"%s\": No such file or directory", missing);
	assert_string_equal(error_msg(), want);
	free(want);

	assert_int_equal(policy_load(&p, dir), RV_EINVALID);
	want = xasprintf("cannot read policy \"%s\": Is a directory", dir);
	assert_string_equal(error_msg(), want);
	free(want);

	text = xmalloc(1024 * 1024 + 1);
	memset(text, '#', 1024 * 1024 + 1);
	assert_int_equal(fs_write_atomic(big, text, 1024 * 1024 + 1, 0600), 0);
	assert_int_equal(policy_load(&p, big), RV_EINVALID);
	want = xasprintf("cannot read policy \"%s\": larger than 1 MiB", big);
	assert_string_equal(error_msg(), want);
	free(want);
	free(text);

	assert_int_equal(fs_write_atomic(big, "", 0, 0600), 0);
	assert_int_equal(policy_load(&p, big), RV_EINVALID);
	want = xasprintf("%s: the policy is empty", big);
	assert_string_equal(error_msg(), want);
	free(want);

	unlink(file);
	unlink(big);
	rmdir(dir);
	free(file);
	free(big);
	free(missing);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_full),
		cmocka_unit_test(test_bom_crlf),
		cmocka_unit_test(test_minimal),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_accepted),
		cmocka_unit_test(test_tag_text_verbatim),
		cmocka_unit_test(test_exclude_only),
		cmocka_unit_test(test_relative_paths),
		cmocka_unit_test(test_max_delete_forms),
		cmocka_unit_test(test_max_delete_arithmetic),
		cmocka_unit_test(test_size_limit),
		cmocka_unit_test(test_load),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
