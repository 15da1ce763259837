/*
 * deployed.h — which images are deployed, read from the places a policy
 * (or `regvault deployed`) names.
 *
 * Sources:
 *   kubectl[:CONTEXT]       runs `kubectl [--context CONTEXT] get
 *                           pods,replicasets,deployments,statefulsets,daemonsets,jobs,cronjobs
 *                           -A -o json`
 *   kubernetes-json:FILE    the saved output of such a command (a v1 List)
 *   refs-file:FILE          one image reference per line; # comments, blank lines
 *
 * Fail closed (ARCHITECTURE.md invariant 1): a source that cannot be run,
 * exits non-zero, times out, prints something that is not the expected
 * JSON, or names no image at all is an error — never "nothing deployed".
 * An empty cluster must be said explicitly (the policy's `deployed: none`),
 * which is not a source and never reaches this module.
 */
#ifndef RV_DEPLOYED_DEPLOYED_H
#define RV_DEPLOYED_DEPLOYED_H

#include <stddef.h>
#include "oci/reference.h"

enum deployed_kind { DEPLOYED_KUBECTL = 1, DEPLOYED_KUBERNETES_JSON, DEPLOYED_REFS_FILE };

struct deployed_source {
	enum deployed_kind kind;
	char *arg;    /* kubectl: the context or NULL; the others: the file */
};

/* Parses "kubectl", "kubectl:CONTEXT", "kubernetes-json:FILE",
 * "refs-file:FILE". RV_EINVALID with a one-line message otherwise. */
int deployed_source_parse(struct deployed_source *out, const char *spec);
void deployed_source_release(struct deployed_source *s);

/* Why an image counts as deployed. */
enum deployed_why {
	DEPLOYED_RUNNING = 1,   /* a pod's containers, or its status imageID */
	DEPLOYED_TEMPLATE,      /* a workload's pod template (also scaled to zero, CronJobs) */
	DEPLOYED_ROLLBACK,      /* an older ReplicaSet revision `kubectl rollout undo` returns to */
	DEPLOYED_LISTED,        /* a refs file */
};

struct deployed_ref {
	char *text;              /* the reference as written ("app:1.2", "reg/app@sha256:…") */
	struct oci_ref ref;      /* normalised (docker.io, library/, :latest when neither tag nor digest) */
	enum deployed_why why;
	/* Where it was found, for plans and messages: "pod api/user-svc-7d8f9c
	 * container app", "replicaset api/user-svc-5c4d (revision 3)",
	 * "cronjob ops/report", "deployed.txt:12". */
	char *where;
};

struct deployed_set {
	struct deployed_ref *refs;
	size_t n;
	size_t alloc;
};

#define DEPLOYED_SET_INIT { NULL, 0, 0 }

struct deployed_options {
	int rollback;            /* older ReplicaSet revisions to keep per Deployment (0: none) */
	int timeout_s;           /* kubectl's time limit; default 60 */
	const char *kubectl;     /* the program; default "kubectl" from PATH */
};

#define DEPLOYED_OPTIONS_INIT { 0, 60, NULL }

/* Reads every source into out (appending; the same reference from several
 * places appears once per place). The first failing source fails the call
 * with a one-line message naming it (and for files, the line, or the JSON
 * path of the bad item). */
int deployed_read(struct deployed_set *out, const struct deployed_source *sources, size_t n,
                  const struct deployed_options *o);
void deployed_set_release(struct deployed_set *s);

/* Parses kubectl JSON (a v1 List, or a single object) from memory into out.
 * `origin` names the source in messages. Exposed for tests and fuzzing. */
int deployed_parse_kubernetes(struct deployed_set *out, const char *json, size_t len,
                              const char *origin, int rollback);
/* Parses a refs file's text. Exposed for tests and fuzzing. */
int deployed_parse_refs(struct deployed_set *out, const char *text, size_t len,
                        const char *origin);

#endif
