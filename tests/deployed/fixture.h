/*
 * fixture.h — what the deployed/ tests share: the JSON and text fixtures in
 * tests/deployed/data/, and looking entries up in a deployed_set.
 */
#ifndef RV_TESTS_DEPLOYED_FIXTURE_H
#define RV_TESTS_DEPLOYED_FIXTURE_H

#include <stddef.h>
#include "deployed/deployed.h"
#include "util/buf.h"

/* data/<name>; caller frees. */
char *fx_data_path(const char *name);
/* The fixture's bytes, or a failed cmocka assertion. */
void fx_read(struct buf *out, const char *name);
/* Parses data/<name> with origin <name>; returns the code. */
int fx_parse_kubernetes(struct deployed_set *out, const char *name, int rollback);

/* The entry with this where and canonical reference, NULL when none. */
const struct deployed_ref *fx_find(const struct deployed_set *s, const char *where,
                                   const char *canonical);
/* Asserts exactly one entry with where/canonical, of that why. */
void fx_expect(const struct deployed_set *s, const char *where, const char *canonical,
               enum deployed_why why);
/* How many entries have this why. */
size_t fx_count_why(const struct deployed_set *s, enum deployed_why why);
/* How many entries' canonical reference is `canonical`. */
size_t fx_count_ref(const struct deployed_set *s, const char *canonical);

#endif
