/*
 * kubernetes.c — image references in `kubectl get … -o json` output.
 *
 * Where they live (kubernetes/api core/v1, apps/v1, batch/v1; see
 * oci-notes.md §8.1): a PodSpec's containers[], initContainers[],
 * ephemeralContainers[] (.image) and volumes[].image.reference; a Pod's
 * status.*ContainerStatuses[].imageID; a workload's spec.template.spec; a
 * CronJob's spec.jobTemplate.spec.template.spec.
 *
 * Fail closed: a shape we cannot read where images live (containers not
 * an array, image not a string, a workload without its pod template) and
 * an image that is not a reference are errors naming the JSON path.
 * Shapes that only decide how much to keep (owner references, revision
 * annotations, replica counts) fall back to keeping more when unreadable.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>

#include "deployed/deployed.h"
#include "deployed/internal.h"
#include "util/error.h"
#include "util/log.h"
#include "util/str.h"
#include "util/xalloc.h"
#include "util/banned.h"

#define REVISION_ANNOTATION "deployment.kubernetes.io/revision"

/* A Deployment seen in the list: "NS/NAME" and its current revision. */
struct deploy_rev {
	char *key;
	int64_t revision;  /* -1: no (readable) revision annotation */
};

/* A ReplicaSet owned by a Deployment, decided once every item is read. */
struct owned_rs {
	char *owner;       /* "NS/DEPLOYMENT" */
	char *label;       /* "replicaset NS/NAME", printable */
	char *at;          /* "items[3]." */
	size_t item;       /* for a stable order */
	json_t *obj;       /* borrowed from the document */
	int64_t revision;  /* -1: no (readable) revision annotation */
	int active;        /* spec.replicas or status.replicas > 0 */
};

struct kparse {
	struct deployed_set *out;
	const char *origin;
	int rollback;
	struct deploy_rev *deps;
	size_t n_deps, alloc_deps;
	struct owned_rs *rs;
	size_t n_rs, alloc_rs;
};

/* What the images under one pod spec count as. */
struct site {
	enum deployed_why why;
	const char *label;   /* "pod api/x", "deployment api/x", "replicaset … (revision 3)" */
	int per_container;   /* pods: where names the container */
};

/* --- Shapes -------------------------------------------------------------- */

static const char *type_name(json_type t)
{
	return t == JSON_OBJECT ? "an object" : t == JSON_ARRAY ? "an array" : "a string";
}

/* `at` is a path prefix ending in '.' (or ""); `key` its last part. */
static int bad_shape(const struct kparse *k, const char *at, const char *key, const char *why)
{
	size_t n = strlen(at);

	if (!*key && n && at[n - 1] == '.')
		n--;
	return error_set(RV_EINVALID, "%s: %.*s%s: %s", k->origin, (int)n, at, key, why);
}

/* obj[key] when it has `type`; *out NULL when absent or null. RV_EINVALID
 * naming the path when it is something else. */
static int member(json_t **out, const struct kparse *k, const char *at, json_t *obj,
                  const char *key, json_type type)
{
	json_t *v = json_object_get(obj, key);
	char why[32];

	*out = NULL;
	if (!v || json_is_null(v))
		return 0;
	if (json_typeof(v) != type) {
		snprintf(why, sizeof(why), "expected %s", type_name(type));
		return bad_shape(k, at, key, why);
	}
	*out = v;
	return 0;
}

/* A string member, "" when absent; RV_EINVALID when not a string. */
static int string_member(const char **out, const struct kparse *k, const char *at, json_t *obj,
                         const char *key)
{
	json_t *v;
	int rc = member(&v, k, at, obj, key, JSON_STRING);

	*out = v ? json_string_value(v) : "";
	return rc;
}

/* Kubernetes names are DNS labels; a hand-edited file may hold anything. */
static char *printable(const char *s, char *buf, size_t len)
{
	return str_printable(buf, len, s && *s ? s : "?");
}

/* --- Images ---------------------------------------------------------------- */

static int add_image(struct kparse *k, const char *image, const struct site *s, char *where,
                     const char *at, const char *key)
{
	char q[256];

	/* "sha256:…" names an image by its local config digest: no registry
	 * holds it under that name, so there is nothing to protect by it. */
	if (deployed_is_image_id(image)) {
		log_debug("%s: %s%s: \"%s\" is an image ID, not a registry reference: skipped",
		          k->origin, at, key, str_printable(q, sizeof(q), image));
		free(where);
		return 0;
	}
	if (deployed_set_add(k->out, image, s->why, where))
		return error_wrap(RV_EINVALID, "%s: %s%s", k->origin, at, key);
	return 0;
}

static char *where_of(const struct site *s, const char *what, const char *name)
{
	char q[256];

	if (!s->per_container)
		return xstrdup(s->label);
	return xasprintf("%s %s %s", s->label, what, printable(name, q, sizeof(q)));
}

static const struct {
	const char *key, *what;
} container_lists[] = {
	{ "containers", "container" },
	{ "initContainers", "initContainer" },
	{ "ephemeralContainers", "ephemeralContainer" },
};

/* One element of `list` at `at`: its `field` (under `sub` when not NULL),
 * a reference to add unless empty (Kubernetes allows that in templates). */
static int walk_element(struct kparse *k, json_t *el, const char *at, const struct site *s,
                        const char *what, const char *sub, const char *field)
{
	const char *image, *name;
	char *sub_at = NULL;
	json_t *holder = el;
	int rc;

	if (!json_is_object(el))
		return bad_shape(k, at, "", "expected an object");
	rc = string_member(&name, k, at, el, "name");
	if (!rc && sub) {
		rc = member(&holder, k, at, el, sub, JSON_OBJECT);
		sub_at = xasprintf("%s%s.", at, sub);
	}
	if (!rc && holder)
		rc = string_member(&image, k, sub_at ? sub_at : at, holder, field);
	if (!rc && holder && *image)
		rc = add_image(k, image, s, where_of(s, what, name), sub_at ? sub_at : at, field);
	free(sub_at);
	return rc;
}

static int walk_list(struct kparse *k, json_t *obj, const char *at, const char *key,
                     const struct site *s, const char *what, const char *sub,
                     const char *field)
{
	json_t *arr, *el;
	size_t i;
	int rc = member(&arr, k, at, obj, key, JSON_ARRAY);

	json_array_foreach(arr, i, el) {
		char *el_at = xasprintf("%s%s[%zu].", at, key, i);

		rc = walk_element(k, el, el_at, s, what, sub, field);
		free(el_at);
		if (rc)
			return rc;
	}
	return rc;
}

/* A PodSpec: containers of the three kinds and image volumes. */
static int walk_pod_spec(struct kparse *k, json_t *spec, const char *at, const struct site *s)
{
	int rc = 0;

	for (size_t i = 0; !rc && i < sizeof(container_lists) / sizeof(container_lists[0]); i++)
		rc = walk_list(k, spec, at, container_lists[i].key, s, container_lists[i].what, NULL,
		               "image");
	/* ImageVolumeSource: "behaves in the same way as pod.spec.containers[*].image". */
	if (!rc)
		rc = walk_list(k, spec, at, "volumes", s, "volume", "image", "reference");
	return rc;
}

/*
 * A status imageID: containerd "repo@sha256:<often the index digest>",
 * dockershim "docker-pullable://repo@sha256:…", or a bare image ID
 * ("sha256:<config>", "docker://sha256:…") when the image has no repo
 * digest, which add_image() skips (oci-notes.md §8.1). "" while pulling.
 */
static int walk_status_entry(struct kparse *k, json_t *el, const char *at, const struct site *s)
{
	const char *id, *name;
	int rc;

	if (!json_is_object(el))
		return bad_shape(k, at, "", "expected an object");
	rc = string_member(&id, k, at, el, "imageID");
	if (!rc)
		rc = string_member(&name, k, at, el, "name");
	if (rc)
		return rc;
	if (str_has_prefix(id, "docker-pullable://"))
		id += strlen("docker-pullable://");
	else if (str_has_prefix(id, "docker://"))
		id += strlen("docker://");
	return *id ? add_image(k, id, s, where_of(s, "status", name), at, "imageID") : 0;
}

static int walk_status(struct kparse *k, json_t *status, const char *at, const struct site *s)
{
	static const char *const lists[] = { "containerStatuses", "initContainerStatuses",
	                                     "ephemeralContainerStatuses" };

	for (size_t i = 0; i < sizeof(lists) / sizeof(lists[0]); i++) {
		json_t *arr, *el;
		size_t j;
		int rc = member(&arr, k, at, status, lists[i], JSON_ARRAY);

		json_array_foreach(arr, j, el) {
			char *el_at = xasprintf("%s%s[%zu].", at, lists[i], j);

			rc = walk_status_entry(k, el, el_at, s);
			free(el_at);
			if (rc)
				break;
		}
		if (rc)
			return rc;
	}
	return 0;
}

/* --- Objects --------------------------------------------------------------- */

static const char *const pod_path[] = { "spec", NULL };
static const char *const template_path[] = { "spec", "template", "spec", NULL };
static const char *const cronjob_path[] = { "spec", "jobTemplate", "spec", "template", "spec",
	                                    NULL };

/* Follows `path` from obj to the PodSpec; a missing step is an error: a
 * workload whose template we cannot see may run anything. *spec_at gets
 * the PodSpec's path prefix (caller frees). */
static int find_pod_spec(json_t **spec, char **spec_at, const struct kparse *k, json_t *obj,
                         const char *at, const char *const *path, const char *label)
{
	struct buf p = BUF_INIT;
	json_t *cur = obj;
	int rc = 0;

	*spec_at = NULL;
	buf_addstr(&p, at);
	for (; *path; path++) {
		rc = member(&cur, k, buf_cstr(&p), cur, *path, JSON_OBJECT);
		buf_addf(&p, "%s.", *path);
		if (!rc && !cur)
			rc = error_set(RV_EINVALID, "%s: %.*s: missing in %s", k->origin,
			               (int)(p.len - 1), p.ptr, label);
		if (rc) {
			buf_release(&p);
			return rc;
		}
	}
	*spec = cur;
	*spec_at = buf_detach(&p, NULL);
	return 0;
}

static int walk_template(struct kparse *k, json_t *obj, const char *at,
                         const char *const *path, const struct site *s)
{
	json_t *spec;
	char *spec_at;
	int rc = find_pod_spec(&spec, &spec_at, k, obj, at, path, s->label);

	if (!rc)
		rc = walk_pod_spec(k, spec, spec_at, s);
	free(spec_at);
	return rc;
}

static int walk_pod(struct kparse *k, json_t *obj, const char *at, const char *label)
{
	struct site s = { DEPLOYED_RUNNING, label, 1 };
	json_t *status;
	char *status_at;
	int rc = walk_template(k, obj, at, pod_path, &s);

	if (!rc)
		rc = member(&status, k, at, obj, "status", JSON_OBJECT);
	if (rc || !status)
		return rc;
	status_at = xasprintf("%sstatus.", at);
	rc = walk_status(k, status, status_at, &s);
	free(status_at);
	return rc;
}

static char *object_label(const char *what, json_t *obj)
{
	json_t *meta = json_object_get(obj, "metadata");
	const char *ns = json_string_value(json_object_get(meta, "namespace"));
	const char *name = json_string_value(json_object_get(meta, "name"));
	char qn[256], qs[256];

	if (!ns || !*ns)
		return xasprintf("%s %s", what, printable(name, qn, sizeof(qn)));
	return xasprintf("%s %s/%s", what, printable(ns, qs, sizeof(qs)),
	                 printable(name, qn, sizeof(qn)));
}

/* "NS/NAME" as written, for matching owners; NULL without a name. */
static char *object_key(json_t *obj, const char *name)
{
	json_t *meta = json_object_get(obj, "metadata");
	const char *ns = json_string_value(json_object_get(meta, "namespace"));

	if (!name)
		name = json_string_value(json_object_get(meta, "name"));
	return name ? xasprintf("%s/%s", ns ? ns : "", name) : NULL;
}

/* The revision annotation Deployments and their ReplicaSets carry; -1
 * when absent or not a number. */
static int64_t revision_of(json_t *obj)
{
	json_t *ann = json_object_get(json_object_get(obj, "metadata"), "annotations");
	const char *v = json_string_value(json_object_get(ann, REVISION_ANNOTATION));
	int64_t r;

	return v && !str_to_int64(v, &r) && r >= 0 ? r : -1;
}

/* The name of the Deployment owning a ReplicaSet, or NULL. */
static const char *owner_deployment(json_t *obj)
{
	json_t *refs = json_object_get(json_object_get(obj, "metadata"), "ownerReferences"), *o;
	size_t i;

	json_array_foreach(refs, i, o) {
		const char *kind = json_string_value(json_object_get(o, "kind"));
		const char *name = json_string_value(json_object_get(o, "name"));

		if (kind && name && !strcmp(kind, "Deployment"))
			return name;
	}
	return NULL;
}

static int positive(json_t *obj, const char *part)
{
	json_t *v = json_object_get(json_object_get(obj, part), "replicas");

	return json_is_integer(v) && json_integer_value(v) > 0;
}

static void note_deployment(struct kparse *k, json_t *obj)
{
	char *key = object_key(obj, NULL);

	if (!key)
		return;
	k->deps = xgrow(k->deps, sizeof(*k->deps), k->n_deps + 1, &k->alloc_deps);
	k->deps[k->n_deps++] = (struct deploy_rev){ key, revision_of(obj) };
}

/* A ReplicaSet: an owned one waits for every Deployment to be read (they
 * may come before or after it); any other counts as a template now. */
static int walk_replicaset(struct kparse *k, json_t *obj, const char *at, size_t item,
                           char *label)
{
	const char *owner = owner_deployment(obj);
	struct site s = { DEPLOYED_TEMPLATE, label, 0 };
	struct owned_rs *r;

	if (!owner) {
		int rc = walk_template(k, obj, at, template_path, &s);

		free(label);
		return rc;
	}
	k->rs = xgrow(k->rs, sizeof(*k->rs), k->n_rs + 1, &k->alloc_rs);
	r = &k->rs[k->n_rs++];
	r->owner = object_key(obj, owner);
	r->label = label;
	r->at = xstrdup(at);
	r->item = item;
	r->obj = obj;
	r->revision = revision_of(obj);
	r->active = positive(obj, "spec") || positive(obj, "status");
	return 0;
}

static const struct {
	const char *kind, *what;
	const char *const *path;
} workloads[] = {
	{ "Deployment", "deployment", template_path },
	{ "StatefulSet", "statefulset", template_path },
	{ "DaemonSet", "daemonset", template_path },
	{ "Job", "job", template_path },
	{ "CronJob", "cronjob", cronjob_path },
	{ "ReplicationController", "replicationcontroller", template_path },
};

static int walk_item(struct kparse *k, json_t *obj, const char *at, size_t item)
{
	const char *kind;
	char *label;
	int rc;

	if (!json_is_object(obj))
		return bad_shape(k, at, "", "expected an object");
	/* kubectl names the kind of every item; one we cannot tell may be
	 * anything, including a workload. */
	rc = string_member(&kind, k, at, obj, "kind");
	if (!rc && !*kind)
		rc = bad_shape(k, at, "kind", "missing");
	if (rc)
		return rc;
	if (!strcmp(kind, "Pod")) {
		label = object_label("pod", obj);
		rc = walk_pod(k, obj, at, label);
		free(label);
		return rc;
	}
	if (!strcmp(kind, "ReplicaSet"))
		return walk_replicaset(k, obj, at, item, object_label("replicaset", obj));
	for (size_t i = 0; i < sizeof(workloads) / sizeof(workloads[0]); i++) {
		struct site s = { DEPLOYED_TEMPLATE, NULL, 0 };

		if (strcmp(kind, workloads[i].kind))
			continue;
		if (i == 0)
			note_deployment(k, obj);
		label = object_label(workloads[i].what, obj);
		s.label = label;
		rc = walk_template(k, obj, at, workloads[i].path, &s);
		free(label);
		return rc;
	}
	return 0; /* Service, ConfigMap…: no images */
}

/* --- Deployment history ------------------------------------------------------ */

static int by_key(const void *a, const void *b)
{
	return strcmp(((const struct deploy_rev *)a)->key, ((const struct deploy_rev *)b)->key);
}

/* By owner, then newest revision first (unknown last), then list order. */
static int by_owner_revision(const void *a, const void *b)
{
	const struct owned_rs *x = a, *y = b;
	int c = strcmp(x->owner, y->owner);

	if (c)
		return c;
	if (x->revision != y->revision)
		return x->revision > y->revision ? -1 : 1;
	return x->item < y->item ? -1 : x->item > y->item;
}

/*
 * The owner's current revision: its Deployment's annotation. When the
 * Deployment is not in the list (saved `kubectl get rs` output, or deleted
 * while kubectl listed) or has no revision yet, the newest ReplicaSet is
 * taken as current. That keeps the newest rollback+1 revisions of the
 * owner: a safe over-approximation of what the Deployment would need.
 */
static int64_t current_revision(const struct kparse *k, const struct owned_rs *rs)
{
	struct deploy_rev want = { rs->owner, 0 };
	const struct deploy_rev *d = k->n_deps ? bsearch(&want, k->deps, k->n_deps,
	                                                 sizeof(*k->deps), by_key) : NULL;

	if (d && d->revision >= 0)
		return d->revision;
	return rs->revision; /* sorted newest first */
}

static int emit_replicaset(struct kparse *k, const struct owned_rs *r, enum deployed_why why)
{
	struct site s = { why, NULL, 0 };
	char *label;
	int rc;

	if (r->revision < 0)
		label = xstrdup(r->label);
	else
		label = xasprintf("%s (revision %lld%s)", r->label, (long long)r->revision,
		                  why == DEPLOYED_ROLLBACK ? ", rollback" : "");
	s.label = label;
	rc = walk_template(k, r->obj, r->at, template_path, &s);
	free(label);
	return rc;
}

/*
 * One Deployment's ReplicaSets, newest first. The current revision, any
 * with replicas (mid-rollout) and any without a readable revision count as
 * templates; of the older ones, the newest `rollback` are what `kubectl
 * rollout undo` returns to — whether or not they still run pods, they hold
 * a rank — and older ones do not count.
 */
static int resolve_owner(struct kparse *k, const struct owned_rs *rs, size_t n)
{
	int64_t cur = current_revision(k, rs);
	int rank = 0;

	for (size_t i = 0; i < n; i++) {
		const struct owned_rs *r = &rs[i];
		int older = r->revision >= 0 && r->revision < cur;
		int in_history = older && rank++ < k->rollback;
		int rc = 0;

		if (!older || r->active)
			rc = emit_replicaset(k, r, DEPLOYED_TEMPLATE);
		else if (in_history)
			rc = emit_replicaset(k, r, DEPLOYED_ROLLBACK);
		if (rc)
			return rc;
	}
	return 0;
}

static int resolve_replicasets(struct kparse *k)
{
	size_t g, end;

	if (!k->n_rs)
		return 0;
	if (k->n_deps)
		qsort(k->deps, k->n_deps, sizeof(*k->deps), by_key);
	qsort(k->rs, k->n_rs, sizeof(*k->rs), by_owner_revision);
	for (g = 0; g < k->n_rs; g = end) {
		int rc;

		for (end = g + 1; end < k->n_rs && !strcmp(k->rs[end].owner, k->rs[g].owner); end++)
			;
		rc = resolve_owner(k, &k->rs[g], end - g);
		if (rc)
			return rc;
	}
	return 0;
}

/* --- The document ------------------------------------------------------------ */

/* kubectl prints kind "List"; the API server's own lists are "PodList"… */
static int walk_root(struct kparse *k, json_t *root)
{
	const char *kind = json_string_value(json_object_get(root, "kind"));
	json_t *items, *item;
	size_t i;
	int rc;

	if (!json_is_object(root))
		return error_set(RV_EINVALID, "%s: expected a Kubernetes object or List", k->origin);
	if (!kind || !str_has_suffix(kind, "List"))
		return walk_item(k, root, "", 0);
	rc = member(&items, k, "", root, "items", JSON_ARRAY);
	if (!rc && !items)
		rc = bad_shape(k, "", "items", "missing");
	json_array_foreach(items, i, item) {
		char *at = xasprintf("items[%zu].", i);

		rc = walk_item(k, item, at, i);
		free(at);
		if (rc)
			return rc;
	}
	return rc;
}

static void kparse_release(struct kparse *k)
{
	for (size_t i = 0; i < k->n_deps; i++)
		free(k->deps[i].key);
	for (size_t i = 0; i < k->n_rs; i++) {
		free(k->rs[i].owner);
		free(k->rs[i].label);
		free(k->rs[i].at);
	}
	free(k->deps);
	free(k->rs);
}

int deployed_parse_kubernetes(struct deployed_set *out, const char *json, size_t len,
                              const char *origin, int rollback)
{
	struct kparse k = { out, origin, rollback > 0 ? rollback : 0, NULL, 0, 0, NULL, 0, 0 };
	size_t start = out->n;
	json_error_t jerr;
	json_t *root;
	char q[256];
	int rc;

	/* No JSON_REJECT_DUPLICATES: kubectl's output is machine-written. */
	root = json_loadb(json, len, 0, &jerr);
	if (!root)
		return error_set(RV_EINVALID, "%s: invalid JSON at line %d column %d: %s", origin,
		                 jerr.line, jerr.column, str_printable(q, sizeof(q), jerr.text));
	rc = walk_root(&k, root);
	if (!rc)
		rc = resolve_replicasets(&k);
	if (!rc && out->n == start)
		rc = deployed_no_images(origin);
	if (rc)
		deployed_set_truncate(out, start);
	kparse_release(&k);
	json_decref(root);
	return rc;
}
