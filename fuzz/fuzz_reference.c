/*
 * fuzz_reference.c — libFuzzer target for oci_ref_parse.
 *
 * Every flag combination is tried on each input. Beyond "no crash, no
 * leak" it checks what callers rely on: a parsed reference prints to a
 * canonical string that parses back to itself, flags are honoured, and a
 * refusal leaves a one-line message and the output untouched.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "oci/reference.h"
#include "util/error.h"
#include "util/xalloc.h"
#include "util/banned.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_ok(const struct oci_ref *r, unsigned flags)
{
	struct oci_ref again = OCI_REF_INIT;
	char *s, *s2;

	if (!r->registry || (!r->repository && !(flags & OCI_REF_HOST_OK)))
		abort();
	if ((flags & OCI_REF_NO_TAG) && (r->tag || r->digest))
		abort();
	if (r->repository && !(flags & OCI_REF_GLOB_OK) && !oci_ref_repository_valid(r->repository))
		abort();
	if (r->tag && !oci_ref_tag_valid(r->tag))
		abort();
	s = oci_ref_string(r);
	if (oci_ref_parse(&again, s, flags) != 0)
		abort();
	s2 = oci_ref_string(&again);
	if (strcmp(s, s2) != 0)
		abort();
	free(s);
	free(s2);
	oci_ref_release(&again);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = xstrndup((const char *)data, size);

	for (unsigned flags = 0; flags < 16; flags++) {
		struct oci_ref r = OCI_REF_INIT;

		if (oci_ref_parse(&r, s, flags) == 0) {
			check_ok(&r, flags);
			oci_ref_release(&r);
		} else if (r.registry || strchr(error_msg(), '\n')) {
			abort();
		}
	}
	(void)oci_ref_is_attachment_tag(s);
	free(s);
	return 0;
}
