/*
 * internal.h — private to registry/: the session loop, clients and ops.
 *
 * An op is one logical request: it may take several HTTP exchanges
 * (a retry after backoff, a second try with a fresh token after 401, the
 * POST then PUT of an upload). Its handler sees each completed exchange
 * that is not a retry or auth case and decides: done, failed, or "next"
 * after reconfiguring the op for the following request.
 */
#ifndef RV_REGISTRY_INTERNAL_H
#define RV_REGISTRY_INTERNAL_H

#include <curl/curl.h>
#include <stdint.h>
#include "oci/digest.h"
#include "registry/auth.h"
#include "registry/registry.h"
#include "util/buf.h"
#include "util/strlist.h"

/* A handler's answer besides 0 (done) and RV_E* (failed). */
#define OP_NEXT 1

/* Caps on what a peer can make us hold. */
#define ERRBODY_MAX ((size_t)64 << 10)
#define JSON_PAGE_MAX ((size_t)64 << 20)
#define LIST_MAX_PAGES 100000
/* A listing page streams through listing_feed(): no page is held whole. */
#define LISTING_PAGE_MAX ((int64_t)256 << 20)
#define LISTING_STR_MAX 1024
#define LISTING_DEPTH_MAX 32

enum op_state { OP_NEW, OP_SLEEPING, OP_RUNNING, OP_FINISHED };

struct op_response {
	long status;
	char content_type[128];          /* without parameters, lowercased */
	char digest[OCI_DIGEST_MAX];     /* Docker-Content-Digest */
	char *location;
	char *link;                      /* rel="next" target, raw */
	struct strlist www_authenticate; /* every value, in order */
	int64_t content_length;          /* -1 when absent */
	int64_t range_start;             /* Content-Range start, -1 when absent */
	int64_t retry_after_ms;          /* -1 when absent */
	int filters_applied;             /* OCI-Filters-Applied: artifactType */
};

struct registry_op {
	registry_session *s;
	registry_client *c;
	registry_op *prev, *next;        /* in s->ops */
	CURL *easy;
	enum op_state state;

	/* The request. */
	const char *method;
	char *url;
	struct curl_slist *headers;      /* everything but Authorization */
	struct curl_slist *sent_headers; /* headers + auth of the attempt in flight */
	char *scope;                     /* token scope this request needs */
	char *what;                      /* "manifest \"repo:tag\"", for messages */
	int expect_json;                 /* body is capped JSON, not a blob */

	/* Request body: memory, or a source. */
	const unsigned char *in_mem;
	size_t in_len, in_off;
	struct oci_source src;
	int has_src;
	int64_t in_limit;                /* bytes to send in this request; -1 = to EOF */
	int64_t in_sent;                 /* in this request */
	oci_hasher *in_hash;             /* over every byte the source gave */
	int64_t in_hashed;

	/* Response body: a capped buffer, or a verified sink. */
	struct op_response r;
	struct buf *out;
	struct buf errbody;
	struct oci_sink sink;
	int has_sink;
	oci_hasher *out_hash;
	char expect_digest[OCI_DIGEST_MAX];
	int64_t expect_size;             /* -1 = unknown */
	int64_t got;                     /* verified-order bytes handed to the sink */
	int64_t skip;                    /* bytes to drop from this response (resume without 206) */
	int64_t range_from;              /* resumed at this offset (Range sent), 0 = from start */

	/* Control. */
	int attempts;                    /* failed attempts of this request so far */
	int auth_retried;
	int rate_waited;                 /* asleep for a --max-rps turn already taken */
	int64_t wake_at;                 /* monotonic ms, OP_SLEEPING */
	int abort_rc;                    /* set by a callback to fail the transfer */
	int best_effort_rc;              /* non-zero: every outcome of the rest is this code */
	char *abort_msg;
	int paused;                      /* the sink or source said "not now" */
	int resume_wanted;               /* registry_op_resume() asked; the loop unpauses */
	char curl_err[CURL_ERROR_SIZE];

	int (*handler)(registry_op *op);
	/* Called before a retry of a failed exchange: reset or rewind state.
	 * NULL means the default (rewind bodies); a negative return fails the op. */
	int (*on_retry)(registry_op *op);
	void *data;                      /* handler state */
	void (*free_data)(void *data);

	registry_done_fn done;
	void *done_ctx;
	int rc;
	char *msg;
};

struct token_entry {
	char *scope;
	char *token;
	int64_t expires_ms;              /* monotonic */
};

enum client_auth { AUTH_UNKNOWN = 0, AUTH_NONE, AUTH_BASIC, AUTH_BEARER };

struct registry_client {
	registry_session *s;
	char *name;                      /* as the user wrote it */
	char *host;                      /* what we connect to */
	char *base;                      /* "https://host" once pinged */
	int insecure;                    /* named: http allowed, TLS unverified */
	int loopback;                    /* http allowed, TLS still verified */
	char *ca_file;                   /* certs.d CA for this host, else NULL */
	int pinged;
	enum client_auth auth;
	char *realm, *service;
	struct creds creds;
	int creds_state;                 /* 0 not looked up, 1 found, 2 none */
	char *basic;                     /* "Authorization: Basic …" */
	struct token_entry *tokens;
	size_t n_tokens, alloc_tokens;
	int token_fetches;               /* for tests and trace */
	double rate_tokens;              /* --max-rps bucket: requests that may go now */
	int64_t rate_at;                 /* monotonic ms of the last refill */
};

struct registry_session {
	CURLM *multi;
	CURLSH *share;
	struct registry_options opts;
	char **insecure;                 /* owned copies */
	char *authfile, *ca_cert;
	registry_op *ops;                /* every op not yet finished */
	int running;
	unsigned long finished;          /* ops finished so far: run() returns on a change */
	int resumes;                     /* some op has resume_wanted */
	CURL **pool;                     /* idle easy handles */
	size_t n_pool, alloc_pool;
	unsigned rand_state;
};

/* session.c */
CURL *session_easy_get(registry_session *s);
void session_easy_put(registry_session *s, CURL *e);
int64_t session_backoff_ms(registry_session *s, int attempt);
int session_is_insecure(registry_session *s, const char *name);
void session_trace_setup(registry_session *s, CURL *e);

/* client.c */
int client_ready(registry_client *c);
/* Sets the Authorization header for scope into *out (NULL when none). */
int client_auth_header(registry_client *c, const char *scope, char **out);
/* A 401 came back: learn from the challenges, drop the cached token. 0 when
 * a retry makes sense. */
int client_auth_failed(registry_client *c, const struct strlist *challenges,
                       const char *scope, char **scope_out);
void client_tls_setup(registry_client *c, CURL *e);
/* "https://host/v2/<path>"; caller frees. */
char *client_url(registry_client *c, const char *fmt, ...) RV_PRINTF(2, 3);
/* The host of "host[:port]" or "[v6]:port", without port or brackets. */
void client_host_of(const char *name, char *out, size_t outlen);
/* Takes one request's turn under --max-rps: 0 to go now, else the ms to
 * wait (the turn is already taken: the caller just waits). */
int64_t client_rate_wait(registry_client *c);
/* Resolves a Location/Link target against a request URL. Caller frees. */
char *client_resolve(const char *base_url, const char *ref);
/* 1 when both URLs have the same scheme, host and port (the scheme's
 * default port filled in), 0 otherwise or when either does not parse.
 * A listing's next-page link is followed only to the same origin: the
 * request carries this registry's credentials. */
int client_same_origin(const char *a, const char *b);

/* listing.c — the incremental parser of tags/list and _catalog pages. */
struct listing_parser {
	const char *key;            /* the member whose array is collected */
	const char *what;           /* "tags of \"r\" on \"reg\"", for messages */
	struct strlist *out;        /* entries are appended here */
	size_t max_entries;         /* out->n never passes this */
	int64_t bytes;
	int failed;                 /* the RV_E* code once failed; sticky */
	int expect;                 /* what may come next (listing.c) */
	char stack[LISTING_DEPTH_MAX];
	int depth;
	int key_is_wanted;          /* the member at depth 1 is `key` */
	int seen_key, collecting;
	int token;                  /* inside a string or a literal */
	char str[LISTING_STR_MAX + 1];
	size_t slen;
	int str_over, str_ctl, escape, uhex;
	unsigned uval, hi_surrogate;
	char lit[32];
	size_t llen;
};
void listing_init(struct listing_parser *p, const char *key, const char *what,
                  struct strlist *out, size_t max_entries);
/* Feeds the next bytes of the page; 0, or RV_EINVALID (not the expected
 * JSON) / RV_ETOOBIG (over max_entries or LISTING_PAGE_MAX) with the
 * message set. After a failure every call returns the same code. */
int listing_feed(struct listing_parser *p, const void *data, size_t len);
/* The page ended: 0 when it was one complete object. */
int listing_finish(struct listing_parser *p);

/* op.c */
registry_op *op_new(registry_client *c, const char *method, char *url, char *scope, char *what);
void op_header(registry_op *op, const char *fmt, ...) RV_PRINTF(2, 3);
void op_clear_headers(registry_op *op);
void op_set_url(registry_op *op, char *url);
/* Submits: attaches now (or fails at once, calling done). */
void op_start(registry_op *op);
/* Runs the session until op finished; returns its rc and sets the
 * thread's error message from it. The op is freed. */
int op_run(registry_op *op);
/* Records a failure message on the op; returns code. */
int op_fail(registry_op *op, int code, const char *fmt, ...) RV_PRINTF(3, 4);
/* The standard failure for an unexpected HTTP status: maps 404 →
 * RV_ENOTFOUND, 403 → RV_EDENIED, … and quotes the registry's error. */
int op_fail_status(registry_op *op);
/* Called by session.c when curl says the transfer ended. */
void op_transfer_done(registry_op *op, CURLcode cc);
/* Called by session.c when a sleeping op's time has come. */
void op_wake(registry_op *op);
void op_free(registry_op *op);
/* Unpauses op if a resume was asked; 1 when it did. For the session loop. */
int op_apply_resume(registry_op *op);

#endif
