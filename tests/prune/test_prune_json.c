/* Unit tests for prune/json.c: the plan document written for --plan-out
 * and read back for --apply. A plan written and read back is equal to
 * itself; every way a saved plan can be wrong is refused with RV_EINVALID
 * and one line naming the file and the JSON path. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <jansson.h>

#include "prune/prune.h"
#include "util/error.h"
#include "util/xalloc.h"
#include "util/banned.h"

#define D(c) "sha256:" c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c \
	c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c

static char **strv(size_t *n, const char *a, const char *b)
{
	char **v = xcalloc(3, sizeof(*v));

	*n = 0;
	if (a)
		v[(*n)++] = xstrdup(a);
	if (b)
		v[(*n)++] = xstrdup(b);
	return v;
}

static void set_image(struct prune_image *im, const char *repo, const char *digest,
                      const char *t1, const char *t2, int64_t created, int64_t size,
                      enum prune_decision d, enum prune_keep k, int top, const char *why)
{
	im->repository = xstrdup(repo);
	snprintf(im->digest, sizeof(im->digest), "%s", digest);
	im->tags = strv(&im->n_tags, t1, t2);
	im->media_type = xstrdup("application/vnd.oci.image.manifest.v1+json");
	im->created = created;
	im->size = size;
	im->decision = d;
	im->keep = k;
	im->top = top;
	im->reasons = strv(&im->n_reasons, why, top && d == PRUNE_KEEP ? "rule 1: tags latest" : NULL);
}

/* Four top-level images (one protected, one kept, two deleted) and a
 * child; created unknown on the child. */
static void sample(struct prune_plan *p)
{
	memset(p, 0, sizeof(*p));
	p->registry = xstrdup("reg.example.com:5000");
	p->policy = xstrdup("/etc/regvault/policy.yaml");
	p->planned_at = 1767323045;   /* 2026-01-02T03:04:05Z */
	p->n_images = 5;
	p->images = xcalloc(p->n_images, sizeof(*p->images));
	set_image(&p->images[0], "team/api", D("a"), "latest", "v1.4.2", 1700000000, 123456,
	          PRUNE_KEEP, PRUNE_PROTECTED, 1, "deployed: pod api/user-svc-7d8f9c container app");
	set_image(&p->images[1], "team/api", D("b"), "v1.3", NULL, 1600000000, 999,
	          PRUNE_KEEP, PRUNE_BY_RULE, 1, "rule 3: newest 10");
	set_image(&p->images[2], "team/api", D("c"), "old", NULL, 1500000000, 4096,
	          PRUNE_DELETE, PRUNE_BY_RULE, 1, "no keep rule matches");
	set_image(&p->images[3], "team/api", D("d"), NULL, NULL, 0, 77,
	          PRUNE_KEEP, PRUNE_PROTECTED, 0, "child of kept team/api@" D("a"));
	set_image(&p->images[4], "team/web", D("e"), NULL, NULL, 1400000000, 5000,
	          PRUNE_DELETE, PRUNE_BY_RULE, 1, "untagged (untagged: delete)");
	p->in_scope = 4;
	p->protected_ = 1;
	p->kept = 1;
	p->deleted = 2;
	p->max_delete = 2;
	p->reclaimable = 9096;
}

static void release(struct prune_plan *p)
{
	for (size_t i = 0; i < p->n_images; i++) {
		struct prune_image *im = &p->images[i];
		for (size_t k = 0; k < im->n_tags; k++)
			free(im->tags[k]);
		for (size_t k = 0; k < im->n_reasons; k++)
			free(im->reasons[k]);
		free(im->tags);
		free(im->reasons);
		free(im->repository);
		free(im->media_type);
	}
	free(p->images);
	free(p->registry);
	free(p->policy);
	free(p->refusal);
	memset(p, 0, sizeof(*p));
}

static void assert_str_or_null_equal(const char *a, const char *b)
{
	if (!a || !b)
		assert_ptr_equal(a, b);
	else
		assert_string_equal(a, b);
}

static void assert_strv_equal(char **a, size_t na, char **b, size_t nb)
{
	assert_int_equal(na, nb);
	for (size_t i = 0; i < na; i++)
		assert_string_equal(a[i], b[i]);
}

static void assert_plan_equal(const struct prune_plan *a, const struct prune_plan *b)
{
	assert_string_equal(a->registry, b->registry);
	assert_str_or_null_equal(a->policy, b->policy);
	assert_int_equal(a->planned_at, b->planned_at);
	assert_int_equal(a->n_images, b->n_images);
	for (size_t i = 0; i < a->n_images; i++) {
		const struct prune_image *x = &a->images[i], *y = &b->images[i];
		assert_string_equal(x->repository, y->repository);
		assert_string_equal(x->digest, y->digest);
		assert_strv_equal(x->tags, x->n_tags, y->tags, y->n_tags);
		assert_string_equal(x->media_type, y->media_type);
		assert_int_equal(x->created, y->created);
		assert_int_equal(x->size, y->size);
		assert_int_equal(x->decision, y->decision);
		assert_int_equal(x->keep, y->keep);
		assert_int_equal(x->top, y->top);
		assert_strv_equal(x->reasons, x->n_reasons, y->reasons, y->n_reasons);
	}
	assert_int_equal(a->in_scope, b->in_scope);
	assert_int_equal(a->protected_, b->protected_);
	assert_int_equal(a->kept, b->kept);
	assert_int_equal(a->deleted, b->deleted);
	assert_int_equal(a->max_delete, b->max_delete);
	assert_int_equal(a->reclaimable, b->reclaimable);
	assert_int_equal(a->refused, b->refused);
	assert_str_or_null_equal(a->refusal, b->refusal);
}

/* json(p) parses back to p, and writing that gives the same bytes. */
static void round_trip(const struct prune_plan *p)
{
	struct prune_plan back;
	char *text = prune_plan_json(p), *again;

	assert_non_null(text);
	if (prune_plan_parse(&back, text, strlen(text), "plan.json") != 0)
		fail_msg("%s\n%s", error_msg(), text);
	assert_plan_equal(p, &back);
	again = prune_plan_json(&back);
	assert_string_equal(text, again);
	release(&back);
	free(again);
	free(text);
}

static void test_round_trip(void **state)
{
	struct prune_plan p;

	(void)state;
	sample(&p);
	round_trip(&p);
	free(p.policy);
	p.policy = NULL;   /* "policy" is optional */
	round_trip(&p);
	release(&p);
}

static void test_round_trip_refused(void **state)
{
	struct prune_plan p;

	(void)state;
	sample(&p);
	p.max_delete = 1;
	p.refused = 1;
	p.refusal = xstrdup("the plan deletes 2 of 4 images in scope; max_delete allows 1 (1 too many)");
	round_trip(&p);
	release(&p);
}

static void test_round_trip_empty(void **state)
{
	struct prune_plan p = { 0 };

	(void)state;
	p.registry = xstrdup("127.0.0.1:5000");
	p.planned_at = 1;
	round_trip(&p);
	release(&p);
}

/* The shape of ARCHITECTURE.md "The plan", field by field. */
static void test_document_shape(void **state)
{
	struct prune_plan p;
	json_t *doc, *im;
	char *text;

	(void)state;
	sample(&p);
	text = prune_plan_json(&p);
	assert_int_equal(text[strlen(text) - 1], '\n');
	doc = json_loads(text, 0, NULL);
	assert_non_null(doc);
	assert_string_equal(json_string_value(json_object_get(doc, "registry")), "reg.example.com:5000");
	assert_string_equal(json_string_value(json_object_get(doc, "plannedAt")), "2026-01-02T03:04:05Z");
	assert_string_equal(json_string_value(json_object_get(doc, "policy")), "/etc/regvault/policy.yaml");
	im = json_array_get(json_object_get(doc, "images"), 0);
	assert_string_equal(json_string_value(json_object_get(im, "created")), "2023-11-14T22:13:20Z");
	assert_string_equal(json_string_value(json_object_get(im, "decision")), "keep");
	assert_true(json_is_true(json_object_get(im, "protected")));
	assert_true(json_is_true(json_object_get(im, "topLevel")));
	assert_int_equal(json_integer_value(json_object_get(im, "size")), 123456);
	assert_int_equal(json_array_size(json_object_get(im, "tags")), 2);
	im = json_array_get(json_object_get(doc, "images"), 2);
	assert_string_equal(json_string_value(json_object_get(im, "decision")), "delete");
	assert_true(json_is_false(json_object_get(im, "protected")));
	im = json_array_get(json_object_get(doc, "images"), 3);
	assert_true(json_is_null(json_object_get(im, "created")));
	assert_true(json_is_false(json_object_get(im, "topLevel")));
	assert_int_equal(json_array_size(json_object_get(im, "tags")), 0);
	im = json_object_get(doc, "summary");
	assert_int_equal(json_integer_value(json_object_get(im, "inScope")), 4);
	assert_int_equal(json_integer_value(json_object_get(im, "delete")), 2);
	assert_int_equal(json_integer_value(json_object_get(im, "reclaimable")), 9096);
	assert_true(json_is_false(json_object_get(im, "refused")));
	assert_true(json_is_null(json_object_get(im, "refusal")));
	json_decref(doc);
	free(text);
	release(&p);
}

/* A reason that is not UTF-8 still gives a document ('?' for the bytes). */
static void test_not_utf8(void **state)
{
	struct prune_plan p, back;
	char *text;

	(void)state;
	sample(&p);
	free(p.images[0].reasons[0]);
	p.images[0].reasons[0] = xstrdup("deployed: pod api/\xff\xfe");
	text = prune_plan_json(&p);
	assert_int_equal(prune_plan_parse(&back, text, strlen(text), "plan.json"), 0);
	assert_string_equal(back.images[0].reasons[0], "deployed: pod api/??");
	release(&back);
	free(text);
	release(&p);
}

/* Offsets and fractions are read as the instant they name. */
static void test_time_forms(void **state)
{
	struct prune_plan p, back;
	json_t *doc;
	char *text, *edited;

	(void)state;
	sample(&p);
	text = prune_plan_json(&p);
	doc = json_loads(text, 0, NULL);
	json_object_set_new(doc, "plannedAt", json_string("2026-01-02T04:04:05.25+01:00"));
	edited = json_dumps(doc, 0);
	assert_int_equal(prune_plan_parse(&back, edited, strlen(edited), "plan.json"), 0);
	assert_int_equal(back.planned_at, p.planned_at);
	release(&back);
	free(edited);
	json_decref(doc);
	free(text);
	release(&p);
}

/* --- Refusals --------------------------------------------------------------- */

/* One edit of the sample document: the value at path ("images.2.digest";
 * numbers index arrays) becomes `value` (JSON text), or is removed when
 * value is NULL. */
struct edit {
	const char *path;
	const char *value;
	const char *message;   /* what follows "plan.json: " */
};

static json_t *walk(json_t *doc, char *path, char **last)
{
	char *part = path, *dot;
	json_t *at = doc;

	while ((dot = strchr(part, '.'))) {
		*dot = '\0';
		at = json_is_array(at) ? json_array_get(at, strtoul(part, NULL, 10))
		                       : json_object_get(at, part);
		assert_non_null(at);
		part = dot + 1;
	}
	*last = part;
	return at;
}

static char *edited(const struct edit *e)
{
	struct prune_plan p;
	char *text, *path = xstrdup(e->path), *last, *out;
	json_t *doc, *parent, *v = NULL;

	sample(&p);
	text = prune_plan_json(&p);
	release(&p);
	doc = json_loads(text, 0, NULL);
	free(text);
	parent = walk(doc, path, &last);
	if (e->value) {
		v = json_loads(e->value, JSON_DECODE_ANY, NULL);
		assert_non_null(v);
	}
	if (json_is_array(parent) && v)
		json_array_set_new(parent, strtoul(last, NULL, 10), v);
	else if (json_is_array(parent))
		json_array_remove(parent, strtoul(last, NULL, 10));
	else if (v)
		json_object_set_new(parent, last, v);
	else
		json_object_del(parent, last);
	out = json_dumps(doc, JSON_INDENT(2));
	json_decref(doc);
	free(path);
	return out;
}

static void expect_refused(const char *text, size_t len, const char *message)
{
	struct prune_plan out;
	char want[512];
	int rc;

	memset(&out, 0xa5, sizeof(out));   /* must come back zeroed */
	rc = prune_plan_parse(&out, text, len, "plan.json");
	snprintf(want, sizeof(want), "plan.json: %s", message);
	if (rc != RV_EINVALID || strcmp(error_msg(), want) != 0)
		fail_msg("rc %d, message\n  %s\nwanted\n  %s\nfor\n%s", rc, error_msg(), want, text);
	assert_int_equal(error_code(), RV_EINVALID);
	assert_null(out.images);
	assert_null(out.registry);
	assert_null(out.policy);
	assert_null(out.refusal);
	assert_int_equal(out.n_images, 0);
}

static const struct edit edits[] = {
	/* The document */
	{ "extra", "1", "extra: unknown key" },
	{ "registry", NULL, "registry: missing" },
	{ "plannedAt", NULL, "plannedAt: missing" },
	{ "images", NULL, "images: missing" },
	{ "summary", NULL, "summary: missing" },
	{ "registry", "5", "registry: expected a string" },
	{ "registry", "\"\"", "registry: empty" },
	{ "registry", "\"reg.example.com/team\"",
	  "registry: invalid registry \"reg.example.com/team\": expected HOST[:PORT]" },
	{ "registry", "\"not a host\"", "registry: invalid registry \"not a host\": expected HOST[:PORT]" },
	{ "plannedAt", "null", "plannedAt: expected a string" },
	{ "plannedAt", "\"yesterday\"",
	  "plannedAt: invalid time \"yesterday\": expected RFC 3339 (2026-01-02T03:04:05Z)" },
	{ "policy", "null", "policy: expected a string" },
	{ "policy", "\"\"", "policy: empty" },
	{ "images", "{}", "images: expected an array" },
	/* An image */
	{ "images.1", "[]", "images[1]: expected an object" },
	{ "images.1.foo", "true", "images[1].foo: unknown key" },
	{ "images.1.repository", NULL, "images[1].repository: missing" },
	{ "images.1.digest", NULL, "images[1].digest: missing" },
	{ "images.1.tags", NULL, "images[1].tags: missing" },
	{ "images.1.mediaType", NULL, "images[1].mediaType: missing" },
	{ "images.1.created", NULL, "images[1].created: missing" },
	{ "images.1.size", NULL, "images[1].size: missing" },
	{ "images.1.decision", NULL, "images[1].decision: missing" },
	{ "images.1.protected", NULL, "images[1].protected: missing" },
	{ "images.1.topLevel", NULL, "images[1].topLevel: missing" },
	{ "images.1.reasons", NULL, "images[1].reasons: missing" },
	{ "images.3.digest", "\"sha256:xyz\"", "images[3].digest: invalid digest \"sha256:xyz\"" },
	{ "images.3.digest", "\"sha256:" "DDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDD\"",
	  "images[3].digest: invalid digest \"sha256:"
	  "DDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDD\": hex must be lowercase" },
	{ "images.3.digest", "\"md5:d41d8cd98f00b204e9800998ecf8427e\"",
	  "images[3].digest: unsupported digest algorithm \"md5\" in \"md5:d41d8cd98f00b204e9800998ecf8427e\"" },
	{ "images.3.digest", "\"\"", "images[3].digest: empty" },
	{ "images.0.repository", "\"Team/API\"", "images[0].repository: invalid repository \"Team/API\"" },
	{ "images.0.repository", "\"reg.example.com:5000/team/api\"",
	  "images[0].repository: invalid repository \"reg.example.com:5000/team/api\"" },
	{ "images.0.tags", "\"latest\"", "images[0].tags: expected an array" },
	{ "images.0.tags", "[\"latest\", 1]", "images[0].tags[1]: expected a string" },
	{ "images.0.tags", "[\"latest\", \"\"]", "images[0].tags[1]: empty" },
	{ "images.0.tags", "[\"bad tag\"]", "images[0].tags[0]: invalid tag \"bad tag\"" },
	{ "images.0.tags", "[\"v1\", \"latest\"]",
	  "images[0].tags[1]: \"latest\" out of order: tags are sorted" },
	{ "images.0.tags", "[\"v1\", \"v1\"]", "images[0].tags[1]: \"v1\" listed twice" },
	{ "images.0.mediaType", "\"\"", "images[0].mediaType: empty" },
	{ "images.0.created", "1700000000", "images[0].created: expected a string or null" },
	{ "images.0.created", "\"2023-02-30T00:00:00Z\"",
	  "images[0].created: invalid time \"2023-02-30T00:00:00Z\": expected RFC 3339 (2026-01-02T03:04:05Z)" },
	{ "images.0.created", "\"1969-12-31T23:59:59Z\"",
	  "images[0].created: invalid time \"1969-12-31T23:59:59Z\": expected RFC 3339 (2026-01-02T03:04:05Z)" },
	{ "images.0.size", "-1", "images[0].size: negative" },
	{ "images.0.size", "1.5", "images[0].size: expected an integer" },
	{ "images.0.size", "\"5\"", "images[0].size: expected an integer" },
	{ "images.2.decision", "\"maybe\"",
	  "images[2].decision: unknown decision \"maybe\": expected keep or delete" },
	{ "images.2.decision", "\"DELETE\"",
	  "images[2].decision: unknown decision \"DELETE\": expected keep or delete" },
	{ "images.2.decision", "true", "images[2].decision: expected a string" },
	{ "images.2.protected", "true", "images[2].protected: a protected image cannot be deleted" },
	{ "images.2.protected", "\"no\"", "images[2].protected: expected true or false" },
	{ "images.2.topLevel", "1", "images[2].topLevel: expected true or false" },
	{ "images.2.reasons", "\"none\"", "images[2].reasons: expected an array" },
	{ "images.2.reasons", "[null]", "images[2].reasons[0]: expected a string" },
	{ "images.4.digest", "\"" D("c") "\"",
	  NULL /* filled in below: a second team/web entry is fine */ },
	{ "images.3.digest", "\"" D("a") "\"",
	  "images[3]: \"team/api@" D("a") "\" is listed twice" },
	/* The summary */
	{ "summary.what", "0", "summary.what: unknown key" },
	{ "summary.inScope", NULL, "summary.inScope: missing" },
	{ "summary.protected", NULL, "summary.protected: missing" },
	{ "summary.kept", NULL, "summary.kept: missing" },
	{ "summary.delete", NULL, "summary.delete: missing" },
	{ "summary.maxDelete", NULL, "summary.maxDelete: missing" },
	{ "summary.reclaimable", NULL, "summary.reclaimable: missing" },
	{ "summary.refused", NULL, "summary.refused: missing" },
	{ "summary.refusal", NULL, "summary.refusal: missing" },
	{ "summary.reclaimable", "-5", "summary.reclaimable: negative" },
	{ "summary.inScope", "5", "summary.inScope: 5, but the images hold 4 top-level images" },
	{ "summary.protected", "2",
	  "summary.protected: 2, but the images hold 1 protected top-level images" },
	{ "summary.kept", "0", "summary.kept: 0, but the images hold 1 kept top-level images" },
	{ "summary.delete", "1", "summary.delete: 1, but the images hold 2 top-level images to delete" },
	{ "summary.maxDelete", "5", "summary.maxDelete: 5, more than inScope (4)" },
	{ "summary.maxDelete", "1", "summary.refused: false, but the plan deletes 2 and maxDelete is 1" },
	{ "summary.refused", "true", "summary.refusal: null, but the plan is refused: say why" },
	{ "summary.refused", "\"false\"", "summary.refused: expected true or false" },
	{ "summary.refusal", "\"too many\"", "summary.refusal: set, but the plan is not refused" },
	{ "summary.refusal", "5", "summary.refusal: expected a string or null" },
};

static void test_refusals(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(edits) / sizeof(edits[0]); i++) {
		char *text = edited(&edits[i]);
		if (edits[i].message) {
			expect_refused(text, strlen(text), edits[i].message);
		} else {   /* the same digest in another repository is another image */
			struct prune_plan p;
			assert_int_equal(prune_plan_parse(&p, text, strlen(text), "plan.json"), 0);
			release(&p);
		}
		free(text);
	}
}

/* A flipped decision changes the counts: the summary must follow. */
static void test_flipped_decision(void **state)
{
	struct edit e = { "images.1.decision", "\"delete\"", NULL };
	char *text;

	(void)state;
	text = edited(&e);   /* images[1] is kept by a rule, not protected: the counts catch it */
	expect_refused(text, strlen(text),
	               "summary.kept: 1, but the images hold 0 kept top-level images");
	free(text);
}

static void test_not_a_plan(void **state)
{
	static const char dup[] = "{\"registry\": \"a.io\", \"registry\": \"b.io\"}";

	(void)state;
	expect_refused("", 0, "invalid JSON at line 1 column 0: '[' or '{' expected near end of file");
	expect_refused("{", 1, "invalid JSON at line 1 column 1: string or '}' expected near end of file");
	expect_refused("[]", 2, "expected a plan document (a JSON object), got an array");
	expect_refused("\"plan\"", 6, "invalid JSON at line 1 column 6: '[' or '{' expected near '\"plan\"'");
	expect_refused(dup, strlen(dup),
	               "invalid JSON at line 1 column 31: duplicate object key near '\"registry\"'");
	/* Bytes after the document. */
	expect_refused("{} {}", 5, "invalid JSON at line 1 column 4: end of file expected near '{'");
	/* Only len bytes are read: the first byte alone is not a document. */
	expect_refused("{}", 1, "invalid JSON at line 1 column 1: string or '}' expected near end of file");
}

/* The origin names the file in every message, even without a path. */
static void test_origin(void **state)
{
	struct prune_plan p;

	(void)state;
	assert_int_equal(prune_plan_parse(&p, "{}", 2, "/srv/plans/monday.json"), RV_EINVALID);
	assert_string_equal(error_msg(), "/srv/plans/monday.json: registry: missing");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_round_trip_refused),
		cmocka_unit_test(test_round_trip_empty),
		cmocka_unit_test(test_document_shape),
		cmocka_unit_test(test_not_utf8),
		cmocka_unit_test(test_time_forms),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_flipped_decision),
		cmocka_unit_test(test_not_a_plan),
		cmocka_unit_test(test_origin),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
