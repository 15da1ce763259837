/*
 * fuzz_kubernetes.c — libFuzzer target for deployed_parse_kubernetes and
 * deployed_parse_refs.
 *
 * Each input is read as kubectl JSON (with rollback 0 and 2) and as a refs
 * file. Beyond "no crash, no leak" it checks what callers rely on: success
 * means at least one entry, each fully filled in and normalised (a tag or
 * a digest, the canonical string parses back); failure leaves the set as it
 * was and a one-line message; more rollback never keeps less.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "deployed/deployed.h"
#include "oci/reference.h"
#include "util/error.h"
#include "util/str.h"
#include "util/xalloc.h"
#include "util/banned.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_ref(const struct deployed_ref *r)
{
	struct oci_ref again = OCI_REF_INIT;
	char *s;

	if (!r->text || !r->where || !*r->where || !r->ref.registry || !r->ref.repository)
		abort();
	if (!r->ref.tag && !r->ref.digest)
		abort();
	if (r->why < DEPLOYED_RUNNING || r->why > DEPLOYED_LISTED)
		abort();
	for (const char *p = r->where; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			abort();
	s = oci_ref_string(&r->ref);
	if (oci_ref_parse(&again, s, 0) != 0)
		abort();
	free(s);
	oci_ref_release(&again);
}

/* Runs one parser and checks the contract; returns the entries added
 * (-1 on failure). The set starts with one entry that must survive. */
static long check(int rc, struct deployed_set *s)
{
	long n = (long)s->n - 1;

	if (s->n < 1 || strcmp(s->refs[0].where, "seed:1"))
		abort();
	if (rc) {
		if (n != 0 || !*error_msg() || strchr(error_msg(), '\n'))
			abort();
		return -1;
	}
	if (n < 1)
		abort();
	for (size_t i = 0; i < s->n; i++)
		check_ref(&s->refs[i]);
	return n;
}

static long run_kubernetes(const uint8_t *data, size_t size, int rollback)
{
	struct deployed_set s = DEPLOYED_SET_INIT;
	long n;

	if (deployed_parse_refs(&s, "seed:1\n", 7, "seed"))
		abort();
	n = check(deployed_parse_kubernetes(&s, (const char *)data, size, "fuzz.json", rollback),
	          &s);
	for (size_t i = 1; i < s.n; i++)
		if (s.refs[i].why == DEPLOYED_LISTED)
			abort();
	deployed_set_release(&s);
	return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	long n0 = run_kubernetes(data, size, 0);
	long n2 = run_kubernetes(data, size, 2);
	struct deployed_set s = DEPLOYED_SET_INIT;

	/* Rollback 2 walks everything rollback 0 walks, and more: it cannot
	 * succeed with fewer entries, nor fail where 0 failed on a bad item. */
	if (n0 > 0 && n2 > 0 && n2 < n0)
		abort();
	if (n0 > 0 && n2 < 0 && !strstr(error_msg(), ": invalid reference ") &&
	    !strstr(error_msg(), ": expected ") && !strstr(error_msg(), ": missing"))
		abort();
	if (deployed_parse_refs(&s, "seed:1\n", 7, "seed"))
		abort();
	check(deployed_parse_refs(&s, (const char *)data, size, "fuzz.txt"), &s);
	for (size_t i = 1; i < s.n; i++)
		if (s.refs[i].why != DEPLOYED_LISTED || !str_has_prefix(s.refs[i].where, "fuzz.txt:"))
			abort();
	deployed_set_release(&s);
	return 0;
}
