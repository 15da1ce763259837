/*
 * rv-mkscenario — a whole registry, cluster and policy for the prune
 * planner, with the decisions a correct planner must reach, derived here
 * from how the scenario was built (never by running regvault).
 *
 *   rv-mkscenario --out DIR --now EPOCH --registry HOST:PORT --prefix P
 *                 [--seed N] [--layer-size BYTES] [--standby HOST:PORT/PREFIX]
 *
 * Writes (tests/harness/README.md, "The prune scenario"):
 *   DIR/layout/          OCI layout, every pushed manifest named by its ref.name
 *   DIR/push.tsv         what scenario.sh pushes: ref.name, repository, digest,
 *                        media type, tags (comma-separated, "-" for none),
 *                        how (skopeo | put)
 *   DIR/cluster.json     `kubectl get … -A -o json` of the cluster (a v1 List)
 *   DIR/deployed.txt     a refs file
 *   DIR/policy.yaml      the policy (policy/policy.h), rules from `rules[]` below
 *   DIR/expected.tsv     repository, digest, tags, keep|delete, why-class
 *   DIR/expected.json    the same with kind, created, top, every reason
 *   DIR/expected-summary counts, KEY=VALUE
 *   DIR/scenario.env     SCN_* keys for scripts
 *
 * Same --seed, --now, --registry, --prefix and --layer-size → same bytes.
 * Created times are `now` minus whole hours, at least 6 h away from every
 * age limit of the policy, so a plan made within a few hours of `now`
 * decides the same.
 *
 * THE DECISION RULES (what expected.tsv encodes; see decide()):
 *
 *  - An image is one digest in one repository with all its tags. Every
 *    manifest is in scope: `repositories` is one glob, PREFIX followed by
 *    "/" and a star (fnmatch without FNM_PATHNAME: the star crosses "/").
 *  - Attachments: an image all of whose tags match
 *    ^sha256-[0-9a-f]{64}(\.(sig|att|sbom))?$ (cosign signatures, the
 *    OCI 1.1 referrers fallback index) and the artifacts such an index
 *    lists. No keep rule ever looks at them: they are kept iff their subject
 *    (the digest in the tag, or the `subject` field) is kept, else deleted.
 *  - Top-level: tagged, or untagged and not a child of any index (children
 *    and referrers are not top-level). The summary counts top-level images.
 *  - "Created": the manifest's org.opencontainers.image.created annotation,
 *    else the config's `created`; an index: its newest child.
 *  - Protected (never deleted), strongest first:
 *      deployed  a tag or digest named by a pod container, initContainer,
 *                ephemeralContainer, a pod status imageID, a workload
 *                template (Deployment, also scaled to zero; its current
 *                ReplicaSet; CronJob), or deployed.txt;
 *      rollback  the newest `rollback` (1) ReplicaSet revisions older than
 *                the Deployment's current one (replicas 0);
 *      protect   a tag matching a `protect` glob (repo-glob:tag-glob);
 *      base      the base of a kept image: an image (≥ 1 layer) whose layer
 *                list is a proper prefix of the kept image's, or that a kept
 *                image names in org.opencontainers.image.base.digest;
 *                transitive (a base of a kept base is kept);
 *      referrer  an attachment whose subject is kept;
 *      child     a manifest listed by a kept index.
 *    Protection is applied to a fixpoint over everything kept (by
 *    protection or by a rule).
 *  - Keep rules, a union, only over tagged non-attachment images; rule:N is
 *    the lowest-numbered rule that keeps it (1-based, policy order):
 *      a rule's candidates are images with at least one tag that matches
 *      one of its `tags` globs and none of its `exclude_tags` globs
 *      (fnmatch, no flags); `newest: N` keeps per repository the first N
 *      candidates ordered by created time, newest first, ties broken by
 *      the smallest such tag (strcmp), then by digest; `younger_than: D`
 *      keeps images with now - created < D. (check_margins(): no created
 *      time ties within a repository, no age within 6 h of a limit.)
 *  - Untagged top-level images are governed by `untagged:` only (no keep
 *    rule applies to them): with `untagged: delete` they are deleted unless
 *    protected ("untagged").
 *  - A digest with any kept tag is kept (an image carries all its tags).
 *  - Everything else is deleted ("none").
 *
 * Each image in the tables below also states the class it was built to
 * exercise; the generator stops when what decide() derives differs, so the
 * tables, the rules and the files cannot drift apart.
 */
#include <errno.h>
#include <fnmatch.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ocigen.h"

#define MAX_LAYERS 8
#define MAX_TAGS 4
#define MAX_IMGS 160
#define MAX_REASONS 12
#define HOURS(d, h) ((d) * 24 + (h))

/* ---- the repositories ------------------------------------------------------- */

enum repo_id { R_ALPINE, R_JAVA, R_API, R_BILLING, R_WORKER, N_REPOS };
static const char *const repo_suffix[N_REPOS] = {"base/alpine", "base/java", "svc/api",
						 "svc/billing", "svc/worker"};

/* ---- the policy (written to policy.yaml and interpreted by decide()) -------- */

struct rule {
	const char *tags;    /* one tag glob, or NULL */
	const char *exclude; /* one exclude glob, or NULL */
	int newest;          /* 0: no count */
	int younger_h;       /* 0: no age rule */
};

static const struct rule rules[] = {
	{"latest", NULL, 0, 0},             /* rule 1 */
	{"*-SNAPSHOT*", NULL, 2, 0},        /* rule 2 */
	{"v*", NULL, 0, 0},                 /* rule 3: every release */
	{"*", "*-SNAPSHOT*", 3, 0},         /* rule 4 */
	{NULL, NULL, 0, HOURS(14, 0)},      /* rule 5: younger_than 14d */
};
#define N_RULES (sizeof rules / sizeof rules[0])
#define ROLLBACK 1
#define PROTECT_FMT "%s/base/alpine:3.18" /* the only protect glob; %s = prefix */

/* ---- the images ---------------------------------------------------------------- */

enum kind { K_IMAGE, K_INDEX, K_CHILD, K_SIG, K_FALLBACK, K_ARTIFACT };
static const char *const kind_name[] = {"image", "index", "child", "signature",
					"referrers-index", "artifact"};

/* Why an image is kept, weakest first; the class shown is the strongest. */
enum cls { C_NONE, C_UNTAGGED, C_RULE, C_CHILD, C_REFERRER, C_BASE, C_PROTECT, C_ROLLBACK,
	   C_DEPLOYED };
static const char *const cls_name[] = {"none",     "untagged", "rule",     "child",   "referrer",
				       "base",     "protect",  "rollback", "deployed"};

struct spec {
	const char *id;      /* unique; layer labels and the layout ref.name derive from it */
	enum repo_id repo;
	const char *tags;    /* space-separated; "@" = a fresh git SHA (7 hex); "" = untagged */
	int age_h;           /* config created = now - age_h hours */
	int annot_h;         /* created annotation: -1 none, 0 as config, > 0: now - annot_h */
	const char *from;    /* base image id: its layers come first */
	int base_annot;      /* org.opencontainers.image.base.digest/.name */
	int nown;            /* own layers */
	int sig;             /* a cosign signature tag sha256-<hex>.sig */
	const char *intent;  /* the class it is built to exercise (checked) */
};

/*
 * Ages are distinct within each repository and at least 6 h away from 14 d.
 * Rule 4 (newest 3 of non-SNAPSHOT tags) and rule 2 (newest 2 SNAPSHOTs)
 * are decided by the order of these ages — and for api-a02 by its
 * annotation (2 d) rather than its config (90 d).
 */
static const struct spec specs[] = {
	/* base/alpine: no bases of their own */
	{"al-3.16", R_ALPINE, "3.16", HOURS(350, 1), 0, NULL, 0, 1, 0, "none"},
	{"al-3.17", R_ALPINE, "3.17", HOURS(300, 2), -1, NULL, 0, 1, 0, "deployed"}, /* ephemeral */
	{"al-3.18", R_ALPINE, "3.18", HOURS(250, 3), 0, NULL, 0, 1, 0, "protect"},
	{"al-3.19", R_ALPINE, "3.19", HOURS(200, 4), 0, NULL, 0, 2, 0, "base"},
	{"al-3.20", R_ALPINE, "3.20", HOURS(100, 5), -1, NULL, 0, 1, 0, "rule:4"},
	{"al-3.21", R_ALPINE, "3.21", HOURS(50, 6), 0, NULL, 0, 1, 0, "rule:4"},
	{"al-edge", R_ALPINE, "edge", HOURS(5, 7), 0, NULL, 0, 1, 0, "rule:4"},
	/* base/java: alpine's layers + 1 */
	{"jv-11", R_JAVA, "11", HOURS(240, 1), 0, "al-3.18", 1, 1, 0, "none"},
	{"jv-16", R_JAVA, "16", HOURS(230, 2), -1, "al-3.19", 0, 1, 0, "none"}, /* base of deleted only */
	{"jv-17", R_JAVA, "17", HOURS(190, 3), 0, "al-3.19", 0, 1, 0, "base"},  /* by layer prefix only */
	{"jv-21", R_JAVA, "21", HOURS(180, 4), 0, "al-3.19", 1, 1, 0, "base"},
	{"jv-21.0.1", R_JAVA, "21.0.1", HOURS(90, 5), 0, "al-3.19", 1, 1, 0, "rule:4"},
	{"jv-21.0.2", R_JAVA, "21.0.2", HOURS(60, 6), -1, "al-3.19", 0, 1, 0, "base"}, /* billing */
	{"jv-21.0.3", R_JAVA, "21.0.3", HOURS(30, 7), 0, "al-3.19", 1, 1, 0, "rule:4"},
	/* svc/api: FROM java:21 (the multi-arch `latest` is built in generate()) */
	{"api-a02", R_API, "@", HOURS(90, 2), HOURS(2, 2), "jv-21", 1, 1, 0, "rule:4"},
	{"api-a03", R_API, "@", HOURS(3, 3), 0, "jv-21", 0, 1, 0, "rule:4"},
	{"api-a04", R_API, "@", HOURS(6, 4), -1, "jv-21", 1, 1, 0, "rule:5"},
	{"api-a05", R_API, "@", HOURS(12, 5), 0, "jv-21", 0, 1, 0, "rule:5"}, /* + SBOM referrer */
	{"api-a06", R_API, "@", HOURS(16, 6), 0, "jv-21", 1, 1, 1, "none"},
	{"api-a07", R_API, "@ v1.4.2", HOURS(22, 7), -1, "jv-21", 0, 1, 0, "rule:3"},
	{"api-a08", R_API, "@", HOURS(35, 8), 0, "jv-21", 1, 1, 0, "deployed"}, /* canary pod */
	{"api-a10", R_API, "@ v1.4.1", HOURS(48, 9), 0, "jv-21", 0, 1, 0, "rule:3"},
	{"api-a11", R_API, "v1.4.0", HOURS(55, 10), -1, "jv-21", 1, 1, 0, "rule:3"},
	{"api-a12", R_API, "@", HOURS(70, 11), 0, "jv-21", 0, 1, 1, "none"}, /* + SBOM referrer */
	{"api-a13", R_API, "v1.3.0", HOURS(80, 12), 0, "jv-21", 1, 1, 0, "rule:3"},
	{"api-a14", R_API, "v1.2.0", HOURS(95, 13), -1, "jv-21", 0, 1, 0, "rule:3"},
	{"api-a15", R_API, "v1.1.0", HOURS(105, 14), 0, "jv-21", 0, 1, 0, "rule:3"},
	{"api-a16", R_API, "v1.0.0", HOURS(120, 15), 0, "jv-21", 0, 1, 0, "rule:3"},
	{"api-a17", R_API, "@", HOURS(110, 16), -1, "jv-16", 0, 1, 0, "none"},
	{"api-s1", R_API, "1.5.0-SNAPSHOT", HOURS(0, 12), 0, "jv-21", 0, 1, 0, "rule:2"},
	{"api-s2", R_API, "1.4.3-SNAPSHOT", HOURS(9, 1), 0, "jv-21", 0, 1, 0, "rule:2"},
	{"api-s3", R_API, "1.4.2-SNAPSHOT", HOURS(12, 12), 0, "jv-21", 0, 1, 0, "rule:5"},
	{"api-s4", R_API, "1.4.1-SNAPSHOT", HOURS(30, 2), -1, "jv-21", 0, 1, 0, "none"},
	{"api-s5", R_API, "1.4.0-SNAPSHOT", HOURS(50, 3), 0, "jv-21", 0, 1, 0, "none"},
	/* svc/billing: Deployment payments/billing, revision 7 = b01; 6 = b04; 5 = b05; 4 = b06 */
	{"bil-b01", R_BILLING, "@ latest", HOURS(4, 1), 0, "jv-21.0.2", 1, 1, 1, "deployed"},
	{"bil-b02", R_BILLING, "@", HOURS(8, 2), -1, "jv-21.0.2", 0, 1, 0, "rule:4"},
	{"bil-b03", R_BILLING, "@", HOURS(11, 3), 0, "jv-21.0.2", 0, 1, 0, "rule:4"},
	{"bil-b04", R_BILLING, "@", HOURS(18, 4), 0, "jv-21.0.2", 0, 1, 0, "rollback"},
	{"bil-b05", R_BILLING, "@", HOURS(26, 5), 0, "jv-21.0.2", 0, 1, 1, "none"},
	{"bil-b06", R_BILLING, "@", HOURS(33, 6), -1, "jv-21.0.2", 0, 1, 0, "none"},
	{"bil-b07", R_BILLING, "@ v1.3.0", HOURS(40, 7), 0, "jv-21.0.2", 0, 1, 0, "rule:3"},
	{"bil-b08", R_BILLING, "2024-05-01", HOURS(45, 8), 0, "jv-21.0.2", 0, 1, 0, "none"},
	{"bil-b09", R_BILLING, "@ v1.2.0", HOURS(60, 9), 0, "jv-21.0.2", 1, 1, 0, "rule:3"},
	{"bil-b10", R_BILLING, "", HOURS(75, 10), 0, "jv-21.0.2", 0, 1, 0, "deployed"}, /* by digest */
	{"bil-b11", R_BILLING, "", HOURS(85, 11), -1, "jv-21.0.2", 0, 1, 0, "untagged"},
	{"bil-b12", R_BILLING, "v1.1.0", HOURS(90, 12), 0, "jv-17", 0, 1, 0, "rule:3"},
	{"bil-b13", R_BILLING, "@", HOURS(100, 13), 0, "jv-16", 0, 1, 0, "none"},
	{"bil-b14", R_BILLING, "v1.0.0", HOURS(119, 14), -1, "jv-17", 0, 1, 0, "rule:3"},
	{"bil-s1", R_BILLING, "1.9.0-SNAPSHOT", HOURS(2, 15), 0, "jv-21.0.2", 0, 1, 0, "rule:2"},
	{"bil-s2", R_BILLING, "1.8.0-SNAPSHOT", HOURS(20, 16), 0, "jv-21.0.2", 0, 1, 0, "rule:2"},
	{"bil-s3", R_BILLING, "1.7.0-SNAPSHOT", HOURS(60, 17), 0, "jv-21.0.2", 0, 1, 0, "none"},
	/* svc/worker: FROM java:17, never a base annotation (prefix detection only) */
	{"wrk-w01", R_WORKER, "@ latest", HOURS(2, 1), 0, "jv-17", 0, 1, 1, "deployed"},
	{"wrk-w02", R_WORKER, "@", HOURS(5, 2), 0, "jv-17", 0, 1, 0, "rule:4"},
	{"wrk-w03", R_WORKER, "@", HOURS(9, 3), -1, "jv-17", 0, 1, 0, "rule:4"},
	{"wrk-w04", R_WORKER, "@", HOURS(13, 2), 0, "jv-17", 0, 1, 0, "rule:5"},
	{"wrk-w05", R_WORKER, "@", HOURS(28, 5), 0, "jv-17", 0, 1, 0, "deployed"}, /* scaled to 0 */
	{"wrk-w06", R_WORKER, "@", HOURS(38, 6), 0, "jv-17", 0, 1, 1, "none"},
	{"wrk-w08", R_WORKER, "@", HOURS(64, 8), -1, "jv-17", 0, 1, 0, "deployed"}, /* init */
	{"wrk-w09", R_WORKER, "@", HOURS(81, 9), 0, "jv-17", 0, 1, 0, "deployed"},  /* refs file */
	{"wrk-w10", R_WORKER, "", HOURS(20, 10), 0, "jv-17", 0, 1, 0, "deployed"},  /* imageID */
	{"wrk-w11", R_WORKER, "v1.0.0", HOURS(100, 11), 0, "jv-17", 0, 1, 0, "rule:3"},
	{"wrk-w12", R_WORKER, "v1.1.0", HOURS(70, 12), -1, "jv-17", 0, 1, 0, "rule:3"},
	{"wrk-w13", R_WORKER, "@ v1.2.0", HOURS(30, 13), 0, "jv-17", 0, 1, 0, "rule:3"},
	{"wrk-w14", R_WORKER, "@", HOURS(95, 14), 0, "jv-17", 0, 1, 0, "none"},
	{"wrk-s1", R_WORKER, "3.1.0-SNAPSHOT", HOURS(1, 1), 0, "jv-17", 0, 1, 0, "rule:2"},
	{"wrk-s2", R_WORKER, "3.0.1-SNAPSHOT", HOURS(3, 2), 0, "jv-17", 0, 1, 0, "rule:2"},
	{"wrk-s3", R_WORKER, "3.0.0-SNAPSHOT", HOURS(40, 3), 0, "jv-17", 0, 1, 0, "deployed"}, /* CronJob */
	{"wrk-s4", R_WORKER, "2.9.0-SNAPSHOT", HOURS(70, 4), -1, "jv-17", 0, 1, 0, "none"},
};
#define N_SPECS (sizeof specs / sizeof specs[0])

struct img {
	char id[64];
	enum repo_id repo;
	enum kind kind;
	char *tags[MAX_TAGS];
	size_t ntags;
	int untagged_top;          /* pushed by digest */
	int64_t created;           /* effective; 0 unknown (attachments) */
	struct desc manifest, config;
	size_t nlayers;
	struct desc layers[MAX_LAYERS];
	char diff_ids[MAX_LAYERS][DIGEST_MAX];
	int base;                  /* image named by base.digest, or -1 */
	int subject;               /* attachments: the image they are about, or -1 */
	int children[2];
	size_t nchildren;
	int parent;                /* the index listing it, or -1 */
	long long size;            /* manifest + config + layers (+ children) */
	const char *intent;        /* NULL: derived (children, attachments) */
	/* decisions */
	enum cls cls;
	int rule;                  /* lowest keep rule, 1-based; 0 none */
	json_t *reasons;
};

struct scn {
	struct layout lay;
	const char *out, *registry, *prefix, *standby;
	int64_t now;
	long long layer_size;
	struct img imgs[MAX_IMGS];
	size_t n;
};

/* ---- small helpers ----------------------------------------------------------- */

static char *xstrdup(const char *s)
{
	size_t n = strlen(s) + 1;
	char *p = xrealloc(NULL, n);
	memcpy(p, s, n);
	return p;
}

static void rfc3339(int64_t t, char out[32])
{
	time_t tt = (time_t)t;
	struct tm tm;
	if (!gmtime_r(&tt, &tm) || !strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm))
		die("bad time %lld", (long long)t);
}

static const char *repo_path(const struct scn *s, enum repo_id r, char *out, size_t n)
{
	snprintf(out, n, "%s/%s", s->prefix, repo_suffix[r]);
	return out;
}

static struct img *img_by_id(struct scn *s, const char *id)
{
	for (size_t i = 0; i < s->n; i++)
		if (!strcmp(s->imgs[i].id, id))
			return &s->imgs[i];
	die("no image \"%s\"", id);
}

static int img_index(const struct scn *s, const struct img *im)
{
	return (int)(im - s->imgs);
}

static struct img *img_new(struct scn *s, const char *id, enum repo_id repo, enum kind kind)
{
	struct img *im;
	if (s->n == MAX_IMGS)
		die("too many images");
	im = &s->imgs[s->n++];
	memset(im, 0, sizeof *im);
	snprintf(im->id, sizeof im->id, "%s", id);
	im->repo = repo;
	im->kind = kind;
	im->base = im->subject = im->parent = -1;
	im->reasons = json_array();
	return im;
}

static void img_tag(struct img *im, const char *tag)
{
	if (im->ntags == MAX_TAGS)
		die("%s: too many tags", im->id);
	im->tags[im->ntags++] = xstrdup(tag);
}

/* The image's git-SHA tag (7 hex). */
static const char *img_sha(const struct img *im)
{
	for (size_t i = 0; i < im->ntags; i++)
		if (strlen(im->tags[i]) == 7 && strspn(im->tags[i], "0123456789abcdef") == 7)
			return im->tags[i];
	die("%s has no git SHA tag", im->id);
}

/* A fresh 7-hex git SHA, keyed by seed and id, unique in the repository. */
static void git_sha(struct scn *s, const struct img *im, char out[8])
{
	uint64_t rng = s->lay.seed ^ 0x6a09e667f3bcc908ULL;
	for (const char *p = im->id; *p; p++)
		rng = rng * 1099511628211ULL ^ (unsigned char)*p;
	for (;;) {
		int clash = 0;
		snprintf(out, 8, "%07llx", (unsigned long long)(prng_next(&rng) & 0xfffffffULL));
		for (size_t i = 0; i < s->n && !clash; i++)
			for (size_t t = 0; t < s->imgs[i].ntags; t++)
				if (s->imgs[i].repo == im->repo && !strcmp(s->imgs[i].tags[t], out))
					clash = 1;
		if (!clash)
			return;
	}
}

static void reason(struct img *im, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void reason(struct img *im, const char *fmt, ...)
{
	char b[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(b, sizeof b, fmt, ap);
	va_end(ap);
	json_array_append_new(im->reasons, json_string(b));
}

/* Raise im's class to c: the strongest reason names the class. */
static void mark(struct img *im, enum cls c)
{
	if (c > im->cls)
		im->cls = c;
}

/* ---- building images ------------------------------------------------------- */

static json_t *image_config(const char *id, const char *created, const char *arch,
			    const char *variant, const struct img *im)
{
	json_t *diff_ids = json_array(), *history = json_array();
	for (size_t i = 0; i < im->nlayers; i++) {
		char by[160];
		json_array_append_new(diff_ids, json_string(im->diff_ids[i]));
		snprintf(by, sizeof by, "/bin/sh -c #(nop) ADD layer %zu of %s", i, id);
		json_array_append_new(history, json_pack("{s:s, s:s}", "created", created,
							 "created_by", by));
	}
	json_t *cfg = json_pack("{s:s, s:s, s:s}", "created", created, "architecture", arch,
				"os", "linux");
	if (variant)
		json_object_set_new(cfg, "variant", json_string(variant));
	json_object_set_new(cfg, "config",
			    json_pack("{s:[s], s:[s], s:s}", "Env",
				      "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin",
				      "Cmd", "/bin/sh", "WorkingDir", "/"));
	json_object_set_new(cfg, "rootfs", json_pack("{s:s, s:o}", "type", "layers",
						     "diff_ids", diff_ids));
	json_object_set_new(cfg, "history", history);
	return cfg;
}

/*
 * An OCI image: base's layers, then `nown` layers of its own; config created
 * = now - age_h; annotations: created (annot_h, see struct spec), and
 * base.digest/base.name when base_annot.
 */
static void build_image(struct scn *s, struct img *im, int age_h, int annot_h,
			struct img *base, int base_annot, int nown, const char *arch,
			const char *variant)
{
	char created[32], label[128], bname[512], rp[300];
	json_t *m, *layers, *ann;

	rfc3339(s->now - (int64_t)age_h * 3600, created);
	im->created = s->now - (int64_t)age_h * 3600;
	if (base) {
		im->nlayers = base->nlayers;
		memcpy(im->layers, base->layers, sizeof im->layers);
		memcpy(im->diff_ids, base->diff_ids, sizeof im->diff_ids);
	}
	if (im->nlayers + (size_t)nown > MAX_LAYERS)
		die("%s: too many layers", im->id);
	for (int i = 0; i < nown; i++) {
		snprintf(label, sizeof label, "%s-%d", im->id, i);
		make_layer(&s->lay, MT_OCI_LAYER_GZ, label, s->layer_size * (1 + i % 2),
			   &im->layers[im->nlayers], im->diff_ids[im->nlayers]);
		im->nlayers++;
	}
	json_blob(&s->lay, MT_OCI_CONFIG, image_config(im->id, created, arch, variant, im),
		  &im->config);

	layers = json_array();
	for (size_t i = 0; i < im->nlayers; i++)
		json_array_append_new(layers, desc_json(&im->layers[i]));
	m = json_pack("{s:i, s:s, s:o, s:o}", "schemaVersion", 2, "mediaType", MT_OCI_MANIFEST,
		      "config", desc_json(&im->config), "layers", layers);
	ann = json_object();
	if (annot_h >= 0) {
		char ac[32];
		int64_t t = annot_h ? s->now - (int64_t)annot_h * 3600 : im->created;
		rfc3339(t, ac);
		json_object_set_new(ann, "org.opencontainers.image.created", json_string(ac));
		im->created = t; /* the annotation wins */
	}
	if (base && base_annot) {
		snprintf(bname, sizeof bname, "%s/%s:%s", s->registry,
			 repo_path(s, base->repo, rp, sizeof rp), base->tags[0]);
		json_object_set_new(ann, "org.opencontainers.image.base.digest",
				    json_string(base->manifest.digest));
		json_object_set_new(ann, "org.opencontainers.image.base.name", json_string(bname));
		im->base = img_index(s, base);
	}
	if (json_object_size(ann))
		json_object_set_new(m, "annotations", ann);
	else
		json_decref(ann);
	json_blob(&s->lay, MT_OCI_MANIFEST, m, &im->manifest);
	im->size = im->manifest.size + im->config.size;
	for (size_t i = 0; i < im->nlayers; i++)
		im->size += im->layers[i].size;
}

static void build_from_spec(struct scn *s, const struct spec *sp)
{
	struct img *im = img_new(s, sp->id, sp->repo, K_IMAGE);
	struct img *base = sp->from ? img_by_id(s, sp->from) : NULL;
	char words[128], *save = NULL;

	im->intent = sp->intent;
	snprintf(words, sizeof words, "%s", sp->tags);
	for (char *w = strtok_r(words, " ", &save); w; w = strtok_r(NULL, " ", &save)) {
		if (!strcmp(w, "@")) {
			char sha[8];
			git_sha(s, im, sha);
			img_tag(im, sha);
		} else {
			img_tag(im, w);
		}
	}
	im->untagged_top = im->ntags == 0;
	build_image(s, im, sp->age_h, sp->annot_h, base, sp->base_annot, sp->nown, "amd64", NULL);
}

/* The multi-arch `latest` of svc/api: amd64 FROM java:21 (annotated), arm64
 * standalone; the index's created time is its newest child's. */
static struct img *build_api_index(struct scn *s)
{
	struct img *amd = img_new(s, "api-idx-amd64", R_API, K_CHILD);
	build_image(s, amd, HOURS(1, 1), 0, img_by_id(s, "jv-21"), 1, 1, "amd64", NULL);
	struct img *arm = img_new(s, "api-idx-arm64", R_API, K_CHILD);
	build_image(s, arm, HOURS(1, 2), -1, NULL, 0, 2, "arm64", "v8");

	struct img *idx = img_new(s, "api-idx", R_API, K_INDEX);
	char sha[8];
	json_t *list = json_array();
	const struct img *kids[2] = {amd, arm};
	for (int i = 0; i < 2; i++) {
		json_t *d = desc_json(&kids[i]->manifest);
		json_t *plat = json_pack("{s:s, s:s}", "architecture", i ? "arm64" : "amd64", "os",
					 "linux");
		if (i)
			json_object_set_new(plat, "variant", json_string("v8"));
		json_object_set_new(d, "platform", plat);
		json_array_append_new(list, d);
	}
	json_blob(&s->lay, MT_OCI_INDEX,
		  json_pack("{s:i, s:s, s:o}", "schemaVersion", 2, "mediaType", MT_OCI_INDEX,
			    "manifests", list),
		  &idx->manifest);
	idx->intent = "deployed"; /* `latest`: the web/api pods and Deployment */
	img_tag(idx, "latest");
	git_sha(s, idx, sha);
	img_tag(idx, sha);
	idx->created = amd->created > arm->created ? amd->created : arm->created;
	idx->children[0] = img_index(s, amd);
	idx->children[1] = img_index(s, arm);
	idx->nchildren = 2;
	amd->parent = arm->parent = img_index(s, idx);
	idx->size = idx->manifest.size + amd->size + arm->size;
	return idx;
}

/* cosign's "simple signing" signature manifest for `subj`, tagged
 * sha256-<hex>.sig in the same repository (not a valid signature). */
static void build_signature(struct scn *s, struct img *subj)
{
	char id[80], tag[DIGEST_MAX + 8], rp[300], dref[600];
	struct desc payload, cfg;
	unsigned char sig[64], b64[128];
	uint64_t rng = s->lay.seed ^ 0x5157ULL;
	json_t *doc, *layer, *m;
	char *txt;

	snprintf(id, sizeof id, "%s-sig", subj->id);
	struct img *im = img_new(s, id, subj->repo, K_SIG);
	snprintf(dref, sizeof dref, "%s/%s", s->registry, repo_path(s, subj->repo, rp, sizeof rp));
	doc = json_pack("{s:{s:{s:s}, s:{s:s}, s:s}, s:n}", "critical", "identity",
			"docker-reference", dref, "image", "docker-manifest-digest",
			subj->manifest.digest, "type", "cosign container image signature",
			"optional");
	txt = json_dumps(doc, JSON_COMPACT | JSON_PRESERVE_ORDER);
	blob_put(&s->lay, MT_COSIGN_SIMPLESIGNING, txt, strlen(txt), &payload);
	free(txt);
	json_decref(doc);
	json_blob(&s->lay, MT_OCI_CONFIG,
		  json_pack("{s:s, s:s, s:[{s:s}], s:s, s:{s:s, s:[s]}, s:{}}", "architecture", "",
			    "created", "0001-01-01T00:00:00Z", "history", "created",
			    "0001-01-01T00:00:00Z", "os", "", "rootfs", "type", "layers",
			    "diff_ids", payload.digest, "config"),
		  &cfg);
	for (const char *p = id; *p; p++)
		rng = rng * 1099511628211ULL ^ (unsigned char)*p;
	prng_fill(&rng, sig, sizeof sig);
	EVP_EncodeBlock(b64, sig, (int)sizeof sig);
	layer = desc_json(&payload);
	json_object_set_new(layer, "annotations",
			    json_pack("{s:s}", "dev.cosignproject.cosign/signature", (char *)b64));
	m = json_pack("{s:i, s:s, s:o, s:[o]}", "schemaVersion", 2, "mediaType", MT_OCI_MANIFEST,
		      "config", desc_json(&cfg), "layers", layer);
	json_blob(&s->lay, MT_OCI_MANIFEST, m, &im->manifest);
	im->config = cfg;
	im->nlayers = 1;
	im->layers[0] = payload;
	im->size = im->manifest.size + cfg.size + payload.size;
	snprintf(tag, sizeof tag, "sha256-%.64s.sig", subj->manifest.digest + 7);
	img_tag(im, tag);
	im->subject = img_index(s, subj);
}

/* An OCI 1.1 SBOM artifact (subject = subj) and, since the registry has no
 * referrers API, the fallback index tagged sha256-<subject hex> listing it. */
static void build_referrer(struct scn *s, struct img *subj)
{
	char id[80], tag[DIGEST_MAX + 8], created[32];
	struct desc empty, sbom;
	json_t *doc, *layer, *m, *d;
	char *txt;

	snprintf(id, sizeof id, "%s-sbom", subj->id);
	struct img *art = img_new(s, id, subj->repo, K_ARTIFACT);
	blob_put(&s->lay, MT_OCI_EMPTY, "{}", 2, &empty);
	doc = json_pack("{s:s, s:s, s:[{s:s, s:s}]}", "spdxVersion", "SPDX-2.3", "name",
			subj->id, "packages", "name", "busybox", "versionInfo", "1.36.1");
	txt = json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	blob_put(&s->lay, MT_SBOM, txt, strlen(txt), &sbom);
	free(txt);
	json_decref(doc);
	layer = desc_json(&sbom);
	json_object_set_new(layer, "annotations",
			    json_pack("{s:s}", "org.opencontainers.image.title", "sbom.json"));
	rfc3339(subj->created + 600, created);
	m = json_pack("{s:i, s:s, s:s, s:o, s:[o], s:o, s:{s:s}}", "schemaVersion", 2,
		      "mediaType", MT_OCI_MANIFEST, "artifactType", MT_SBOM, "config",
		      desc_json(&empty), "layers", layer, "subject", desc_json(&subj->manifest),
		      "annotations", "org.opencontainers.image.created", created);
	json_blob(&s->lay, MT_OCI_MANIFEST, m, &art->manifest);
	art->config = empty;
	art->nlayers = 1;
	art->layers[0] = sbom;
	art->size = art->manifest.size + empty.size + sbom.size;
	art->subject = img_index(s, subj);
	art->created = subj->created + 600;

	snprintf(id, sizeof id, "%s-referrers", subj->id);
	struct img *fb = img_new(s, id, subj->repo, K_FALLBACK);
	d = desc_json(&art->manifest);
	json_object_set_new(d, "artifactType", json_string(MT_SBOM));
	json_object_set_new(d, "annotations", json_pack("{s:s}", "org.opencontainers.image.created",
							created));
	json_blob(&s->lay, MT_OCI_INDEX,
		  json_pack("{s:i, s:s, s:[o]}", "schemaVersion", 2, "mediaType", MT_OCI_INDEX,
			    "manifests", d),
		  &fb->manifest);
	snprintf(tag, sizeof tag, "sha256-%.64s", subj->manifest.digest + 7);
	img_tag(fb, tag);
	fb->subject = img_index(s, subj);
	fb->children[0] = img_index(s, art);
	fb->nchildren = 1;
	art->parent = img_index(s, fb);
	fb->size = fb->manifest.size + art->size;
}

/* ---- the cluster ----------------------------------------------------------- */

/* "HOST/P/REPO:TAG" or "HOST/P/REPO@DIGEST" for an image. */
static char *ref_tag(const struct scn *s, const struct img *im, const char *tag)
{
	char rp[300], out[700];
	snprintf(out, sizeof out, "%s/%s:%s", s->registry, repo_path(s, im->repo, rp, sizeof rp),
		 tag);
	return xstrdup(out);
}

static char *ref_digest(const struct scn *s, const struct img *im)
{
	char rp[300], out[700];
	snprintf(out, sizeof out, "%s/%s@%s", s->registry,
		 repo_path(s, im->repo, rp, sizeof rp), im->manifest.digest);
	return xstrdup(out);
}

/* "docker-pullable://REF": the dockershim form of a status imageID. */
static char *pullable(char *ref)
{
	size_t n = strlen(ref) + sizeof "docker-pullable://";
	char *p = xrealloc(NULL, n);
	snprintf(p, n, "docker-pullable://%s", ref);
	free(ref);
	return p;
}

/* The scenario protects im as deployed (or rollback) because of `where`. */
static void deploy(struct img *im, enum cls c, const char *where)
{
	mark(im, c);
	reason(im, "%s: %s", c == C_ROLLBACK ? "rollback" : "deployed", where);
}

static json_t *container(const char *name, char *image)
{
	json_t *c = json_pack("{s:s, s:s, s:s, s:{}, s:s, s:s}", "name", name, "image", image,
			      "imagePullPolicy", "IfNotPresent", "resources",
			      "terminationMessagePath", "/dev/termination-log",
			      "terminationMessagePolicy", "File");
	free(image);
	return c;
}

static json_t *cstatus(const char *name, const char *image, char *image_id)
{
	json_t *c = json_pack("{s:s, s:s, s:s, s:b, s:i, s:b, s:{s:{s:s}}}", "name", name,
			      "image", image, "imageID", image_id, "ready", 1, "restartCount", 0,
			      "started", 1, "state", "running", "startedAt",
			      "2024-06-01T08:00:00Z");
	free(image_id);
	return c;
}

static json_t *metadata(const char *ns, const char *name, const char *revision,
			const char *owner_kind, const char *owner)
{
	json_t *m = json_pack("{s:s, s:s, s:s, s:s}", "name", name, "namespace", ns,
			      "creationTimestamp", "2024-05-20T10:00:00Z", "uid", name);
	if (revision)
		json_object_set_new(m, "annotations",
				    json_pack("{s:s}", "deployment.kubernetes.io/revision",
					      revision));
	if (owner)
		json_object_set_new(m, "ownerReferences",
				    json_pack("[{s:s, s:s, s:s, s:s, s:b, s:b}]", "apiVersion",
					      "apps/v1", "kind",
					      owner_kind, "name", owner, "uid", owner, "controller", 1,
					      "blockOwnerDeletion", 1));
	return m;
}

static json_t *template_of(const char *app, json_t *containers)
{
	return json_pack("{s:{s:{s:s}}, s:{s:o, s:s, s:i}}", "metadata", "labels", "app", app,
			 "spec", "containers", containers, "restartPolicy", "Always",
			 "terminationGracePeriodSeconds", 30);
}

static json_t *workload(const char *kind, json_t *meta, int replicas, json_t *tmpl)
{
	json_t *o = json_pack("{s:s, s:s, s:o, s:{s:i, s:o}}", "apiVersion", "apps/v1", "kind",
			      kind, "metadata", meta, "spec", "replicas", replicas, "template",
			      tmpl);
	json_object_set_new(o, "status", json_pack("{s:i, s:i}", "replicas", replicas,
						   "readyReplicas", replicas));
	return o;
}

static json_t *pod(json_t *meta, json_t *spec, json_t *status)
{
	json_object_set_new(spec, "restartPolicy", json_string("Always"));
	json_object_set_new(status, "phase", json_string("Running"));
	return json_pack("{s:s, s:s, s:o, s:o, s:o}", "apiVersion", "v1", "kind", "Pod",
			 "metadata", meta, "spec", spec, "status", status);
}

static void write_json(const struct scn *s, const char *name, json_t *doc)
{
	char path[4300];
	char *txt = json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	if (!txt)
		die("json_dumps failed");
	snprintf(path, sizeof path, "%s/%s", s->out, name);
	size_t n = strlen(txt);
	txt = xrealloc(txt, n + 2);
	txt[n] = '\n';
	write_file(path, txt, n + 1);
	free(txt);
	json_decref(doc);
}

/*
 * cluster.json: what regvault reads as deployed, and deploy() records it
 * for the expectations at the same place. Images of other registries
 * (istio, pause) are not in scope and must be ignored.
 */
static void write_cluster(struct scn *s)
{
	json_t *items = json_array();
	struct img *idx = img_by_id(s, "api-idx"), *a08 = img_by_id(s, "api-a08");
	struct img *al317 = img_by_id(s, "al-3.17");
	struct img *b01 = img_by_id(s, "bil-b01"), *b10 = img_by_id(s, "bil-b10");
	struct img *w01 = img_by_id(s, "wrk-w01"), *w05 = img_by_id(s, "wrk-w05");
	struct img *w08 = img_by_id(s, "wrk-w08"), *w10 = img_by_id(s, "wrk-w10");
	struct img *ws3 = img_by_id(s, "wrk-s3");
	const char *istio = "docker.io/istio/proxyv2:1.20.0";
	const char *istio_id = "docker-pullable://docker.io/istio/proxyv2@sha256:"
			       "0a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f9";
	char where[256];

	/* web/api: Deployment (revision 12) → ReplicaSet → pod, image api:latest
	 * (the multi-arch index), with an istio sidecar; the pod's imageID
	 * (dockershim form) names the index digest. */
	json_array_append_new(
		items, workload("Deployment", metadata("web", "api", "12", NULL, NULL), 2,
				template_of("api", json_pack("[o, o]",
						   container("api", ref_tag(s, idx, "latest")),
						   container("istio-proxy", xstrdup(istio))))));
	deploy(idx, C_DEPLOYED, "deployment web/api");
	json_array_append_new(
		items,
		workload("ReplicaSet", metadata("web", "api-7f9c6d5b4", "12", "Deployment", "api"),
			 2,
			 template_of("api", json_pack("[o, o]",
					    container("api", ref_tag(s, idx, "latest")),
					    container("istio-proxy", xstrdup(istio))))));
	deploy(idx, C_DEPLOYED, "replicaset web/api-7f9c6d5b4 (revision 12)");
	{
		char *img = ref_tag(s, idx, "latest");
		char *pid = pullable(ref_digest(s, idx));
		json_array_append_new(
			items,
			pod(metadata("web", "api-7f9c6d5b4-x8k2p", NULL, "ReplicaSet",
				     "api-7f9c6d5b4"),
			    json_pack("{s:[o, o]}", "containers", container("api", xstrdup(img)),
				      container("istio-proxy", xstrdup(istio))),
			    json_pack("{s:[o, o]}", "containerStatuses", cstatus("api", img, pid),
				      cstatus("istio-proxy", istio, xstrdup(istio_id)))));
		free(img);
		deploy(idx, C_DEPLOYED, "pod web/api-7f9c6d5b4-x8k2p container api");
		deploy(idx, C_DEPLOYED, "pod web/api-7f9c6d5b4-x8k2p status api");
	}
	/* web/api-canary: a bare pod on an old SHA, with an ephemeral debug
	 * container on alpine:3.17 (kubectl debug). */
	{
		char *img = ref_tag(s, a08, img_sha(a08)), *dbg = ref_tag(s, al317, "3.17");
		char *pid = pullable(ref_digest(s, a08)), *pdid = pullable(ref_digest(s, al317));
		json_t *eph = container("debugger", xstrdup(dbg));
		json_object_set_new(eph, "targetContainerName", json_string("api"));
		json_array_append_new(
			items,
			pod(metadata("web", "api-canary", NULL, NULL, NULL),
			    json_pack("{s:[o], s:[o]}", "containers", container("api", xstrdup(img)),
				      "ephemeralContainers", eph),
			    json_pack("{s:[o], s:[o]}", "containerStatuses", cstatus("api", img, pid),
				      "ephemeralContainerStatuses",
				      cstatus("debugger", dbg, pdid))));
		free(img);
		free(dbg);
		deploy(a08, C_DEPLOYED, "pod web/api-canary container api");
		deploy(al317, C_DEPLOYED, "pod web/api-canary ephemeralContainer debugger");
	}

	/* payments/billing: Deployment at revision 7 and four ReplicaSets; the
	 * three older ones are scaled to 0; rollback 1 keeps revision 6 only. */
	static const struct {
		const char *rs, *rev, *img;
		int replicas;
	} hist[] = {
		{"billing-6d5f7c9b8", "7", "bil-b01", 3},
		{"billing-5c4b8d7f6", "6", "bil-b04", 0},
		{"billing-7b9d4c5f2", "5", "bil-b05", 0},
		{"billing-84f6d9c7b", "4", "bil-b06", 0},
	};
	json_array_append_new(
		items, workload("Deployment", metadata("payments", "billing", "7", NULL, NULL), 3,
				template_of("billing", json_pack("[o]", container("billing",
							ref_tag(s, b01, img_sha(b01)))))));
	deploy(b01, C_DEPLOYED, "deployment payments/billing");
	int older = 0;
	for (size_t i = 0; i < sizeof hist / sizeof hist[0]; i++) {
		struct img *im = img_by_id(s, hist[i].img);
		json_array_append_new(
			items, workload("ReplicaSet",
					metadata("payments", hist[i].rs, hist[i].rev, "Deployment",
						 "billing"),
					hist[i].replicas,
					template_of("billing", json_pack("[o]", container("billing",
							ref_tag(s, im, img_sha(im)))))));
		if (i == 0) {
			snprintf(where, sizeof where, "replicaset payments/%s (revision %s)",
				 hist[i].rs, hist[i].rev);
			deploy(im, C_DEPLOYED, where);
		} else if (older++ < ROLLBACK) {
			snprintf(where, sizeof where, "replicaset payments/%s (revision %s, rollback)",
				 hist[i].rs, hist[i].rev);
			deploy(im, C_ROLLBACK, where);
		}
	}
	{
		char *img = ref_tag(s, b01, img_sha(b01)), *pid = pullable(ref_digest(s, b01));
		json_array_append_new(
			items, pod(metadata("payments", "billing-6d5f7c9b8-q7w4z", NULL, "ReplicaSet",
					    "billing-6d5f7c9b8"),
				   json_pack("{s:[o]}", "containers", container("billing", xstrdup(img))),
				   json_pack("{s:[o]}", "containerStatuses",
					     cstatus("billing", img, pid))));
		free(img);
		deploy(b01, C_DEPLOYED, "pod payments/billing-6d5f7c9b8-q7w4z container billing");
	}
	/* A digest-pinned pod on an image no tag names any more. */
	{
		char *img = ref_digest(s, b10), *id = ref_digest(s, b10);
		json_array_append_new(
			items, pod(metadata("payments", "billing-debug", NULL, NULL, NULL),
				   json_pack("{s:[o]}", "containers", container("billing", xstrdup(img))),
				   json_pack("{s:[o]}", "containerStatuses",
					     cstatus("billing", img, id))));
		free(img);
		deploy(b10, C_DEPLOYED, "pod payments/billing-debug container billing");
	}

	/* jobs/worker: a Deployment scaled to zero (and its current ReplicaSet). */
	json_array_append_new(
		items, workload("Deployment", metadata("jobs", "worker", "3", NULL, NULL), 0,
				template_of("worker", json_pack("[o]", container("worker",
							ref_tag(s, w05, img_sha(w05)))))));
	deploy(w05, C_DEPLOYED, "deployment jobs/worker");
	json_array_append_new(
		items, workload("ReplicaSet", metadata("jobs", "worker-5f8d9b7c6", "3", "Deployment",
						       "worker"),
				0, template_of("worker", json_pack("[o]", container("worker",
							ref_tag(s, w05, img_sha(w05)))))));
	deploy(w05, C_DEPLOYED, "replicaset jobs/worker-5f8d9b7c6 (revision 3)");
	/* jobs/nightly-report: a CronJob on an old SNAPSHOT. */
	json_array_append_new(
		items,
		json_pack("{s:s, s:s, s:o, s:{s:s, s:{s:{s:o}}}}", "apiVersion", "batch/v1", "kind",
			  "CronJob", "metadata", metadata("jobs", "nightly-report", NULL, NULL, NULL),
			  "spec", "schedule", "0 3 * * *", "jobTemplate", "spec", "template",
			  template_of("report", json_pack("[o]", container("report",
						ref_tag(s, ws3, "3.0.0-SNAPSHOT"))))));
	deploy(ws3, C_DEPLOYED, "cronjob jobs/nightly-report");
	/* jobs/queue-consumer: an initContainer on an old SHA; the container
	 * asked for worker:latest but runs the digest `latest` named when it
	 * started (containerd form, no scheme): that image is untagged now. */
	{
		char *init = ref_tag(s, w08, img_sha(w08)), *main_img = ref_tag(s, w01, "latest");
		char *pinit = pullable(ref_digest(s, w08)), *run_id = ref_digest(s, w10);
		json_t *initc = cstatus("migrate", init, pinit);
		json_object_set_new(initc, "state",
				    json_pack("{s:{s:i, s:s}}", "terminated", "exitCode", 0, "reason",
					      "Completed"));
		json_array_append_new(
			items, pod(metadata("jobs", "queue-consumer", NULL, NULL, NULL),
				   json_pack("{s:[o], s:[o]}", "initContainers",
					     container("migrate", xstrdup(init)), "containers",
					     container("consumer", xstrdup(main_img))),
				   json_pack("{s:[o], s:[o]}", "initContainerStatuses", initc,
					     "containerStatuses",
					     cstatus("consumer", main_img, run_id))));
		free(init);
		free(main_img);
		deploy(w08, C_DEPLOYED, "pod jobs/queue-consumer initContainer migrate");
		deploy(w01, C_DEPLOYED, "pod jobs/queue-consumer container consumer");
		deploy(w10, C_DEPLOYED, "pod jobs/queue-consumer status consumer");
	}
	/* Something without images. */
	json_array_append_new(items, json_pack("{s:s, s:s, s:o, s:{s:[{s:i}]}}", "apiVersion", "v1",
					       "kind", "Service", "metadata",
					       metadata("web", "api", NULL, NULL, NULL), "spec",
					       "ports", "port", 80));

	write_json(s, "cluster.json",
		   json_pack("{s:s, s:o, s:s, s:{s:s}}", "apiVersion", "v1", "items", items, "kind",
			     "List", "metadata", "resourceVersion", ""));
}

static void write_refs(struct scn *s)
{
	struct img *w09 = img_by_id(s, "wrk-w09");
	char path[4300], *r = ref_tag(s, w09, img_sha(w09));
	FILE *f;

	snprintf(path, sizeof path, "%s/deployed.txt", s->out);
	if (!(f = fopen(path, "w")))
		die("cannot create \"%s\": %s", path, strerror(errno));
	fprintf(f, "# Images deployed outside Kubernetes (rv-mkscenario)\n\n"
		   "%s   # the batch host\n"
		   "docker.io/library/nginx:1.25\n",
		r);
	if (fclose(f))
		die("cannot write \"%s\"", path);
	deploy(w09, C_DEPLOYED, "deployed.txt:3");
	free(r);
}

static void write_policy(const struct scn *s)
{
	char path[4300];
	FILE *f;

	snprintf(path, sizeof path, "%s/policy.yaml", s->out);
	if (!(f = fopen(path, "w")))
		die("cannot create \"%s\": %s", path, strerror(errno));
	fprintf(f, "# rv-mkscenario: the policy expected.tsv was derived for\n"
		   "version: 1\n"
		   "registry: %s\n"
		   "repositories: [\"%s/*\"]\n"
		   "safekeeping:\n"
		   "  archive: %s/vault\n",
		s->registry, s->prefix, s->out);
	if (s->standby)
		fprintf(f, "  registry: %s\n", s->standby);
	fprintf(f, "deployed:\n"
		   "  - kubernetes-json: cluster.json\n"
		   "  - refs-file: deployed.txt\n"
		   "rollback: %d\n"
		   "protect_base_images: true\n"
		   "protect: [\"" PROTECT_FMT "\"]\n"
		   "keep:\n",
		ROLLBACK, s->prefix);
	for (size_t i = 0; i < N_RULES; i++) {
		const struct rule *r = &rules[i];
		const char *lead = "  - ";
		fprintf(f, "  # rule %zu\n", i + 1);
		if (r->tags) {
			fprintf(f, "%stags: [\"%s\"]\n", lead, r->tags);
			lead = "    ";
		}
		if (r->exclude) {
			fprintf(f, "%sexclude_tags: [\"%s\"]\n", lead, r->exclude);
			lead = "    ";
		}
		if (r->newest) {
			fprintf(f, "%snewest: %d\n", lead, r->newest);
			lead = "    ";
		}
		if (r->younger_h) {
			if (r->younger_h % 24)
				fprintf(f, "%syounger_than: %dh\n", lead, r->younger_h);
			else
				fprintf(f, "%syounger_than: %dd\n", lead, r->younger_h / 24);
		}
	}
	fprintf(f, "untagged: delete\n"
		   "max_delete: 90%%\n");
	if (fclose(f))
		die("cannot write \"%s\"", path);
}

/* ---- the decisions ----------------------------------------------------------- */

static int is_attachment_tag(const char *t)
{
	if (strncmp(t, "sha256-", 7) || strspn(t + 7, "0123456789abcdef") != 64)
		return 0;
	t += 7 + 64;
	return !*t || !strcmp(t, ".sig") || !strcmp(t, ".att") || !strcmp(t, ".sbom");
}

static int is_attachment(const struct img *im)
{
	if (im->kind == K_ARTIFACT)
		return 1;
	if (!im->ntags)
		return 0;
	for (size_t i = 0; i < im->ntags; i++)
		if (!is_attachment_tag(im->tags[i]))
			return 0;
	return 1;
}

static int is_top(const struct img *im)
{
	return im->ntags > 0 || im->parent < 0;
}

/* The smallest of im's tags a rule's globs select, or NULL. */
static const char *rule_tag(const struct rule *r, const struct img *im)
{
	const char *best = NULL;
	for (size_t t = 0; t < im->ntags; t++) {
		const char *tag = im->tags[t];
		if (fnmatch(r->tags, tag, 0) || (r->exclude && !fnmatch(r->exclude, tag, 0)))
			continue;
		if (!best || strcmp(tag, best) < 0)
			best = tag;
	}
	return best;
}

struct cand {
	struct img *im;
	const char *tag;
};

static int by_newest(const void *a, const void *b)
{
	const struct cand *x = a, *y = b;
	int c;
	if (x->im->created != y->im->created)
		return x->im->created > y->im->created ? -1 : 1;
	if ((c = strcmp(x->tag, y->tag)))
		return c;
	return strcmp(x->im->manifest.digest, y->im->manifest.digest);
}

static void keep_by_rule(struct img *im, size_t r, const char *why)
{
	if (!im->rule || (int)r + 1 < im->rule)
		im->rule = (int)r + 1;
	mark(im, C_RULE);
	reason(im, "rule %zu: %s", r + 1, why);
}

static void apply_rules(struct scn *s)
{
	for (size_t r = 0; r < N_RULES; r++) {
		const struct rule *ru = &rules[r];
		for (int repo = 0; repo < N_REPOS; repo++) {
			struct cand c[MAX_IMGS];
			size_t n = 0;
			char why[128];
			for (size_t i = 0; i < s->n; i++) {
				struct img *im = &s->imgs[i];
				if ((int)im->repo != repo || !im->ntags || is_attachment(im))
					continue;
				const char *tag = ru->tags ? rule_tag(ru, im) : im->tags[0];
				if (!tag)
					continue;
				if (ru->younger_h && s->now - im->created >= (int64_t)ru->younger_h * 3600)
					continue;
				c[n++] = (struct cand){im, tag};
			}
			qsort(c, n, sizeof c[0], by_newest);
			for (size_t k = 0; k < n && (!ru->newest || k < (size_t)ru->newest); k++) {
				if (ru->newest)
					snprintf(why, sizeof why, "newest %d (#%zu by created, \"%s\")",
						 ru->newest, k + 1, c[k].tag);
				else if (ru->younger_h)
					snprintf(why, sizeof why, "younger than %dh (%lldh)",
						 ru->younger_h,
						 (long long)((s->now - c[k].im->created) / 3600));
				else
					snprintf(why, sizeof why, "tag \"%s\"", c[k].tag);
				keep_by_rule(c[k].im, r, why);
			}
		}
	}
}

/* Is a's layer list a proper, non-empty prefix of b's? */
static int layer_prefix(const struct img *a, const struct img *b)
{
	if (!a->nlayers || a->nlayers >= b->nlayers)
		return 0;
	for (size_t i = 0; i < a->nlayers; i++)
		if (strcmp(a->layers[i].digest, b->layers[i].digest))
			return 0;
	return 1;
}

static const char *name_of(const struct scn *s, const struct img *im, char *out, size_t n)
{
	char rp[300];
	repo_path(s, im->repo, rp, sizeof rp);
	if (im->ntags)
		snprintf(out, n, "%s:%s", rp, im->tags[0]);
	else
		snprintf(out, n, "%s@%.19s", rp, im->manifest.digest);
	return out;
}

/* Protection spreads from everything kept until nothing changes. */
static void closure(struct scn *s)
{
	int changed = 1;
	char nm[400];
	unsigned char done[MAX_IMGS] = {0}; /* kept images already spread from */

	while (changed) {
		changed = 0;
		for (size_t i = 0; i < s->n; i++) {
			struct img *k = &s->imgs[i];
			if (k->cls == C_NONE || done[i])
				continue;
			done[i] = 1;
			changed = 1;
			name_of(s, k, nm, sizeof nm);
			for (size_t c = 0; c < k->nchildren; c++) {
				struct img *ch = &s->imgs[k->children[c]];
				mark(ch, C_CHILD);
				reason(ch, "child of %s", nm);
			}
			for (size_t j = 0; j < s->n; j++) {
				struct img *b = &s->imgs[j];
				if (layer_prefix(b, k)) {
					mark(b, C_BASE);
					reason(b, "base of %s (layer prefix)", nm);
				}
				if (k->base == (int)j) {
					mark(b, C_BASE);
					reason(b, "base of %s (base.digest annotation)", nm);
				}
				if (b->subject == (int)i) {
					mark(b, C_REFERRER);
					reason(b, "%s of %s",
					       b->kind == K_SIG ? "signature" : "referrer", nm);
				}
			}
		}
	}
}

/* A plan is made a little after --now, and tie-breaking is the planner's
 * least obvious choice: so no age sits within 6 h of an age limit, and no
 * two images of a repository share a created time. */
static void check_margins(const struct scn *s)
{
	for (size_t i = 0; i < s->n; i++) {
		const struct img *a = &s->imgs[i];
		if (!a->ntags || is_attachment(a))
			continue; /* only rule candidates */
		for (size_t r = 0; r < N_RULES; r++) {
			int64_t d = s->now - a->created - (int64_t)rules[r].younger_h * 3600;
			if (rules[r].younger_h && d > -6 * 3600 && d < 6 * 3600)
				die("%s: created within 6 h of rule %zu's age limit", a->id, r + 1);
		}
		for (size_t j = i + 1; j < s->n; j++)
			if (s->imgs[j].repo == a->repo && s->imgs[j].created == a->created &&
			    s->imgs[j].ntags && !is_attachment(&s->imgs[j]))
				die("%s and %s: the same created time", a->id, s->imgs[j].id);
	}
}

static void decide(struct scn *s)
{
	char pglob[600], *colon;

	check_margins(s);
	/* deployed and rollback were marked while writing cluster.json and deployed.txt */
	snprintf(pglob, sizeof pglob, PROTECT_FMT, s->prefix);
	colon = strrchr(pglob, ':');
	*colon = '\0';
	for (size_t i = 0; i < s->n; i++) {
		struct img *im = &s->imgs[i];
		char rp[300];
		repo_path(s, im->repo, rp, sizeof rp);
		for (size_t t = 0; t < im->ntags; t++)
			if (!fnmatch(pglob, rp, 0) && !fnmatch(colon + 1, im->tags[t], 0)) {
				mark(im, C_PROTECT);
				reason(im, "protect \"%s:%s\"", pglob, colon + 1);
			}
	}
	apply_rules(s);
	closure(s);
	for (size_t i = 0; i < s->n; i++) {
		struct img *im = &s->imgs[i];
		if (im->cls == C_NONE && im->untagged_top) {
			reason(im, "untagged: delete");
		}
	}
}

/* The class as expected.tsv writes it. */
static const char *class_str(const struct img *im, char *out, size_t n)
{
	if (im->cls == C_RULE)
		snprintf(out, n, "rule:%d", im->rule);
	else if (im->cls == C_NONE && im->untagged_top)
		snprintf(out, n, "untagged");
	else
		snprintf(out, n, "%s", cls_name[im->cls]);
	return out;
}

/* Children and attachments are what their parent or subject is; the rest
 * say it in the tables. */
static void check_intent(const struct scn *s)
{
	int bad = 0;
	for (size_t i = 0; i < s->n; i++) {
		const struct img *im = &s->imgs[i];
		char got[32];
		const char *want = im->intent;
		if (!want && im->parent >= 0 && im->kind == K_CHILD)
			want = s->imgs[im->parent].cls ? "child" : "none";
		else if (!want && im->subject >= 0)
			want = s->imgs[im->subject].cls ? "referrer" : "none";
		class_str(im, got, sizeof got);
		if (!want || strcmp(want, got)) {
			fprintf(stderr, "rv-mkscenario: %s: built for %s, the rules say %s\n", im->id,
				want ? want : "?", got);
			bad = 1;
		}
	}
	if (bad)
		die("the scenario tables and the decision rules disagree");
}

/* ---- output files --------------------------------------------------------------- */

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void tags_str(struct img *im, char *out, size_t n)
{
	size_t off = 0;
	qsort(im->tags, im->ntags, sizeof im->tags[0], cmp_str);
	out[0] = '\0';
	if (!im->ntags)
		snprintf(out, n, "-");
	for (size_t t = 0; t < im->ntags; t++)
		off += (size_t)snprintf(out + off, n - off, "%s%s", t ? "," : "", im->tags[t]);
}

static const char *media_type(const struct img *im)
{
	return im->kind == K_INDEX || im->kind == K_FALLBACK ? MT_OCI_INDEX : MT_OCI_MANIFEST;
}

static void write_outputs(struct scn *s)
{
	char path[4300], rp[300], tags[1024], cls[32], created[32];
	FILE *tsv, *push, *put, *sum;
	json_t *arr = json_array();
	size_t top = 0, prot = 0, kept = 0, del = 0, all_del = 0;

	/* expected.tsv: by repository, then in table order */
	snprintf(path, sizeof path, "%s/expected.tsv", s->out);
	if (!(tsv = fopen(path, "w")))
		die("cannot create \"%s\": %s", path, strerror(errno));
	snprintf(path, sizeof path, "%s/push.tsv", s->out);
	if (!(push = fopen(path, "w")) || !(put = tmpfile()))
		die("cannot create \"%s\": %s", path, strerror(errno));
	for (int repo = 0; repo < N_REPOS; repo++) {
		repo_path(s, repo, rp, sizeof rp);
		for (size_t i = 0; i < s->n; i++) {
			struct img *im = &s->imgs[i];
			const char *dec = im->cls ? "keep" : "delete";
			if ((int)im->repo != repo)
				continue;
			tags_str(im, tags, sizeof tags);
			class_str(im, cls, sizeof cls);
			fprintf(tsv, "%s\t%s\t%s\t%s\t%s\n", rp, im->manifest.digest, tags, dec, cls);
			/*
			 * What scenario.sh pushes, by layout ref.name: top-level
			 * manifests with skopeo (index children go with their
			 * index). skopeo 1.9.3 will not copy the referrers index
			 * with --preserve-digests (its Go descriptor type drops
			 * `artifactType`, so it sees a change it may not make):
			 * the artifact goes by digest with skopeo, the index
			 * itself with a PUT of its bytes, after every copy.
			 */
			if ((is_top(im) && im->kind != K_FALLBACK) || im->kind == K_ARTIFACT) {
				layout_add(&s->lay, im->id, &im->manifest);
				fprintf(push, "%s\t%s\t%s\t%s\t%s\tskopeo\n", im->id, rp,
					im->manifest.digest, media_type(im), tags);
			} else if (im->kind == K_FALLBACK) {
				fprintf(put, "%s\t%s\t%s\t%s\t%s\tput\n", im->id, rp,
					im->manifest.digest, media_type(im), tags);
			}
			if (is_top(im)) {
				top++;
				if (!im->cls)
					del++;
				else if (im->cls >= C_CHILD)
					prot++;
				else
					kept++;
			}
			all_del += !im->cls;
			json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:o, s:s, s:s, s:b, s:I, s:O}",
					      "id", im->id, "repository", rp, "digest",
					      im->manifest.digest, "mediaType", media_type(im), "tags",
					      json_array(), "decision", dec, "class", cls, "top",
					      is_top(im), "size", (json_int_t)im->size, "reasons",
					      im->reasons);
			for (size_t t = 0; t < im->ntags; t++)
				json_array_append_new(json_object_get(o, "tags"),
						      json_string(im->tags[t]));
			json_object_set_new(o, "kind", json_string(kind_name[im->kind]));
			if (im->created && !is_attachment(im)) {
				rfc3339(im->created, created);
				json_object_set_new(o, "created", json_string(created));
				json_object_set_new(o, "createdEpoch",
						    json_integer((json_int_t)im->created));
			} else {
				json_object_set_new(o, "created", json_null());
			}
			if (im->subject >= 0)
				json_object_set_new(o, "subject",
						    json_string(s->imgs[im->subject].manifest.digest));
			if (im->parent >= 0)
				json_object_set_new(o, "parent",
						    json_string(s->imgs[im->parent].manifest.digest));
			json_array_append_new(arr, o);
		}
	}
	rewind(put);
	for (int ch; (ch = getc(put)) != EOF;)
		putc(ch, push);
	if (fclose(tsv) || fclose(push) || fclose(put))
		die("cannot write expected.tsv or push.tsv");

	write_json(s, "expected.json",
		   json_pack("{s:s, s:s, s:I, s:o}", "registry", s->registry, "prefix", s->prefix,
			     "now", (json_int_t)s->now, "images", arr));

	/* Summary over top-level images (children and referrers are counted
	 * with what lists them); `delete_all` also counts those. */
	snprintf(path, sizeof path, "%s/expected-summary", s->out);
	if (!(sum = fopen(path, "w")))
		die("cannot create \"%s\": %s", path, strerror(errno));
	fprintf(sum, "images=%zu\ntop=%zu\nprotected=%zu\nkept=%zu\ndelete=%zu\ndelete_all=%zu\n",
		s->n, top, prot, kept, del, all_del);
	if (fclose(sum))
		die("cannot write \"%s\"", path);
	if (del * 100 > top * 90)
		die("the plan would delete %zu of %zu: max_delete 90%% would trip", del, top);

	snprintf(path, sizeof path, "%s/scenario.env", s->out);
	if (!(sum = fopen(path, "w")))
		die("cannot create \"%s\": %s", path, strerror(errno));
	fprintf(sum, "SCN_DIR=%s\nSCN_REGISTRY=%s\nSCN_PREFIX=%s\nSCN_NOW=%lld\nSCN_LAYOUT=%s/layout\n"
		     "SCN_POLICY=%s/policy.yaml\nSCN_TOP=%zu\nSCN_PROTECTED=%zu\nSCN_KEPT=%zu\n"
		     "SCN_DELETE=%zu\n",
		s->out, s->registry, s->prefix, (long long)s->now, s->out, s->out, top, prot, kept,
		del);
	if (fclose(sum))
		die("cannot write scenario.env");
	printf("rv-mkscenario: %zu manifests, %zu top-level: %zu protected, %zu kept, %zu delete\n",
	       s->n, top, prot, kept, del);
}

/* ---- main -------------------------------------------------------------------- */

static void generate(struct scn *s)
{
	for (size_t i = 0; i < N_SPECS; i++) {
		build_from_spec(s, &specs[i]);
		if (!strcmp(specs[i].id, "api-a02"))
			build_api_index(s); /* newest of api, after java exists */
	}
	build_signature(s, img_by_id(s, "api-idx"));
	for (size_t i = 0; i < N_SPECS; i++)
		if (specs[i].sig)
			build_signature(s, img_by_id(s, specs[i].id));
	build_referrer(s, img_by_id(s, "api-a05")); /* kept with its subject */
	build_referrer(s, img_by_id(s, "api-a12")); /* deleted with its subject */

	write_cluster(s);
	write_refs(s);
	write_policy(s);
	decide(s);
	check_intent(s);
	write_outputs(s);
}

static long long parse_num(const char *opt, const char *s, long long min, long long max)
{
	char *end;
	long long v;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || end == s || *end || v < min || v > max)
		die("%s: bad number \"%s\" (want %lld..%lld)", opt, s, min, max);
	return v;
}

static void usage(void)
{
	fputs("usage: rv-mkscenario --out DIR --now EPOCH --registry HOST:PORT --prefix PATH\n"
	      "                     [--seed N] [--layer-size BYTES] [--standby HOST:PORT/PREFIX]\n",
	      stderr);
	exit(2);
}

/* Repository path components: lowercase alnum with . _ - inside. */
static void check_prefix(const char *p)
{
	if (!*p || *p == '/' || p[strlen(p) - 1] == '/' || strstr(p, "//") ||
	    strspn(p, "abcdefghijklmnopqrstuvwxyz0123456789._-/") != strlen(p))
		die("--prefix \"%s\": want lowercase path components like t/scn/name", p);
}

int main(int argc, char **argv)
{
	static struct scn s;
	uint64_t seed = 1;
	char path[4300];

	og_prog = "rv-mkscenario";
	s.layer_size = 1024;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (i + 1 >= argc)
			usage();
		if (!strcmp(a, "--out"))
			s.out = argv[++i];
		else if (!strcmp(a, "--now"))
			s.now = parse_num(a, argv[++i], 86400LL * 400, 4102444800LL);
		else if (!strcmp(a, "--registry"))
			s.registry = argv[++i];
		else if (!strcmp(a, "--prefix"))
			s.prefix = argv[++i];
		else if (!strcmp(a, "--standby"))
			s.standby = argv[++i];
		else if (!strcmp(a, "--seed"))
			seed = (uint64_t)parse_num(a, argv[++i], 0, INT64_MAX);
		else if (!strcmp(a, "--layer-size"))
			s.layer_size = parse_num(a, argv[++i], 1, 1 << 20);
		else
			usage();
	}
	if (!s.out || !s.now || !s.registry || !s.prefix)
		usage();
	if (!*s.registry || strchr(s.registry, '/'))
		die("--registry \"%s\": want HOST[:PORT]", s.registry);
	check_prefix(s.prefix);
	if (s.out[0] != '/')
		die("--out \"%s\": want an absolute path (policy.yaml names DIR/vault)", s.out);

	mkdir_p(s.out);
	snprintf(path, sizeof path, "%s/layout", s.out);
	layout_init(&s.lay, path, seed);
	generate(&s);
	layout_finish(&s.lay);
	for (size_t i = 0; i < s.n; i++) {
		for (size_t t = 0; t < s.imgs[i].ntags; t++)
			free(s.imgs[i].tags[t]);
		json_decref(s.imgs[i].reasons);
	}
	return 0;
}
