/*
 * registry.h — a Distribution API (OCI distribution-spec v1.1) client on
 * libcurl, fit for production registries.
 *
 * Shape. One registry_session per process owns one curl multi handle: all
 * requests to all registries run on it, so connections (and TLS sessions)
 * are reused and transfers run concurrently without threads. A
 * registry_client is one registry host with its scheme, credentials and
 * cached tokens. Every call below is synchronous for its caller but keeps
 * the session's other transfers moving; the *_start functions add a
 * transfer and return at once, and registry_session_run() drives them.
 *
 * What it does for every request: sends every manifest type in Accept;
 * authenticates (anonymous, Basic, Bearer tokens from WWW-Authenticate,
 * cached per scope, renewed on expiry or 401); retries connection errors,
 * 5xx and 429 with exponential backoff and jitter (Retry-After honoured),
 * a bounded number of times; resumes interrupted blob downloads with Range;
 * hashes every blob byte as it arrives. Errors name registry, repository,
 * reference, HTTP status and the registry's error code:
 *   manifest "app:1.2" on "reg.example.com": 404 MANIFEST_UNKNOWN: manifest unknown
 *
 * Security. TLS is verified unless the host is named insecure. Loopback
 * hosts (127.0.0.0/8, ::1, localhost) may speak plain HTTP without being
 * named, as in Docker — but a loopback host that speaks TLS is still
 * verified unless named. Credentials are never logged; Authorization never
 * follows a redirect to another host, port or scheme (libcurl keeps it
 * home; test_lies proves it for Basic and Bearer, blobs and manifests,
 * https→http), and a token request carrying a refresh token follows no
 * redirect at all (libcurl would re-post its body). A token realm over
 * plain HTTP is used only on loopback, on the registry's own host when the
 * registry is named insecure, or when the realm's host itself is named
 * with --insecure-registry; otherwise RV_EAUTH names the realm and the
 * host to name. Whatever a redirect or a registry says, every manifest and
 * blob is checked against the digest and size it was asked by.
 * REGVAULT_TRACE=1 (or trace=1) logs every request and response at
 * LOGLV_TRACE with secrets redacted.
 */
#ifndef RV_REGISTRY_REGISTRY_H
#define RV_REGISTRY_REGISTRY_H

#include <stddef.h>
#include <stdint.h>
#include "oci/manifest.h"
#include "oci/store.h"
#include "util/buf.h"
#include "util/strlist.h"

typedef struct registry_session registry_session;
typedef struct registry_client registry_client;
typedef struct registry_op registry_op;

struct registry_options {
	/* Credentials file; NULL: $REGISTRY_AUTH_FILE, then
	 * $XDG_RUNTIME_DIR/containers/auth.json, then
	 * $XDG_CONFIG_HOME/containers/auth.json, then
	 * $DOCKER_CONFIG/config.json or ~/.docker/config.json. */
	const char *authfile;
	/* Extra CA bundle (PEM) trusted beside the system store. */
	const char *ca_cert;
	/* host[:port] entries allowed plain HTTP or an unverified certificate. */
	const char *const *insecure;
	size_t n_insecure;
	int max_retries;          /* attempts after the first; default 5 */
	int retry_base_ms;        /* first backoff; default 200 */
	int retry_max_ms;         /* backoff cap; default 20000 */
	int retry_after_max_s;    /* longest Retry-After we wait; default 120 */
	int connect_timeout_s;    /* default 30 */
	int stall_timeout_s;      /* abort a transfer that moves no byte this long; default 60 */
	int max_host_connections; /* per host; default 8 */
	int trace;                /* log HTTP traffic (redacted); also REGVAULT_TRACE=1 */
	/* Requests per second to any one registry host, token fetches and
	 * pings included (0: no limit). Bursts of up to one second's worth
	 * pass at once; beyond that requests wait their turn, so a scheduled
	 * mirror never sets off a 429 storm. */
	double max_rps;
};

#define REGISTRY_OPTIONS_INIT { NULL, NULL, NULL, 0, 5, 200, 20000, 120, 30, 60, 8, 0, 0 }

/* Creates the session (curl global init happens once, here). */
int registry_session_new(registry_session **out, const struct registry_options *opts);
/* Cancels what is still running and frees everything. NULL is a no-op. */
void registry_session_free(registry_session *s);
/* Drives every running transfer until one of them finishes, nothing runs,
 * or timeout_ms passed (0: do what is ready and return). Returns how many
 * are still running. */
int registry_session_run(registry_session *s, int timeout_ms);

/* A client for one registry ("reg.example.com", "127.0.0.1:5000",
 * "docker.io"). No network until the first request. The client belongs to
 * the session and must be closed before it. */
int registry_client_open(registry_client **out, registry_session *s, const char *registry);
void registry_client_close(registry_client *c);
/* The registry name as given. */
const char *registry_client_name(const registry_client *c);
/* 1 when the registry name "host[:port]" is a loopback host: "localhost",
 * 127.0.0.0/8 or ::1 (bracketed, with a port or not) -- the hosts that may
 * speak plain HTTP unnamed, as in Docker. */
int registry_is_loopback(const char *name);
/* The session the client runs on. */
registry_session *registry_client_session(const registry_client *c);
/* Forces basic credentials for this client (tests, --creds-file later);
 * otherwise they come from the auth files. Copies the strings. */
void registry_client_set_credentials(registry_client *c, const char *user, const char *secret);

/* GET /v2/: picks the scheme and learns the auth challenge. Every other call
 * does this on first use; call it to check reachability and credentials. */
int registry_ping(registry_client *c);

/* A listing holds at most this many entries. The registry decides how
 * long a listing is (distribution v2.8 sends every tag in one page), so a
 * longer one stops with RV_ETOOBIG, "…: more than 1000000 entries;
 * refusing to go on", as soon as the entry past the cap arrives. Pages are
 * parsed as they stream in, never held whole, so memory is the entries'
 * (about 40 bytes each: ~50 MB at the cap, whatever the registry sends);
 * a page over 256 MiB, an entry over 1 KiB or with a control character,
 * more than 100,000 pages, or a Link to the same page stop the listing too. */
#define REGISTRY_LIST_MAX 1000000

/* Every repository (_catalog, following Link pages). Sorted. */
int registry_catalog(registry_client *c, struct strlist *out);
/* Every tag of repo (tags/list, following Link pages; JSON null = none).
 * Sorted. RV_ENOTFOUND for an unknown repository. Both listings: at most
 * REGISTRY_LIST_MAX entries, RV_ETOOBIG beyond; RV_EINVALID for a page
 * that is not {"tags"|"repositories": [strings…]|null, …}. */
int registry_tags_list(registry_client *c, const char *repo, struct strlist *out);

/* HEAD a manifest by tag or digest. */
int registry_manifest_head(registry_client *c, const char *repo, const char *ref,
                           struct oci_manifest_info *out);
/* GET a manifest. By digest: the body must hash to it. By tag: the body
 * must hash to Docker-Content-Digest when the registry sends one. The body
 * is capped at OCI_MANIFEST_MAX. out_raw gets the bytes, out_info the
 * digest (computed), media type (Content-Type) and size. */
int registry_manifest_get_raw(registry_client *c, const char *repo, const char *ref,
                              struct buf *out_raw, struct oci_manifest_info *out_info);
/* GET and parse. */
int registry_manifest_get(registry_client *c, const char *repo, const char *ref,
                          struct oci_manifest **out);
/* PUT raw bytes under ref (tag or digest) with the given Content-Type.
 * The registry's Docker-Content-Digest, when sent, must match ours. */
int registry_manifest_put(registry_client *c, const char *repo, const char *ref,
                          const char *media_type, const void *raw, size_t len);
/* DELETE by digest. distribution-spec: this removes every tag on that
 * digest in the repository. A tag is refused with RV_EINVALID. */
int registry_manifest_delete(registry_client *c, const char *repo, const char *digest);

/* HEAD a blob; out_size may be NULL. */
int registry_blob_head(registry_client *c, const char *repo, const char *digest,
                       int64_t *out_size);
/* GET a blob into sink, following redirects (without our credentials on
 * another host), resuming with Range after a broken connection, hashing
 * every byte. RV_EDIGEST when size or digest do not match d. */
int registry_blob_get(registry_client *c, const char *repo,
                      const struct oci_descriptor *d, const struct oci_sink *sink);
/* Uploads a blob: POST, then one streamed PUT (chunk_size 0), or PATCH
 * chunks of chunk_size bytes then PUT, always following the newest
 * Location. Retries only when src can rewind. */
int registry_blob_put(registry_client *c, const char *repo,
                      const struct oci_descriptor *d, const struct oci_source *src,
                      size_t chunk_size);
/* Cross-repository mount. 0 when mounted; RV_ENOTFOUND when the registry
 * declined (the upload session it opened instead is cancelled). */
int registry_blob_mount(registry_client *c, const char *repo, const char *digest,
                        const char *from_repo);
int registry_blob_delete(registry_client *c, const char *repo, const char *digest);

/* The referrers of digest as an OCI index: the referrers API when the
 * registry has it, else the "<alg>-<hex>" fallback tag, else an empty
 * index (distribution-spec "Unavailable Referrers API"). artifact_type may
 * be NULL; when given, entries are filtered here if the registry did not. */
int registry_referrers(registry_client *c, const char *repo, const char *digest,
                       const char *artifact_type, struct oci_manifest **out_index);

/* --- Concurrent transfers ------------------------------------------------ */

/* Called once when an operation ends; rc is 0 or an RV_E* code, and
 * registry_op_error() has the message. The op is freed after it returns. */
typedef void (*registry_done_fn)(registry_op *op, int rc, void *ctx);

/* Start a blob GET, a monolithic blob PUT, or a manifest HEAD on the
 * session and return at once; `done` runs from inside
 * registry_session_run(). *out (may be NULL) is the op, valid until done
 * has run, for registry_op_resume(). Sinks and sources passed here may
 * answer OCI_IO_PAUSE / OCI_IO_AGAIN (oci/store.h). */
int registry_blob_get_start(registry_op **out, registry_client *c, const char *repo,
                            const struct oci_descriptor *d, const struct oci_sink *sink,
                            registry_done_fn done, void *ctx);
int registry_blob_put_start(registry_op **out, registry_client *c, const char *repo,
                            const struct oci_descriptor *d, const struct oci_source *src,
                            registry_done_fn done, void *ctx);
int registry_manifest_head_start(registry_op **out, registry_client *c, const char *repo,
                                 const char *ref, struct oci_manifest_info *out_info,
                                 registry_done_fn done, void *ctx);
/* Un-pauses an op whose sink answered OCI_IO_PAUSE or whose source
 * answered OCI_IO_AGAIN. Safe to call from inside another transfer's sink
 * or source: the session unpauses it after the current step. */
void registry_op_resume(registry_op *op);
/* The message of a failed op (valid inside its done callback). */
const char *registry_op_error(const registry_op *op);

/* A copy of text a registry or token server sent (an error body quoted in
 * a message) with credentials in it replaced by "<redacted>": the value
 * after "Basic"/"Bearer", after "Authorization:" (scheme word kept), after
 * token/password/secret/auth-like names ("name=v", "name: v", "\"name\":
 * \"v\""), and anything JWT-shaped ("eyJ….…"). Errs on the side of hiding
 * too much. Caller frees. (registry/redact.c) */
char *registry_redact_text(const char *text);

/* --- As a store ------------------------------------------------------------ */

/* Wraps the client as an oci_store (oci/store.h). The store does not own
 * the client. */
int registry_store_new(struct oci_store **out, registry_client *c);
/* Opens a client for registry on s and wraps it as a store that owns it:
 * oci_store_close() closes both. */
int registry_store_open(struct oci_store **out, registry_session *s, const char *registry);
/* registry_store_open with the session as a void pointer: the shape of
 * xfer's opener (xfer_select). */
int registry_store_opener(void *session, const char *registry, struct oci_store **out);
/* The client behind a registry store (for registry-only calls). */
registry_client *registry_store_client(struct oci_store *s);

#endif
