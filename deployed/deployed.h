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
 * "refs-file:FILE" (CONTEXT and FILE non-empty). RV_EINVALID with a
 * one-line message listing the accepted forms otherwise; out is then
 * zeroed. The caller releases out. */
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
	 * container app", "pod NS/NAME initContainer C", "pod NS/NAME
	 * ephemeralContainer C", "pod NS/NAME volume V", "pod NS/NAME status C"
	 * (the running imageID), "deployment NS/NAME", "replicaset
	 * api/user-svc-5c4d (revision 3)", "replicaset NS/NAME (revision 2,
	 * rollback)", "statefulset|daemonset|job|cronjob|replicationcontroller
	 * NS/NAME", "deployed.txt:12". Control characters become '?'. */
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
	int timeout_s;           /* kubectl's time limit; default 60 (also for <= 0) */
	const char *kubectl;     /* the program; default "kubectl" from PATH; with a '/' a path */
	size_t max_output;       /* cap on kubectl's stdout in bytes; 0: 1 GiB */
};

#define DEPLOYED_OPTIONS_INIT { 0, 60, NULL, 0 }

/* Reads every source into out (appending; the same reference from several
 * places appears once per place). The first failing source fails the call
 * with a one-line message naming it (and for files, the line, or the JSON
 * path of the bad item); out is then as it was before the call. o may be
 * NULL for the defaults. Codes:
 *   RV_EINVALID   unknown kind, no sources, an empty kubectl context name,
 *                 invalid JSON or reference, or a
 *                 source that names no image at all — that message is always
 *                 "SOURCE lists no images: an empty cluster must be declared
 *                 with \"deployed: none\"" (the CLI refuses the prune on it)
 *   RV_ENOTFOUND  a missing file, or the kubectl program not found
 *   RV_ETRANSIENT kubectl timed out ("… timed out after N s"; process group killed)
 *   RV_ETOOBIG    kubectl printed more than max_output, or a file over 1 GiB
 *   RV_ERROR      kubectl failed (the context and kubectl's message quoted)
 *
 * kubectl is run without a shell, stdin /dev/null, in its own process
 * group, with the environment inherited (KUBECONFIG, HOME). Its argv holds
 * nothing but the context name. */
int deployed_read(struct deployed_set *out, const struct deployed_source *sources, size_t n,
                  const struct deployed_options *o);
void deployed_set_release(struct deployed_set *s);

/* Parses kubectl JSON (a v1 List — any kind "…List" with items[] — or a
 * single object) from memory into out. `origin` names the source in
 * messages. Kinds read: Pod (spec and status imageIDs), Deployment,
 * ReplicaSet, StatefulSet, DaemonSet, Job, CronJob, ReplicationController;
 * others are ignored. Empty images (templates) and image IDs ("sha256:…"
 * with no repository: a local config digest) are skipped.
 *
 * ReplicaSets owned by a Deployment: the Deployment's current revision,
 * any with replicas, and any without a readable revision count as
 * DEPLOYED_TEMPLATE; of the revisions below the current one the newest
 * `rollback` count as DEPLOYED_ROLLBACK (whether or not they still run
 * pods), older ones not at all. A Deployment absent from the input, or
 * without a revision, gets its newest ReplicaSet as current.
 *
 * Same codes and all-or-nothing as deployed_read(). Exposed for tests and
 * fuzzing. */
int deployed_parse_kubernetes(struct deployed_set *out, const char *json, size_t len,
                              const char *origin, int rollback);
/* Parses a refs file's text: one reference per line, whitespace trimmed,
 * '#' starts a comment at the line start or after whitespace. where is
 * "ORIGIN:LINE". A line that is only an image ID is an error (write
 * REPO@DIGEST). Same codes and all-or-nothing as deployed_read().
 * Exposed for tests and fuzzing. */
int deployed_parse_refs(struct deployed_set *out, const char *text, size_t len,
                        const char *origin);

#endif
