/*
 * deployed.c — deployed-state sources, the set of references they name,
 * and reading every source of a policy (fail closed: ARCHITECTURE.md
 * invariant 1).
 */
#include <stdlib.h>
#include <string.h>

#include "deployed/deployed.h"
#include "deployed/internal.h"
#include "oci/reference.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/str.h"
#include "util/xalloc.h"
#include "util/banned.h"

/* A refs file is typed by hand or generated from a list; far below this. */
#define REFS_FILE_MAX ((size_t)64 << 20)

#define ACCEPTED_FORMS "kubectl, kubectl:CONTEXT, kubernetes-json:FILE or refs-file:FILE"

static const struct {
	const char *prefix;
	enum deployed_kind kind;
} source_kinds[] = {
	{ "kubectl:", DEPLOYED_KUBECTL },
	{ "kubernetes-json:", DEPLOYED_KUBERNETES_JSON },
	{ "refs-file:", DEPLOYED_REFS_FILE },
};

int deployed_source_parse(struct deployed_source *out, const char *spec)
{
	char q[256];

	memset(out, 0, sizeof(*out));
	if (!spec)
		return error_set(RV_EINVALID, "no deployed source given: expected " ACCEPTED_FORMS);
	if (!strcmp(spec, "kubectl")) {
		out->kind = DEPLOYED_KUBECTL;
		return 0;
	}
	for (size_t i = 0; i < sizeof(source_kinds) / sizeof(source_kinds[0]); i++) {
		const char *arg;

		if (!str_has_prefix(spec, source_kinds[i].prefix))
			continue;
		arg = spec + strlen(source_kinds[i].prefix);
		if (!*arg)
			break;
		out->kind = source_kinds[i].kind;
		out->arg = xstrdup(arg);
		return 0;
	}
	return error_set(RV_EINVALID, "unknown deployed source \"%s\": expected " ACCEPTED_FORMS,
	                 str_printable(q, sizeof(q), spec));
}

void deployed_source_release(struct deployed_source *s)
{
	if (!s)
		return;
	free(s->arg);
	s->arg = NULL;
}

/* --- The set ------------------------------------------------------------ */

int deployed_set_add(struct deployed_set *s, const char *text, enum deployed_why why,
                     char *where)
{
	struct oci_ref ref = OCI_REF_INIT;
	struct deployed_ref *r;
	int rc = oci_ref_parse(&ref, text, OCI_REF_DEFAULT_TAG);

	if (rc) {
		free(where);
		return rc;
	}
	s->refs = xgrow(s->refs, sizeof(*s->refs), s->n + 1, &s->alloc);
	r = &s->refs[s->n++];
	r->text = xstrdup(text);
	r->ref = ref;
	r->why = why;
	r->where = where;
	return 0;
}

void deployed_set_truncate(struct deployed_set *s, size_t n)
{
	while (s->n > n) {
		struct deployed_ref *r = &s->refs[--s->n];

		free(r->text);
		oci_ref_release(&r->ref);
		free(r->where);
	}
}

void deployed_set_release(struct deployed_set *s)
{
	if (!s)
		return;
	deployed_set_truncate(s, 0);
	free(s->refs);
	s->refs = NULL;
	s->alloc = 0;
}

static int all_hex(const char *s, size_t n)
{
	size_t i = 0;

	for (; s[i]; i++)
		if (!(s[i] >= '0' && s[i] <= '9') && !(s[i] >= 'a' && s[i] <= 'f'))
			return 0;
	return i == n;
}

/*
 * Only the exact digest shapes: "app:<40 hex>" (a git-commit tag) is an
 * image, and must never be mistaken for an ID and skipped.
 */
int deployed_is_image_id(const char *s)
{
	if (str_has_prefix(s, "sha256:"))
		return all_hex(s + 7, 64);
	if (str_has_prefix(s, "sha512:"))
		return all_hex(s + 7, 128);
	return all_hex(s, 64);
}

int deployed_no_images(const char *origin)
{
	return error_set(RV_EINVALID,
	                 "%s lists no images: an empty cluster must be declared with "
	                 "\"deployed: none\"", origin);
}

/* --- Reading sources ---------------------------------------------------- */

static char *kubectl_display(const char *context)
{
	char q[256];

	if (!context)
		return xstrdup("kubectl (current context)");
	return xasprintf("kubectl (context \"%s\")", str_printable(q, sizeof(q), context));
}

static int read_kubectl(struct deployed_set *out, const struct deployed_source *s,
                        const struct deployed_options *o)
{
	struct buf text = BUF_INIT;
	char *display = kubectl_display(s->arg);
	int rc = deployed_kubectl_run(&text, s->arg, display, o);

	if (!rc)
		rc = deployed_parse_kubernetes(out, buf_cstr(&text), text.len, display, o->rollback);
	buf_release(&text);
	free(display);
	return rc;
}

static int read_file(struct deployed_set *out, const struct deployed_source *s,
                     const struct deployed_options *o)
{
	struct buf text = BUF_INIT;
	int json = s->kind == DEPLOYED_KUBERNETES_JSON;
	int rc = fs_read_file(&text, s->arg, json ? DEPLOYED_MAX_JSON : REFS_FILE_MAX);

	if (!rc && json)
		rc = deployed_parse_kubernetes(out, buf_cstr(&text), text.len, s->arg, o->rollback);
	else if (!rc)
		rc = deployed_parse_refs(out, buf_cstr(&text), text.len, s->arg);
	buf_release(&text);
	return rc;
}

static int read_one(struct deployed_set *out, const struct deployed_source *s,
                    const struct deployed_options *o)
{
	switch (s->kind) {
	case DEPLOYED_KUBECTL:
		/* Not "the current context": an empty name is most likely an unset
		 * template variable, and the current context may be another cluster. */
		if (s->arg && !*s->arg)
			return error_set(RV_EINVALID, "kubectl source with an empty context name");
		return read_kubectl(out, s, o);
	case DEPLOYED_KUBERNETES_JSON:
	case DEPLOYED_REFS_FILE:
		if (!s->arg || !*s->arg)
			return error_set(RV_EINVALID, "deployed source without a file name");
		return read_file(out, s, o);
	}
	return error_set(RV_EINVALID, "unknown deployed source kind %d: expected " ACCEPTED_FORMS,
	                 (int)s->kind);
}

int deployed_read(struct deployed_set *out, const struct deployed_source *sources, size_t n,
                  const struct deployed_options *o)
{
	static const struct deployed_options defaults = DEPLOYED_OPTIONS_INIT;
	size_t start = out->n;

	if (!o)
		o = &defaults;
	/* An empty list is not "nothing deployed": that is `deployed: none`,
	 * which the policy handles without calling us. */
	if (!n)
		return error_set(RV_EINVALID, "no deployed source given: expected " ACCEPTED_FORMS);
	for (size_t i = 0; i < n; i++) {
		int rc = read_one(out, &sources[i], o);

		if (rc) {
			deployed_set_truncate(out, start);
			return rc;
		}
	}
	return 0;
}
