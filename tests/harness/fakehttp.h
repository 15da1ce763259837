/*
 * fakehttp.h — a scripted HTTP/1.1 server inside the test process.
 *
 * Only for what a real registry will not do on demand (STYLE.md habit 12):
 * 429s and 5xx, resets and truncated bodies, stalls, wrong bytes. Everything
 * else is tested against the real docker-registry (tests/harness/up.sh).
 *
 * The server listens on 127.0.0.1:<kernel-chosen port>, accepts keep-alive
 * connections (one thread each), reads each request completely (Content-Length
 * or chunked body; "100 Continue" is sent when the client asks for it) and
 * calls the handler, which fills in the response:
 *
 *     static void handler(const struct fakehttp_request *rq,
 *                         struct fakehttp_response *rs, void *ctx)
 *     {
 *         if (rq->seq == 1) {
 *             rs->status = 429;
 *             fakehttp_response_header(rs, "Retry-After", "%d", 1);
 *             return;
 *         }
 *         fakehttp_response_body(rs, blob, blob_len);
 *         rs->action = FAKEHTTP_RESET;  // RST after 100 body bytes
 *         rs->action_after = 100;
 *     }
 *
 *     struct fakehttp *srv = fakehttp_start(handler, &state);
 *     ... point the client at fakehttp_url(srv) ...
 *     fakehttp_stop(srv);
 *
 * Handler calls are serialised by a server-wide mutex, so a handler may keep
 * unlocked state in `ctx`; the response is sent after the handler returns,
 * outside the lock (a stall on one connection does not block others).
 */
#ifndef RV_FAKEHTTP_H
#define RV_FAKEHTTP_H

#include <stddef.h>

struct fakehttp; /* opaque server */

struct fakehttp_header {
	const char *name;
	const char *value;
};

struct fakehttp_request {
	const char *method;   /* "GET", "PUT", ... */
	const char *target;   /* path and query as sent: "/v2/a/tags/list?n=1" */
	const char *path;     /* target up to '?' */
	const char *query;    /* after '?', "" if none */
	const char *version;  /* "HTTP/1.1" */
	const struct fakehttp_header *headers; /* in order received */
	size_t nheaders;
	const unsigned char *body; /* decoded body, NUL-terminated (not counted) */
	size_t body_len;
	int body_chunked;     /* the body came with Transfer-Encoding: chunked */
	int expect_continue;  /* the client sent Expect: 100-continue */
	unsigned long seq;    /* 1-based number of this request on the server */
	unsigned long conn_id;  /* 1-based number of its connection */
	unsigned long conn_seq; /* 1-based number of the request on that connection */
};

/* What to do instead of (or while) sending the response. */
enum fakehttp_action {
	FAKEHTTP_RESPOND = 0, /* send it normally */
	FAKEHTTP_RESET,       /* headers + `action_after` body bytes, then RST (SO_LINGER 0) */
	FAKEHTTP_TRUNCATE,    /* headers announce the full length, send `action_after`
	                         body bytes, then close cleanly (FIN) */
	FAKEHTTP_CORRUPT,     /* send everything, but flip the body byte at offset
	                         `action_after` (mod the length): right size, wrong bytes */
	FAKEHTTP_CLOSE,       /* close without sending anything (FIN) */
	FAKEHTTP_RESET_NOW,   /* reset without sending anything (RST) */
};

struct fakehttp_response {
	int status;                  /* default 200 */
	const char *reason;          /* default from the status */
	enum fakehttp_action action;
	size_t action_after;         /* body offset for RESET/TRUNCATE/CORRUPT */
	unsigned delay_ms;           /* wait before sending anything */
	size_t stall_after;          /* after this many body bytes ... */
	unsigned stall_ms;           /* ... pause this long (0 = no stall) */
	int chunked;                 /* send the body with Transfer-Encoding: chunked */
	int close;                   /* send "Connection: close" and close afterwards */
	/* Filled by the helpers below; freed by the server. */
	char *headers;               /* "Name: value\r\n"... */
	size_t headers_len;
	unsigned char *body;
	size_t body_len;
};

typedef void (*fakehttp_handler)(const struct fakehttp_request *req,
				 struct fakehttp_response *resp, void *ctx);

/* Start listening; NULL if the socket or thread cannot be created. */
struct fakehttp *fakehttp_start(fakehttp_handler handler, void *ctx);

/* Stop accepting, cut every connection, join all threads, free. NULL is a no-op. */
void fakehttp_stop(struct fakehttp *srv);

int fakehttp_port(const struct fakehttp *srv);

/* "http://127.0.0.1:PORT" (no trailing slash), owned by the server. */
const char *fakehttp_url(const struct fakehttp *srv);

/* Requests handled so far (each handler call counts once). */
unsigned long fakehttp_request_count(struct fakehttp *srv);

/* Connections accepted so far. */
unsigned long fakehttp_connection_count(struct fakehttp *srv);

/* First header `name` (case-insensitive) of the request, or NULL. */
const char *fakehttp_request_header(const struct fakehttp_request *req, const char *name);

/* Append "Name: value" (printf-style value). Do not add Content-Length,
 * Transfer-Encoding or Connection: the server writes those. */
void fakehttp_response_header(struct fakehttp_response *resp, const char *name,
			      const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Set the body (copied). For HEAD the length is announced, no body is sent. */
void fakehttp_response_body(struct fakehttp_response *resp, const void *data, size_t len);
void fakehttp_response_body_str(struct fakehttp_response *resp, const char *s);

#endif
