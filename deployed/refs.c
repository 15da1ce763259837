/*
 * refs.c — refs files: one image reference per line.
 *
 *   # deployed outside Kubernetes (ECS, Nomad, VMs)
 *   reg.example.com/billing/api:4.2.1
 *   reg.example.com/billing/worker@sha256:…   # pinned
 *
 * Anything that does not parse is an error naming FILE:LINE: a line we
 * skipped would be an image left unprotected.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "deployed/deployed.h"
#include "deployed/internal.h"
#include "util/error.h"
#include "util/str.h"
#include "util/xalloc.h"
#include "util/banned.h"

/* Cuts a comment: '#' at the start or after whitespace. "app:1#x" keeps
 * its '#' and then fails as a reference, which is what it is. */
static void cut_comment(char *line)
{
	for (char *p = line; *p; p++)
		if (*p == '#' && (p == line || isspace((unsigned char)p[-1]))) {
			*p = '\0';
			return;
		}
}

static int refs_line(struct deployed_set *out, char *line, const char *origin, size_t lineno)
{
	char q[256];
	char *ref;

	cut_comment(line);
	ref = str_trim(line);
	if (!*ref)
		return 0;
	if (deployed_is_image_id(ref))
		return error_set(RV_EINVALID,
		                 "%s:%zu: \"%s\" is an image ID, not a registry reference: "
		                 "write REPOSITORY@DIGEST", origin, lineno,
		                 str_printable(q, sizeof(q), ref));
	if (deployed_set_add(out, ref, DEPLOYED_LISTED, xasprintf("%s:%zu", origin, lineno)))
		return error_wrap(RV_EINVALID, "%s:%zu", origin, lineno);
	return 0;
}

int deployed_parse_refs(struct deployed_set *out, const char *text, size_t len,
                        const char *origin)
{
	size_t start = out->n, lineno = 0, off = 0;

	if (len >= 3 && !memcmp(text, "\xef\xbb\xbf", 3))
		off = 3; /* a UTF-8 byte-order mark, as some editors write */
	while (off < len) {
		const char *nl = memchr(text + off, '\n', len - off);
		size_t n = nl ? (size_t)(nl - (text + off)) : len - off;
		char *line;
		int rc;

		lineno++;
		if (memchr(text + off, '\0', n)) {
			rc = error_set(RV_EINVALID, "%s:%zu: NUL byte in a text file", origin, lineno);
		} else {
			line = xstrndup(text + off, n);
			rc = refs_line(out, line, origin, lineno);
			free(line);
		}
		if (rc) {
			deployed_set_truncate(out, start);
			return rc;
		}
		off += n + 1;
	}
	if (out->n == start)
		return deployed_no_images(origin);
	return 0;
}
