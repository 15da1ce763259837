/*
 * fuzz_policy.c — libFuzzer target for policy_parse.
 *
 * Beyond "no crash, no leak, no hang" on any bytes (libyaml included), it
 * checks what prune relies on: an accepted policy has every required part
 * and only values inside their ranges, and a refusal leaves *out NULL and
 * one line naming the file.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "policy/policy.h"
#include "util/error.h"
#include "util/banned.h"

#define PATH "/fuzz/policy.yaml"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_strv(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!v[i] || !v[i][0])
			abort();
}

static void check_sources(const struct policy *p)
{
	if (p->deployed_none == (p->n_deployed > 0))
		abort();
	for (size_t i = 0; i < p->n_deployed; i++) {
		const struct deployed_source *s = &p->deployed[i];

		if (s->kind == DEPLOYED_KUBECTL) {
			if (s->arg && !s->arg[0])
				abort();
		} else if (s->kind != DEPLOYED_KUBERNETES_JSON && s->kind != DEPLOYED_REFS_FILE) {
			abort();
		} else if (!s->arg || s->arg[0] != '/') {
			abort();
		}
	}
}

static void check_rules(const struct policy *p)
{
	if (p->n_keep == 0)
		abort();
	for (size_t i = 0; i < p->n_keep; i++) {
		const struct policy_rule *r = &p->keep[i];

		check_strv(r->tags, r->n_tags);
		check_strv(r->exclude_tags, r->n_exclude_tags);
		if (!r->n_tags && !r->n_exclude_tags && !r->newest && !r->younger_than)
			abort();   /* an empty rule was accepted */
		if (r->n_exclude_tags && !r->n_tags)
			abort();
		if (r->newest < 0 || r->younger_than < 0 || r->line < 1)
			abort();
	}
}

static void check_ok(const struct policy *p)
{
	static const size_t scopes[] = { 0, 1, 9, 10, 99, 100, 12345, SIZE_MAX };

	if (!p->path || strcmp(p->path, PATH) != 0 || !p->registry || !p->registry[0])
		abort();
	if (p->n_repositories == 0)
		abort();
	check_strv(p->repositories, p->n_repositories);
	if (!p->safekeeping_archive && !p->safekeeping_registry)
		abort();
	if (p->safekeeping_archive && p->safekeeping_archive[0] != '/')
		abort();
	check_sources(p);
	if (p->rollback < 0 || p->rollback > 100 || (p->protect_base_images & ~1))
		abort();
	check_strv(p->protect, p->n_protect);
	for (size_t i = 0; i < p->n_protect; i++) {
		const char *colon = strchr(p->protect[i], ':');

		if (!colon || colon == p->protect[i] || !colon[1] || strchr(colon + 1, ':'))
			abort();
	}
	check_rules(p);
	if (p->untagged != POLICY_UNTAGGED_KEEP && p->untagged != POLICY_UNTAGGED_DELETE)
		abort();
	if (p->max_delete < 1 || (p->max_delete_percent && p->max_delete > 100))
		abort();
	for (size_t i = 0; i < sizeof(scopes) / sizeof(scopes[0]); i++)
		if (policy_max_delete(p, scopes[i]) > scopes[i])
			abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct policy *p = (struct policy *)&p;   /* must come back NULL on error */

	if (policy_parse(&p, (const char *)data, size, PATH) == 0) {
		check_ok(p);
		policy_free(p);
		return 0;
	}
	if (p || error_code() != RV_EINVALID || strchr(error_msg(), '\n') ||
	    strncmp(error_msg(), PATH ":", strlen(PATH) + 1) != 0)
		abort();
	return 0;
}
