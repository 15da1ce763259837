/* fixture.c — see fixture.h. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "tests/deployed/fixture.h"
#include "oci/reference.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/xalloc.h"
#include "util/banned.h"

char *fx_data_path(const char *name)
{
	return fs_path_join(RV_DEPLOYED_DATA, name);
}

void fx_read(struct buf *out, const char *name)
{
	char *p = fx_data_path(name);

	if (fs_read_file(out, p, 0))
		fail_msg("%s", error_msg());
	free(p);
}

int fx_parse_kubernetes(struct deployed_set *out, const char *name, int rollback)
{
	struct buf b = BUF_INIT;
	int rc;

	fx_read(&b, name);
	rc = deployed_parse_kubernetes(out, buf_cstr(&b), b.len, name, rollback);
	buf_release(&b);
	return rc;
}

static int matches(const struct deployed_ref *r, const char *where, const char *canonical)
{
	char *s = oci_ref_string(&r->ref);
	int m = (!where || !strcmp(r->where, where)) && !strcmp(s, canonical);

	free(s);
	return m;
}

const struct deployed_ref *fx_find(const struct deployed_set *s, const char *where,
                                   const char *canonical)
{
	for (size_t i = 0; i < s->n; i++)
		if (matches(&s->refs[i], where, canonical))
			return &s->refs[i];
	return NULL;
}

void fx_expect(const struct deployed_set *s, const char *where, const char *canonical,
               enum deployed_why why)
{
	size_t n = 0;

	for (size_t i = 0; i < s->n; i++)
		if (matches(&s->refs[i], where, canonical)) {
			if (s->refs[i].why != why)
				fail_msg("%s / %s: why %d, expected %d", where, canonical,
				         (int)s->refs[i].why, (int)why);
			n++;
		}
	if (n != 1)
		fail_msg("%s / %s: found %zu times, expected once", where, canonical, n);
}

size_t fx_count_why(const struct deployed_set *s, enum deployed_why why)
{
	size_t n = 0;

	for (size_t i = 0; i < s->n; i++)
		n += s->refs[i].why == why;
	return n;
}

size_t fx_count_ref(const struct deployed_set *s, const char *canonical)
{
	size_t n = 0;

	for (size_t i = 0; i < s->n; i++)
		n += matches(&s->refs[i], NULL, canonical);
	return n;
}
