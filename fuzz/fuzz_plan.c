/*
 * fuzz_plan.c — libFuzzer target for prune_plan_parse (`prune --apply`).
 *
 * Beyond "no crash, no leak, no hang": an accepted plan has only valid
 * names, a summary that agrees with its images, and writes back to a
 * document that reads back to the same plan, byte for byte on the second
 * write; a refusal is RV_EINVALID, leaves the plan zeroed and says one
 * line naming the file.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "oci/digest.h"
#include "oci/reference.h"
#include "prune/prune.h"
#include "util/error.h"
#include "util/banned.h"

#define ORIGIN "/fuzz/plan.json"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_image(const struct prune_image *im)
{
	if (!oci_ref_repository_valid(im->repository) || oci_digest_validate(im->digest) != 0)
		abort();
	for (size_t i = 0; i < im->n_tags; i++)
		if (!oci_ref_tag_valid(im->tags[i]) || (i && strcmp(im->tags[i - 1], im->tags[i]) >= 0))
			abort();
	if (!im->media_type || !im->media_type[0] || im->size < 0 || im->created < 0)
		abort();
	if (im->decision != PRUNE_KEEP && im->decision != PRUNE_DELETE)
		abort();
	if (im->decision == PRUNE_DELETE && im->keep == PRUNE_PROTECTED)
		abort();
}

static void check_plan(const struct prune_plan *p)
{
	size_t in_scope = 0, del = 0;

	if (!p->registry || !p->registry[0] || p->planned_at < 0)
		abort();
	for (size_t i = 0; i < p->n_images; i++) {
		check_image(&p->images[i]);
		in_scope += p->images[i].top != 0;
		del += p->images[i].top && p->images[i].decision == PRUNE_DELETE;
	}
	if (in_scope != p->in_scope || del != p->deleted || p->max_delete > p->in_scope)
		abort();
	if (p->deleted > p->max_delete && !p->refused)
		abort();
	if (!p->refused != !p->refusal)
		abort();
}

static void release(struct prune_plan *p)
{
	free(p->policy);   /* whoever frees it, once */
	p->policy = NULL;
	prune_plan_release(p);
}

/* Written and read again: the same plan, and then the same bytes. */
static void check_round_trip(const struct prune_plan *p)
{
	struct prune_plan back;
	char *a = prune_plan_json(p), *b;

	if (prune_plan_parse(&back, a, strlen(a), ORIGIN) != 0)
		abort();
	b = prune_plan_json(&back);
	if (strcmp(a, b) != 0 || back.n_images != p->n_images || back.planned_at != p->planned_at ||
	    back.reclaimable != p->reclaimable)
		abort();
	for (size_t i = 0; i < p->n_images; i++)
		if (back.images[i].created != p->images[i].created ||
		    back.images[i].keep != p->images[i].keep)
			abort();
	free(a);
	free(b);
	release(&back);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct prune_plan p;

	if (prune_plan_parse(&p, (const char *)data, size, ORIGIN) == 0) {
		check_plan(&p);
		check_round_trip(&p);
		release(&p);
		return 0;
	}
	if (p.images || p.registry || p.policy || p.refusal || p.n_images ||
	    error_code() != RV_EINVALID || strchr(error_msg(), '\n') ||
	    strncmp(error_msg(), ORIGIN ": ", strlen(ORIGIN) + 2) != 0)
		abort();
	return 0;
}
