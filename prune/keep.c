/*
 * keep.c — what is kept, and why.
 *
 * Order matters only for the reasons shown first: deployed state, then
 * protect globs, then the keep rules, then the closure that spreads
 * protection from everything kept (children of kept indexes, referrers and
 * signatures of kept images, base images of kept images) until nothing
 * changes. Whatever is still unmarked afterwards is deleted (plan.c).
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "oci/reference.h"
#include "prune/internal.h"
#include "registry/registry.h"
#include "util/error.h"
#include "util/log.h"
#include "util/str.h"
#include "util/banned.h"

#define ANNOTATION_BASE_DIGEST "org.opencontainers.image.base.digest"
#define ANNOTATION_BASE_NAME "org.opencontainers.image.base.name"

int keep_in_scope(const struct policy *p, const char *repo)
{
	for (size_t i = 0; i < p->n_repositories; i++)
		if (str_glob_match(p->repositories[i], repo))
			return 1;
	return 0;
}

/* "svc/api:v1.4.2", else "svc/api@sha256:0123456789ab". */
static char *display(const struct node *nd)
{
	if (nd->tags.n)
		return xasprintf("%s:%s", nd->repo, nd->tags.v[0]);
	return xasprintf("%s@%.19s", nd->repo, nd->digest);
}

/* --- Deployed ------------------------------------------------------------------ */

/* Splits "host[:port]" ("[::1]:5000" too) into a lowercase host and the
 * port text ("" when none). */
static void split_hostport(const char *s, char *host, size_t hlen, const char **port)
{
	const char *end = s[0] == '[' ? strchr(s, ']') : NULL;
	const char *colon = strrchr(end ? end : s, ':');
	size_t n = colon ? (size_t)(colon - s) : strlen(s);

	if (n >= hlen)
		n = hlen - 1;
	for (size_t i = 0; i < n; i++)
		host[i] = (char)tolower((unsigned char)s[i]);
	host[n] = '\0';
	*port = colon ? colon + 1 : "";
}

int keep_on_primary(const struct model *md, const char *registry)
{
	char a[256], b[256];
	const char *pa, *pb;

	if (strcmp(registry, md->p->registry) == 0)
		return 1;
	/* Host names are case-insensitive, and the loopback names reach the same
	 * server on one port: what runs from "localhost:5000" runs from
	 * "127.0.0.1:5000". Protecting it is the safe reading. */
	split_hostport(registry, a, sizeof(a), &pa);
	split_hostport(md->p->registry, b, sizeof(b), &pb);
	if (strcmp(pa, pb) != 0)
		return 0;
	return !strcmp(a, b) ||
	       (registry_is_loopback(registry) && registry_is_loopback(md->p->registry));
}

/* Sources that name images, none of them on the primary, protect nothing
 * here: the registry is spelled another way there ("localhost:5000" for
 * "127.0.0.1:5000", "docker.io/library/app" for a mirror's "app") or the
 * wrong sources are named. That is a source that names nothing for this
 * registry, and fails closed like one (invariant 1); a primary nothing
 * runs from says so with `deployed: none`. */
static int deployed_names_registry(const struct model *md)
{
	const struct deployed_ref *first = md->deployed.n ? &md->deployed.refs[0] : NULL;

	for (size_t i = 0; i < md->deployed.n; i++)
		if (md->deployed.refs[i].ref.repository &&
		    keep_on_primary(md, md->deployed.refs[i].ref.registry))
			return 0;
	if (!first)
		return 0;   /* deployed_read refuses an empty set itself */
	return error_set(RV_EINVALID, "the deployed sources name %zu image%s, none on registry "
	                 "\"%s\" (%s: \"%s\"); if nothing runs from it, declare \"deployed: none\"",
	                 md->deployed.n, md->deployed.n == 1 ? "" : "s", md->p->registry,
	                 first->where, first->text);
}

int keep_deployed_read(struct model *md)
{
	struct deployed_options o = md->o->deployed;
	int rc;

	if (md->p->deployed_none)
		return 0;
	o.rollback = md->p->rollback;
	rc = deployed_read(&md->deployed, md->p->deployed, md->p->n_deployed, &o);
	if (rc == 0)
		rc = deployed_names_registry(md);
	if (rc < 0)
		return error_wrap(rc, "what is deployed is unknown, so nothing can be pruned");
	return 0;
}

/* The deployed references that name an image of the primary in scope. */
static int ours(const struct model *md, const struct deployed_ref *d)
{
	return d->ref.repository && keep_on_primary(md, d->ref.registry) &&
	       keep_in_scope(md->p, d->ref.repository);
}

void keep_deployed_digests(const struct model *md, const char *repo, struct strlist *out)
{
	for (size_t i = 0; i < md->deployed.n; i++) {
		const struct deployed_ref *d = &md->deployed.refs[i];
		if (d->ref.digest && ours(md, d) && strcmp(d->ref.repository, repo) == 0)
			strlist_add(out, d->ref.digest);
	}
}

int keep_deployed(struct model *md)
{
	for (size_t i = 0; i < md->deployed.n; i++) {
		const struct deployed_ref *d = &md->deployed.refs[i];
		struct node *nd;

		/* Out of scope too: those are outside nodes (plan.c load_outside),
		 * there only so that their base images are protected. */
		if (!d->ref.repository || !keep_on_primary(md, d->ref.registry))
			continue;
		nd = d->ref.digest ? model_find(md, d->ref.repository, d->ref.digest)
		                   : model_tagged(md, d->ref.repository, d->ref.tag);
		if (!nd) {
			/* Nothing to protect: the image is already gone. Say so loudly —
			 * the next pod start fails — but it does not make pruning unsafe. */
			log_warn("deployed image %s (%s) is not in the registry; "
			         "`regvault deployed --check` and `--restore` bring it back",
			         d->text, d->where);
			continue;
		}
		keep_mark(nd, WHY_PROTECTED, "%s: %s",
		          d->why == DEPLOYED_ROLLBACK ? "rollback" : "deployed", d->where);
	}
	return 0;
}

void keep_deployed_release(struct model *md)
{
	deployed_set_release(&md->deployed);
}

/* --- Protect globs and keep rules ----------------------------------------------- */

static void keep_protect(struct model *md)
{
	for (size_t g = 0; g < md->p->n_protect; g++) {
		const char *glob = md->p->protect[g], *colon = strrchr(glob, ':');
		char *repo_glob;

		if (!colon)
			continue;   /* policy.c refuses these */
		repo_glob = xstrndup(glob, (size_t)(colon - glob));
		for (size_t k = 0; k < md->n; k++) {
			struct node *nd = &md->nodes[k];
			if (!str_glob_match(repo_glob, nd->repo))
				continue;
			for (size_t t = 0; t < nd->tags.n; t++)
				if (str_glob_match(colon + 1, nd->tags.v[t])) {
					keep_mark(nd, WHY_PROTECTED, "protect: %s", glob);
					break;
				}
		}
		free(repo_glob);
	}
}

static int tag_matches(const struct policy_rule *r, const char *tag)
{
	int in = r->n_tags == 0;

	for (size_t i = 0; !in && i < r->n_tags; i++)
		in = str_glob_match(r->tags[i], tag);
	for (size_t i = 0; in && i < r->n_exclude_tags; i++)
		in = !str_glob_match(r->exclude_tags[i], tag);
	return in;
}

/* The smallest tag of nd a rule takes, or NULL when the rule does not
 * apply to nd at all. */
static const char *rule_tag(const struct policy_rule *r, const struct node *nd)
{
	for (size_t t = 0; t < nd->tags.n; t++)   /* sorted */
		if (tag_matches(r, nd->tags.v[t]))
			return nd->tags.v[t];
	return NULL;
}

static char *duration_text(int64_t s)
{
	if (s % 86400 == 0)
		return xasprintf("%lldd", (long long)(s / 86400));
	if (s % 3600 == 0)
		return xasprintf("%lldh", (long long)(s / 3600));
	return xasprintf("%llds", (long long)s);
}

/* "rule 4: newest 3 of *, except *-SNAPSHOT*" — what the plan shows. */
static char *rule_text(const struct policy_rule *r, size_t number)
{
	struct buf b = BUF_INIT;

	buf_addf(&b, "rule %zu:", number);
	if (r->newest)
		buf_addf(&b, " newest %d of", r->newest);
	else if (!r->younger_than || r->n_tags != 1 || strcmp(r->tags[0], "*") != 0)
		buf_addf(&b, " tags");
	for (size_t i = 0; i < r->n_tags; i++)
		buf_addf(&b, "%s %s", i ? "," : "", r->tags[i]);
	for (size_t i = 0; i < r->n_exclude_tags; i++)
		buf_addf(&b, "%s %s", i ? "," : ", except", r->exclude_tags[i]);
	if (r->younger_than) {
		char *d = duration_text(r->younger_than);
		buf_addf(&b, "%s younger than %s", r->n_tags || r->newest ? "," : "", d);
		free(d);
	}
	return buf_detach(&b, NULL);
}

struct candidate {
	struct node *nd;
	const char *tag;      /* the smallest tag the rule takes */
};

/* Newest first; ties by the smallest tag, then the digest: the same plan
 * every time. */
static int by_age(const void *a, const void *b)
{
	const struct candidate *x = a, *y = b;
	int c;

	if (x->nd->created != y->nd->created)
		return x->nd->created > y->nd->created ? -1 : 1;
	if ((c = strcmp(x->tag, y->tag)) != 0)
		return c;
	return strcmp(x->nd->digest, y->nd->digest);
}

/* Rules apply to tagged images only, never to attachments (signatures,
 * fallback indexes): those live and die with their subject. */
static int rule_subject(const struct node *nd)
{
	return nd->tags.n > 0 && !nd->attachment && !nd->outside;
}

static void keep_rule(struct model *md, const struct policy_rule *r, size_t number,
                      const char *repo, struct candidate *buf)
{
	size_t n = 0;
	char *why = rule_text(r, number);

	for (size_t k = 0; k < md->n; k++) {
		struct node *nd = &md->nodes[k];
		const char *tag;
		if (!rule_subject(nd) || strcmp(nd->repo, repo) != 0 || !(tag = rule_tag(r, nd)))
			continue;
		if (r->younger_than && md->now - nd->created >= r->younger_than)
			continue;
		buf[n].nd = nd;
		buf[n++].tag = tag;
	}
	if (r->newest && (size_t)r->newest < n) {
		qsort(buf, n, sizeof(*buf), by_age);
		n = (size_t)r->newest;
	}
	for (size_t i = 0; i < n; i++)
		keep_mark(buf[i].nd, WHY_RULE, "%s", why);
	free(why);
}

void keep_rules(struct model *md)
{
	struct strlist repos = STRLIST_INIT;
	struct candidate *buf = xcalloc(md->n + 1, sizeof(*buf));

	keep_protect(md);
	for (size_t k = 0; k < md->n; k++)
		if (!strlist_contains(&repos, md->nodes[k].repo))
			strlist_add(&repos, md->nodes[k].repo);
	for (size_t i = 0; i < repos.n; i++)
		for (size_t r = 0; r < md->p->n_keep; r++)
			keep_rule(md, &md->p->keep[r], r + 1, repos.v[i], buf);
	free(buf);
	strlist_release(&repos);
	if (md->p->untagged != POLICY_UNTAGGED_KEEP)
		return;
	for (size_t k = 0; k < md->n; k++) {
		struct node *nd = &md->nodes[k];
		if (nd->tags.n == 0 && nd->top && !nd->listed_child && !nd->subject)
			keep_mark(nd, WHY_RULE, "untagged: keep");
	}
}

/* --- The closure -------------------------------------------------------------------- */

struct keyed {
	const char *key;
	size_t idx;
};

static int by_key(const void *a, const void *b)
{
	return strcmp(((const struct keyed *)a)->key, ((const struct keyed *)b)->key);
}

/* A sorted (key, node) table: every node whose key is `key`, by bsearch. */
struct table {
	struct keyed *v;
	size_t n;
	char **owned;
};

static void table_add(struct table *t, char *key, size_t idx)
{
	t->v[t->n].key = key;
	t->owned[t->n] = key;
	t->v[t->n++].idx = idx;
}

static void table_init(struct table *t, size_t cap)
{
	t->v = xcalloc(cap + 1, sizeof(*t->v));
	t->owned = xcalloc(cap + 1, sizeof(*t->owned));
	t->n = 0;
}

static void table_sort(struct table *t)
{
	qsort(t->v, t->n, sizeof(*t->v), by_key);
}

/* The range [*first, return) of entries with key, *first set. */
static size_t table_find(const struct table *t, const char *key, size_t *first)
{
	size_t lo = 0, hi = t->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (strcmp(t->v[mid].key, key) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	*first = lo;
	while (hi < t->n && strcmp(t->v[hi].key, key) == 0)
		hi++;
	return hi;
}

static void table_release(struct table *t)
{
	for (size_t i = 0; i < t->n; i++)
		free(t->owned[i]);
	free(t->owned);
	free(t->v);
}

struct closure {
	struct model *md;
	struct table layers;    /* layer_key → images with exactly that layer list */
	struct table subjects;  /* "repo@subject" → its referrers and signatures */
	struct table digests;   /* digest → the node in every repository */
	struct table parents;   /* "repo@child" → the indexes that list it */
	size_t *queue;
	size_t head, tail;
};

/* Marks node idx protected; queues it when it was not kept before. */
static void protect(struct closure *cl, size_t idx, const char *fmt, const char *name)
{
	struct node *nd = &cl->md->nodes[idx];
	enum why before = nd->why;

	keep_mark(nd, WHY_PROTECTED, fmt, name);
	if (before == WHY_NONE)
		cl->queue[cl->tail++] = idx;
}

static char *prefix_key(const struct oci_manifest *m, size_t n)
{
	struct buf b = BUF_INIT;
	char key[OCI_DIGEST_MAX];

	for (size_t i = 0; i < n; i++)
		buf_addf(&b, "%s\n", m->layers[i].digest);
	oci_digest_compute(key, OCI_SHA256, buf_cstr(&b), b.len);
	buf_release(&b);
	return xstrdup(key);
}

/* A base image and, when it is a platform child, every index that lists
 * it: a multi-arch base is pulled by the index's tag (`FROM base:1.0`),
 * and deleting the index deletes that tag even when the child stays. */
static void protect_base(struct closure *cl, size_t idx, const char *name)
{
	struct node *nd = &cl->md->nodes[idx];
	char *key = xasprintf("%s@%s", nd->repo, nd->digest);
	size_t first, end;

	protect(cl, idx, "base of %s", name);
	for (end = table_find(&cl->parents, key, &first); first < end; first++)
		if (cl->parents.v[first].idx != idx)
			protect_base(cl, cl->parents.v[first].idx, name);
	free(key);
}

/* Images named by the base annotations of nd, and images whose whole
 * layer list is a proper prefix of nd's (what a Dockerfile FROM leaves). */
static void protect_bases(struct closure *cl, size_t idx, const char *name)
{
	struct model *md = cl->md;
	const struct oci_manifest *m = md->nodes[idx].m;
	const char *bd, *bn;
	size_t first, end;

	if (m->kind != OCI_KIND_IMAGE)
		return;
	bd = oci_annotation_get(m->annotations, m->n_annotations, ANNOTATION_BASE_DIGEST);
	bn = oci_annotation_get(m->annotations, m->n_annotations, ANNOTATION_BASE_NAME);
	if (bd && oci_digest_validate(bd) == 0) {
		for (end = table_find(&cl->digests, bd, &first); first < end; first++)
			protect_base(cl, cl->digests.v[first].idx, name);
	}
	error_clear();
	if (bn) {
		struct oci_ref r;
		if (oci_ref_parse(&r, bn, 0) == 0) {
			struct node *b = NULL;
			if (keep_on_primary(md, r.registry))   /* another registry's: not ours */
				b = r.digest ? model_find(md, r.repository, r.digest)
				    : r.tag ? model_tagged(md, r.repository, r.tag) : NULL;
			if (b)
				protect_base(cl, (size_t)(b - md->nodes), name);
			oci_ref_release(&r);
		}
		error_clear();
	}
	for (size_t l = 1; l < m->n_layers; l++) {
		char *key = prefix_key(m, l);
		for (end = table_find(&cl->layers, key, &first); first < end; first++)
			protect_base(cl, cl->layers.v[first].idx, name);
		free(key);
	}
}

static void spread(struct closure *cl, size_t idx)
{
	struct model *md = cl->md;
	struct node *nd = &md->nodes[idx];
	char *name = display(nd), *key;
	size_t first, end;

	for (size_t i = 0; nd->m->kind == OCI_KIND_INDEX && i < nd->m->n_manifests; i++) {
		struct node *c = model_find(md, nd->repo, nd->m->manifests[i].digest);
		if (c)
			protect(cl, (size_t)(c - md->nodes), nd->attachment ? "referrer listed for %s"
			                                                    : "child of index %s", name);
	}
	key = xasprintf("%s@%s", nd->repo, nd->digest);
	for (end = table_find(&cl->subjects, key, &first); first < end; first++) {
		size_t a = cl->subjects.v[first].idx;
		protect(cl, a, md->nodes[a].tags.n && md->nodes[a].m->kind == OCI_KIND_IMAGE
		                   ? "signature or attachment of %s" : "referrer of %s", name);
	}
	free(key);
	if (md->p->protect_base_images)
		protect_bases(cl, idx, name);
	free(name);
}

void keep_closure(struct model *md)
{
	struct closure cl = { .md = md };
	size_t n_children = 0;

	table_init(&cl.layers, md->n);
	table_init(&cl.subjects, md->n);
	table_init(&cl.digests, md->n);
	for (size_t k = 0; k < md->n; k++) {
		const struct node *nd = &md->nodes[k];
		if (nd->m->kind == OCI_KIND_INDEX)
			n_children += nd->m->n_manifests;
	}
	table_init(&cl.parents, n_children);
	for (size_t k = 0; k < md->n; k++) {
		const struct node *nd = &md->nodes[k];
		for (size_t i = 0; nd->m->kind == OCI_KIND_INDEX && i < nd->m->n_manifests; i++)
			table_add(&cl.parents, xasprintf("%s@%s", nd->repo, nd->m->manifests[i].digest), k);
		if (nd->m->kind == OCI_KIND_IMAGE && nd->m->n_layers > 0)
			table_add(&cl.layers, prefix_key(nd->m, nd->m->n_layers), k);
		if (nd->subject)
			table_add(&cl.subjects, xasprintf("%s@%s", nd->repo, nd->subject), k);
		table_add(&cl.digests, xstrdup(nd->digest), k);
	}
	table_sort(&cl.layers);
	table_sort(&cl.subjects);
	table_sort(&cl.digests);
	table_sort(&cl.parents);
	/* Each node enters the queue at most once: when it is first kept. */
	cl.queue = xcalloc(md->n + 1, sizeof(*cl.queue));
	for (size_t k = 0; k < md->n; k++)
		if (md->nodes[k].why != WHY_NONE)
			cl.queue[cl.tail++] = k;
	while (cl.head < cl.tail)
		spread(&cl, cl.queue[cl.head++]);
	free(cl.queue);
	table_release(&cl.layers);
	table_release(&cl.subjects);
	table_release(&cl.digests);
	table_release(&cl.parents);
}
