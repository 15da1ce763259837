/*
 * json.c — the plan document (ARCHITECTURE.md "The plan"): written for
 * `--plan-out` and `--output json`, read back strictly for `--apply`.
 *
 *   {"registry": "reg.example.com", "plannedAt": "2026-01-02T03:04:05Z",
 *    "policy": "/etc/regvault/policy.yaml",                  (when known)
 *    "images": [{"repository", "digest", "tags": [...], "mediaType",
 *                "created": RFC 3339 | null, "size", "decision": "keep"|"delete",
 *                "protected": bool, "topLevel": bool, "reasons": [...]}],
 *    "summary": {"inScope", "protected", "kept", "delete", "maxDelete",
 *                "reclaimable", "refused": bool, "refusal": string | null}}
 *
 * A saved plan is an instruction to delete, and people edit files: reading
 * one back refuses rather than guesses (invariant 1). Every key is
 * required (but "policy"), none other is allowed, duplicate keys are
 * refused, and each value is checked: names and digests as the registry
 * would, tags sorted and distinct, one entry per repository@digest, no
 * protected image deleted, and a summary that agrees with the images — a
 * plan whose "refused" was flipped to false while it deletes more than
 * maxDelete is refused here. Times have whole seconds (RFC 3339 offsets
 * and fractions are read, then written as UTC). Writing then reading gives
 * back an equal plan.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>

#include "oci/digest.h"
#include "oci/reference.h"
#include "prune/prune.h"
#include "util/error.h"
#include "util/str.h"
#include "util/timeutil.h"
#include "util/banned.h"

/* --- Writing ------------------------------------------------------------------ */

/* Reasons quote what the cluster and registry said; a byte that is not
 * UTF-8 becomes '?' rather than losing the document. */
static json_t *text(const char *s)
{
	json_t *j = json_string(s ? s : "");
	char *copy;

	if (j)
		return j;
	copy = xstrdup(s);
	for (char *c = copy; *c; c++)
		if ((unsigned char)*c >= 0x80)
			*c = '?';
	j = json_string(copy);
	free(copy);
	return j;
}

static json_t *strings(char *const *v, size_t n)
{
	json_t *a = json_array();

	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, text(v[i]));
	return a;
}

static json_t *time_json(int64_t t)
{
	char buf[32];

	return json_string(time_format_rfc3339(t, buf, sizeof(buf)));
}

static json_t *image_json(const struct prune_image *im)
{
	json_t *o = json_object();

	json_object_set_new(o, "repository", text(im->repository));
	json_object_set_new(o, "digest", text(im->digest));
	json_object_set_new(o, "tags", strings(im->tags, im->n_tags));
	json_object_set_new(o, "mediaType", text(im->media_type));
	json_object_set_new(o, "created", im->created ? time_json(im->created) : json_null());
	json_object_set_new(o, "size", json_integer(im->size));
	json_object_set_new(o, "decision",
	                    json_string(im->decision == PRUNE_DELETE ? "delete" : "keep"));
	json_object_set_new(o, "protected", json_boolean(im->decision == PRUNE_KEEP &&
	                                                 im->keep == PRUNE_PROTECTED));
	json_object_set_new(o, "topLevel", json_boolean(im->top));
	json_object_set_new(o, "reasons", strings(im->reasons, im->n_reasons));
	return o;
}

static json_t *summary_json(const struct prune_plan *p)
{
	json_t *o = json_object();

	json_object_set_new(o, "inScope", json_integer((json_int_t)p->in_scope));
	json_object_set_new(o, "protected", json_integer((json_int_t)p->protected_));
	json_object_set_new(o, "kept", json_integer((json_int_t)p->kept));
	json_object_set_new(o, "delete", json_integer((json_int_t)p->deleted));
	json_object_set_new(o, "maxDelete", json_integer((json_int_t)p->max_delete));
	json_object_set_new(o, "reclaimable", json_integer(p->reclaimable));
	json_object_set_new(o, "refused", json_boolean(p->refused));
	json_object_set_new(o, "refusal", p->refused ? text(p->refusal ? p->refusal : "refused")
	                                             : json_null());
	return o;
}

char *prune_plan_json(const struct prune_plan *p)
{
	json_t *doc = json_object(), *images = json_array();
	char *s, *out;

	json_object_set_new(doc, "registry", text(p->registry));
	json_object_set_new(doc, "plannedAt", time_json(p->planned_at));
	if (p->policy)
		json_object_set_new(doc, "policy", text(p->policy));
	for (size_t i = 0; i < p->n_images; i++)
		json_array_append_new(images, image_json(&p->images[i]));
	json_object_set_new(doc, "images", images);
	json_object_set_new(doc, "summary", summary_json(p));
	/* The bytes `regvault -o json` prints (cli/output.c): a plan saved
	 * from stdout and one from --plan-out are the same file. */
	s = json_dumps(doc, JSON_INDENT(2) | JSON_SORT_KEYS);
	json_decref(doc);
	if (!s)
		xdie("out of memory writing a plan");
	out = xasprintf("%s\n", s);
	free(s);
	return out;
}

/* --- Reading ------------------------------------------------------------------- */

struct rd {
	const char *origin;
};

/* "ORIGIN: AT.KEY: what", one line: AT.KEY is the JSON path
 * ("images[3].digest"); either part may be "". */
static int bad(const struct rd *r, const char *at, const char *key, const char *fmt, ...)
	RV_PRINTF(4, 5);

static int bad(const struct rd *r, const char *at, const char *key, const char *fmt, ...)
{
	char what[512], o[256], path[256], a[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	str_printable(o, sizeof(o), r->origin);
	snprintf(path, sizeof(path), "%s%s%s", at, *at && *key ? "." : "", key);
	if (!*path)
		return error_set(RV_EINVALID, "%s: %s", o, str_printable(a, sizeof(a), what));
	return error_set(RV_EINVALID, "%s: %s: %s", o, str_printable(a, sizeof(a), path), what);
}

/* Refuses any key of obj that is not in `known` (NULL-terminated). */
static int only_keys(const struct rd *r, const char *at, json_t *obj, const char *const *known)
{
	const char *key;
	json_t *v;
	char q[128];

	json_object_foreach(obj, key, v) {
		size_t i = 0;
		while (known[i] && strcmp(known[i], key) != 0)
			i++;
		if (!known[i])
			return bad(r, at, str_printable(q, sizeof(q), key), "unknown key");
	}
	return 0;
}

static const char *type_name(json_type t)
{
	switch (t) {
	case JSON_OBJECT: return "an object";
	case JSON_ARRAY: return "an array";
	case JSON_STRING: return "a string";
	case JSON_INTEGER: return "an integer";
	case JSON_TRUE:
	case JSON_FALSE: return "true or false";
	default: return "a value";
	}
}

/* obj[key], which must be there with type `type` (JSON_TRUE: a boolean;
 * null only when `nullable`, *out then NULL). */
static int member(json_t **out, const struct rd *r, const char *at, json_t *obj,
                  const char *key, json_type type, int nullable)
{
	json_t *v = json_object_get(obj, key);
	int ok;

	*out = NULL;
	if (!v)
		return bad(r, at, key, "missing");
	if (json_is_null(v) && nullable)
		return 0;
	ok = type == JSON_TRUE ? json_is_boolean(v) : json_typeof(v) == type;
	if (!ok)
		return bad(r, at, key, "expected %s%s", type_name(type), nullable ? " or null" : "");
	*out = v;
	return 0;
}

static int get_string(const char **out, const struct rd *r, const char *at, json_t *obj,
                      const char *key, int nullable)
{
	json_t *v;
	int rc = member(&v, r, at, obj, key, JSON_STRING, nullable);

	*out = v ? json_string_value(v) : NULL;
	if (rc == 0 && v && !**out)
		return bad(r, at, key, "empty");
	return rc;
}

static int get_bool(int *out, const struct rd *r, const char *at, json_t *obj, const char *key)
{
	json_t *v;
	int rc = member(&v, r, at, obj, key, JSON_TRUE, 0);

	*out = rc == 0 && json_is_true(v);
	return rc;
}

static int get_count(int64_t *out, const struct rd *r, const char *at, json_t *obj,
                     const char *key)
{
	json_t *v;
	int rc = member(&v, r, at, obj, key, JSON_INTEGER, 0);

	if (rc != 0)
		return rc;
	*out = (int64_t)json_integer_value(v);
	if (*out < 0)
		return bad(r, at, key, "negative");
	return 0;
}

/* A time written by prune_plan_json: RFC 3339, from 1970 on. */
static int get_time(int64_t *out, const struct rd *r, const char *at, json_t *obj,
                    const char *key, int nullable)
{
	const char *s;
	char q[64];
	int rc = get_string(&s, r, at, obj, key, nullable);

	*out = 0;
	if (rc != 0 || !s)
		return rc;
	if (time_parse_rfc3339(s, out) != 0 || *out < 0)
		return bad(r, at, key, "invalid time \"%s\": expected RFC 3339 "
		           "(2026-01-02T03:04:05Z)", str_printable(q, sizeof(q), s));
	return 0;
}

/* An array of non-empty strings, copied. */
static int get_strings(char ***out, size_t *n, const struct rd *r, const char *at,
                       json_t *obj, const char *key)
{
	json_t *arr, *v;
	size_t i;
	int rc = member(&arr, r, at, obj, key, JSON_ARRAY, 0);

	if (rc != 0)
		return rc;
	*out = xcalloc(json_array_size(arr) + 1, sizeof(**out));
	json_array_foreach(arr, i, v) {
		char el[64];
		snprintf(el, sizeof(el), "%s[%zu]", key, i);
		if (!json_is_string(v))
			return bad(r, at, el, "expected a string");
		if (!*json_string_value(v))
			return bad(r, at, el, "empty");
		(*out)[(*n)++] = xstrdup(json_string_value(v));
	}
	return 0;
}

/* Deleting by digest deletes every tag on it: the tags must be exactly
 * the registry's, each valid, each once (sorted, as the planner writes). */
static int check_tags(const struct rd *r, const char *at, const struct prune_image *im)
{
	char q[160], el[64];

	for (size_t i = 0; i < im->n_tags; i++) {
		snprintf(el, sizeof(el), "tags[%zu]", i);
		str_printable(q, sizeof(q), im->tags[i]);
		if (!oci_ref_tag_valid(im->tags[i]))
			return bad(r, at, el, "invalid tag \"%s\"", q);
		if (i && strcmp(im->tags[i - 1], im->tags[i]) >= 0)
			return bad(r, at, el, "\"%s\" %s", q, strcmp(im->tags[i - 1], im->tags[i])
			           ? "out of order: tags are sorted" : "listed twice");
	}
	return 0;
}

static int check_names(const struct rd *r, const char *at, const struct prune_image *im,
                       const char *digest)
{
	char q[160];
	char *why;

	if (!oci_ref_repository_valid(im->repository))
		return bad(r, at, "repository", "invalid repository \"%s\"",
		           str_printable(q, sizeof(q), im->repository));
	if (strlen(digest) >= sizeof(im->digest) || oci_digest_validate(digest) != 0) {
		why = xasprintf("%s", strlen(digest) >= sizeof(im->digest) ? "invalid digest"
		                                                             : error_msg());
		bad(r, at, "digest", "%s", why);
		free(why);
		return RV_EINVALID;
	}
	return check_tags(r, at, im);
}

static const char *const image_keys[] = {
	"repository", "digest", "tags", "mediaType", "created", "size", "decision",
	"protected", "topLevel", "reasons", NULL,
};

static int read_image(struct prune_image *im, const struct rd *r, json_t *o, size_t index)
{
	const char *digest, *decision, *repo, *media_type;
	char at[64], q[64];
	int prot, rc;

	snprintf(at, sizeof(at), "images[%zu]", index);
	if (!json_is_object(o))
		return bad(r, at, "", "expected an object");
	if ((rc = only_keys(r, at, o, image_keys)) != 0 ||
	    (rc = get_string(&repo, r, at, o, "repository", 0)) != 0 ||
	    (rc = get_string(&digest, r, at, o, "digest", 0)) != 0 ||
	    (rc = get_strings(&im->tags, &im->n_tags, r, at, o, "tags")) != 0 ||
	    (rc = get_string(&media_type, r, at, o, "mediaType", 0)) != 0 ||
	    (rc = get_time(&im->created, r, at, o, "created", 1)) != 0 ||
	    (rc = get_count(&im->size, r, at, o, "size")) != 0 ||
	    (rc = get_string(&decision, r, at, o, "decision", 0)) != 0 ||
	    (rc = get_bool(&prot, r, at, o, "protected")) != 0 ||
	    (rc = get_bool(&im->top, r, at, o, "topLevel")) != 0 ||
	    (rc = get_strings(&im->reasons, &im->n_reasons, r, at, o, "reasons")) != 0)
		return rc;
	im->repository = xstrdup(repo);
	im->media_type = xstrdup(media_type);
	if ((rc = check_names(r, at, im, digest)) != 0)
		return rc;
	snprintf(im->digest, sizeof(im->digest), "%s", digest);
	if (!strcmp(decision, "keep"))
		im->decision = PRUNE_KEEP;
	else if (!strcmp(decision, "delete"))
		im->decision = PRUNE_DELETE;
	else
		return bad(r, at, "decision", "unknown decision \"%s\": expected keep or delete",
		           str_printable(q, sizeof(q), decision));
	if (prot && im->decision == PRUNE_DELETE)
		return bad(r, at, "protected", "a protected image cannot be deleted");
	im->keep = prot ? PRUNE_PROTECTED : PRUNE_BY_RULE;
	return 0;
}

static int by_name(const void *a, const void *b)
{
	const struct prune_image *x = *(const struct prune_image *const *)a;
	const struct prune_image *y = *(const struct prune_image *const *)b;
	int c = strcmp(x->repository, y->repository);

	return c ? c : strcmp(x->digest, y->digest);
}

/* One entry per repository@digest: two would be two decisions. */
static int check_unique(const struct rd *r, const struct prune_plan *p)
{
	const struct prune_image **v = xcalloc(p->n_images + 1, sizeof(*v));
	char q[256];
	int rc = 0;

	for (size_t i = 0; i < p->n_images; i++)
		v[i] = &p->images[i];
	if (p->n_images > 1)
		qsort(v, p->n_images, sizeof(*v), by_name);
	for (size_t i = 1; rc == 0 && i < p->n_images; i++) {
		if (by_name(&v[i - 1], &v[i]) != 0)
			continue;
		/* Name the later of the two. */
		const struct prune_image *later = v[i] > v[i - 1] ? v[i] : v[i - 1];
		char at[64];
		snprintf(at, sizeof(at), "images[%zu]", (size_t)(later - p->images));
		snprintf(q, sizeof(q), "%s@%s", later->repository, later->digest);
		rc = bad(r, at, "", "\"%s\" is listed twice", q);
	}
	free(v);
	return rc;
}

static int read_images(struct prune_plan *p, const struct rd *r, json_t *doc)
{
	json_t *arr, *v;
	size_t i;
	int rc = member(&arr, r, "", doc, "images", JSON_ARRAY, 0);

	if (rc != 0)
		return rc;
	p->images = xcalloc(json_array_size(arr) + 1, sizeof(*p->images));
	json_array_foreach(arr, i, v) {
		/* Counted before reading: a failure releases what was read. */
		p->n_images++;
		if ((rc = read_image(&p->images[i], r, v, i)) != 0)
			return rc;
	}
	return check_unique(r, p);
}

static const char *const summary_keys[] = {
	"inScope", "protected", "kept", "delete", "maxDelete", "reclaimable", "refused",
	"refusal", NULL,
};

static int read_counts(struct prune_plan *p, const struct rd *r, json_t *s)
{
	int64_t in_scope, prot, kept, del, max;
	int rc;

	if ((rc = get_count(&in_scope, r, "summary", s, "inScope")) != 0 ||
	    (rc = get_count(&prot, r, "summary", s, "protected")) != 0 ||
	    (rc = get_count(&kept, r, "summary", s, "kept")) != 0 ||
	    (rc = get_count(&del, r, "summary", s, "delete")) != 0 ||
	    (rc = get_count(&max, r, "summary", s, "maxDelete")) != 0 ||
	    (rc = get_count(&p->reclaimable, r, "summary", s, "reclaimable")) != 0)
		return rc;
	p->in_scope = (size_t)in_scope;
	p->protected_ = (size_t)prot;
	p->kept = (size_t)kept;
	p->deleted = (size_t)del;
	p->max_delete = (size_t)max;
	return 0;
}

static int read_summary(struct prune_plan *p, const struct rd *r, json_t *doc)
{
	const char *refusal;
	json_t *s;
	int rc;

	if ((rc = member(&s, r, "", doc, "summary", JSON_OBJECT, 0)) != 0 ||
	    (rc = only_keys(r, "summary", s, summary_keys)) != 0 ||
	    (rc = read_counts(p, r, s)) != 0 ||
	    (rc = get_bool(&p->refused, r, "summary", s, "refused")) != 0 ||
	    (rc = get_string(&refusal, r, "summary", s, "refusal", 1)) != 0)
		return rc;
	if (p->refused && !refusal)
		return bad(r, "summary", "refusal", "null, but the plan is refused: say why");
	if (!p->refused && refusal)
		return bad(r, "summary", "refusal", "set, but the plan is not refused");
	p->refusal = refusal ? xstrdup(refusal) : NULL;
	return 0;
}

/* The summary must say what the images say: --apply trusts maxDelete and
 * refused, so a count edited by hand is refused, not believed. */
static int check_summary(const struct rd *r, const struct prune_plan *p)
{
	size_t in_scope = 0, prot = 0, kept = 0, del = 0;

	for (size_t i = 0; i < p->n_images; i++) {
		const struct prune_image *im = &p->images[i];
		if (!im->top)
			continue;
		in_scope++;
		del += im->decision == PRUNE_DELETE;
		prot += im->decision == PRUNE_KEEP && im->keep == PRUNE_PROTECTED;
		kept += im->decision == PRUNE_KEEP && im->keep == PRUNE_BY_RULE;
	}
	if (p->in_scope != in_scope)
		return bad(r, "summary", "inScope", "%zu, but the images hold %zu top-level images",
		           p->in_scope, in_scope);
	if (p->protected_ != prot)
		return bad(r, "summary", "protected", "%zu, but the images hold %zu protected top-level "
		           "images", p->protected_, prot);
	if (p->kept != kept)
		return bad(r, "summary", "kept", "%zu, but the images hold %zu kept top-level images",
		           p->kept, kept);
	if (p->deleted != del)
		return bad(r, "summary", "delete", "%zu, but the images hold %zu top-level images to "
		           "delete", p->deleted, del);
	if (p->max_delete > p->in_scope)
		return bad(r, "summary", "maxDelete", "%zu, more than inScope (%zu)", p->max_delete,
		           p->in_scope);
	if (p->deleted > p->max_delete && !p->refused)
		return bad(r, "summary", "refused", "false, but the plan deletes %zu and maxDelete is %zu",
		           p->deleted, p->max_delete);
	return 0;
}

static const char *const plan_keys[] = {
	"registry", "plannedAt", "policy", "images", "summary", NULL,
};

static int read_plan(struct prune_plan *p, const struct rd *r, json_t *doc)
{
	const char *registry, *policy = NULL;
	char *host = NULL, *path = NULL, q[256];
	int rc;

	if (!json_is_object(doc))
		return bad(r, "", "", "expected a plan document (a JSON object), got %s",
		           type_name(json_typeof(doc)));
	if ((rc = only_keys(r, "", doc, plan_keys)) != 0 ||
	    (rc = get_string(&registry, r, "", doc, "registry", 0)) != 0 ||
	    (rc = get_time(&p->planned_at, r, "", doc, "plannedAt", 0)) != 0 ||
	    (json_object_get(doc, "policy") &&
	     (rc = get_string(&policy, r, "", doc, "policy", 0)) != 0))
		return rc;
	/* The registry as the policy holds it (normalised, no path): --apply
	 * compares the two. */
	rc = oci_ref_parse_location(registry, &host, &path);
	if (rc != 0 || path || strcmp(host, registry) != 0)
		rc = bad(r, "", "registry", "invalid registry \"%s\": expected HOST[:PORT]",
		         str_printable(q, sizeof(q), registry));
	free(host);
	free(path);
	if (rc != 0)
		return rc;
	p->registry = xstrdup(registry);
	p->policy = policy ? xstrdup(policy) : NULL;
	if ((rc = read_images(p, r, doc)) != 0 || (rc = read_summary(p, r, doc)) != 0)
		return rc;
	return check_summary(r, p);
}

/* What a failed read leaves behind: every pointer of a partly read plan
 * is either set or NULL, which prune_plan_release (plan.c) handles. */
static void discard(struct prune_plan *p)
{
	prune_plan_release(p);
}

int prune_plan_parse(struct prune_plan *out, const char *json, size_t len, const char *origin)
{
	struct rd r = { origin ? origin : "plan" };
	json_error_t jerr;
	json_t *doc;
	int rc;

	memset(out, 0, sizeof(*out));
	doc = json_loadb(json, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!doc) {
		char o[256], t[256];
		return error_set(RV_EINVALID, "%s: invalid JSON at line %d column %d: %s",
		                 str_printable(o, sizeof(o), r.origin), jerr.line, jerr.column,
		                 str_printable(t, sizeof(t), jerr.text));
	}
	rc = read_plan(out, &r, doc);
	json_decref(doc);
	if (rc != 0)
		discard(out);
	return rc;
}
