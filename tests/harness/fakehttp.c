/*
 * fakehttp.c — see fakehttp.h. One acceptor thread, one thread per
 * connection. Every blocking wait polls a "wake" pipe as well, which
 * fakehttp_stop() makes readable for good, so no thread can outlive stop:
 * stalls end early, idle keep-alive connections are dropped, and sends
 * blocked on a client that stopped reading are cut by shutdown().
 */
#include "fakehttp.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_HEAD (64 * 1024)          /* request line + headers */
#define MAX_BODY (256u * 1024 * 1024) /* request body, decoded */
#define MAX_HEADERS 128
#define IDLE_MS 30000                 /* idle keep-alive connection timeout */

struct conn {
	struct fakehttp *srv;
	pthread_t thread;
	int fd;
	int done; /* thread finished; guarded by srv->lock */
	unsigned long id;
	struct conn *next;
	/* input buffer: bytes [pos, len) are unread */
	char *in;
	size_t pos, len, cap;
};

struct fakehttp {
	fakehttp_handler handler;
	void *ctx;
	int lfd;
	int wake[2];
	int port;
	char url[64];
	int stopping;
	pthread_t acceptor;
	pthread_mutex_t lock;         /* conns, counters, stopping */
	pthread_mutex_t handler_lock; /* one handler call at a time */
	struct conn *conns;
	unsigned long requests, connections;
};

/* ---- small helpers --------------------------------------------------------- */

static void *xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);
	if (!q) {
		fputs("fakehttp: out of memory\n", stderr);
		abort();
	}
	return q;
}

static char *xstrndup(const char *s, size_t n)
{
	char *d = xrealloc(NULL, n + 1);
	memcpy(d, s, n);
	d[n] = '\0';
	return d;
}

static int is_stopping(struct fakehttp *srv)
{
	int s;
	pthread_mutex_lock(&srv->lock);
	s = srv->stopping;
	pthread_mutex_unlock(&srv->lock);
	return s;
}

/* Wait for `events` on fd, at most `ms` (-1: forever). 1 ready, 0 timeout,
 * -1 stopping or error. */
static int wait_fd(struct fakehttp *srv, int fd, short events, int ms)
{
	struct pollfd p[2] = {{fd, events, 0}, {srv->wake[0], POLLIN, 0}};
	for (;;) {
		int r = poll(p, 2, ms);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 || (p[1].revents & POLLIN))
			return -1;
		return r == 0 ? 0 : 1;
	}
}

/* Sleep `ms`, waking early when the server stops. 0 slept, -1 stopping. */
static int sleep_ms(struct fakehttp *srv, unsigned ms)
{
	struct pollfd p = {srv->wake[0], POLLIN, 0};
	int r;
	do
		r = poll(&p, 1, (int)ms);
	while (r < 0 && errno == EINTR);
	return r == 0 ? 0 : -1;
}

static int send_all(struct fakehttp *srv, int fd, const void *data, size_t n)
{
	const char *p = data;
	while (n) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			if (wait_fd(srv, fd, POLLOUT, -1) != 1)
				return -1;
			continue;
		}
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* ---- reading requests ------------------------------------------------------- */

/* Read more input; 1 got bytes, 0 EOF, -1 error/stop/idle timeout. */
static int fill(struct conn *c)
{
	ssize_t r;
	int w;
	if (c->pos == c->len)
		c->pos = c->len = 0;
	if (c->cap - c->len < 16384) {
		c->cap = c->cap ? c->cap * 2 : 65536;
		c->in = xrealloc(c->in, c->cap + 1);
	}
	w = wait_fd(c->srv, c->fd, POLLIN, IDLE_MS);
	if (w != 1)
		return -1;
	do
		r = recv(c->fd, c->in + c->len, c->cap - c->len, 0);
	while (r < 0 && errno == EINTR);
	if (r < 0)
		return -1;
	c->len += (size_t)r;
	return r > 0;
}

/* A CRLF-terminated line (without the CRLF), malloc'd; NULL on EOF/error. */
static char *read_line(struct conn *c, size_t max)
{
	for (;;) {
		char *nl = memchr(c->in + c->pos, '\n', c->len - c->pos);
		if (nl) {
			size_t n = (size_t)(nl - (c->in + c->pos));
			char *line = xstrndup(c->in + c->pos, n && nl[-1] == '\r' ? n - 1 : n);
			c->pos += n + 1;
			return line;
		}
		if (c->len - c->pos > max || fill(c) != 1)
			return NULL;
	}
}

/* Append exactly n body bytes to *body. 0 or -1. */
static int read_bytes(struct conn *c, size_t n, unsigned char **body, size_t *blen)
{
	if (*blen + n > MAX_BODY)
		return -1;
	*body = xrealloc(*body, *blen + n + 1);
	while (n) {
		size_t have = c->len - c->pos, k = have < n ? have : n;
		if (k == 0) {
			if (fill(c) != 1)
				return -1;
			continue;
		}
		memcpy(*body + *blen, c->in + c->pos, k);
		*blen += k;
		c->pos += k;
		n -= k;
	}
	return 0;
}

/* Transfer-Encoding: chunked (RFC 9112 §7.1); trailers are read and dropped. */
static int read_chunked(struct conn *c, unsigned char **body, size_t *blen)
{
	for (;;) {
		char *line = read_line(c, 1024), *end, *crlf;
		unsigned long size;
		int rc;
		if (!line)
			return -1;
		errno = 0;
		size = strtoul(line, &end, 16);
		rc = (end == line || errno || (*end && *end != ';')) ? -1 : 0;
		free(line);
		if (rc)
			return -1;
		if (size == 0)
			break;
		if (read_bytes(c, size, body, blen) != 0)
			return -1;
		if (!(crlf = read_line(c, 2)))
			return -1;
		rc = *crlf ? -1 : 0;
		free(crlf);
		if (rc)
			return -1;
	}
	for (;;) { /* trailer section ends with an empty line */
		char *t = read_line(c, MAX_HEAD);
		int empty;
		if (!t)
			return -1;
		empty = !*t;
		free(t);
		if (empty)
			return 0;
	}
}

struct request_store {
	struct fakehttp_request rq;
	struct fakehttp_header headers[MAX_HEADERS];
	char *line; /* request line, split in place */
	char *hdr_lines[MAX_HEADERS];
	char *path;
	unsigned char *body;
};

static void request_free(struct request_store *s)
{
	free(s->line);
	for (size_t i = 0; i < s->rq.nheaders; i++)
		free(s->hdr_lines[i]);
	free(s->path);
	free(s->body);
	memset(s, 0, sizeof *s);
}

static const char *find_header(const struct request_store *s, const char *name)
{
	return fakehttp_request_header(&s->rq, name);
}

/* Read one request. 1 read, 0 clean EOF before a request, -1 error. */
static int read_request(struct conn *c, struct request_store *s)
{
	char *sp1, *sp2, *q;
	const char *te, *cl, *expect;
	size_t blen = 0;

	memset(s, 0, sizeof *s);
	while (c->pos == c->len) { /* idle keep-alive: wait for the next request */
		int r = fill(c);
		if (r != 1)
			return r == 0 ? 0 : -1;
	}
	if (!(s->line = read_line(c, MAX_HEAD)))
		return -1;
	if (!(sp1 = strchr(s->line, ' ')) || !(sp2 = strchr(sp1 + 1, ' ')))
		return -1;
	*sp1 = *sp2 = '\0';
	s->rq.method = s->line;
	s->rq.target = sp1 + 1;
	s->rq.version = sp2 + 1;
	q = strchr(s->rq.target, '?');
	s->path = xstrndup(s->rq.target, q ? (size_t)(q - s->rq.target) : strlen(s->rq.target));
	s->rq.path = s->path;
	s->rq.query = q ? q + 1 : "";

	for (;;) {
		char *h = read_line(c, MAX_HEAD), *colon, *v;
		if (!h)
			return -1;
		if (!*h) {
			free(h);
			break;
		}
		if (s->rq.nheaders == MAX_HEADERS || !(colon = strchr(h, ':'))) {
			free(h);
			return -1;
		}
		*colon = '\0';
		for (v = colon + 1; *v == ' ' || *v == '\t'; v++)
			;
		for (char *e = v + strlen(v); e > v && (e[-1] == ' ' || e[-1] == '\t');)
			*--e = '\0';
		s->hdr_lines[s->rq.nheaders] = h;
		s->headers[s->rq.nheaders].name = h;
		s->headers[s->rq.nheaders].value = v;
		s->rq.nheaders++;
	}
	s->rq.headers = s->headers;

	expect = find_header(s, "Expect");
	te = find_header(s, "Transfer-Encoding");
	cl = find_header(s, "Content-Length");
	if (expect && !strcasecmp(expect, "100-continue")) {
		static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";
		s->rq.expect_continue = 1;
		if (send_all(c->srv, c->fd, cont, sizeof cont - 1) != 0)
			return -1;
	}
	if (te && strcasecmp(te, "identity") != 0) {
		if (strcasecmp(te, "chunked") != 0 || read_chunked(c, &s->body, &blen) != 0)
			return -1;
		s->rq.body_chunked = 1;
	} else if (cl) {
		char *end;
		unsigned long long n;
		errno = 0;
		n = strtoull(cl, &end, 10);
		if (errno || end == cl || *end || n > MAX_BODY || *cl == '-')
			return -1;
		if (read_bytes(c, (size_t)n, &s->body, &blen) != 0)
			return -1;
	}
	if (!s->body)
		s->body = xrealloc(NULL, 1);
	s->body[blen] = '\0';
	s->rq.body = s->body;
	s->rq.body_len = blen;
	return 1;
}

/* ---- writing responses --------------------------------------------------------- */

static const char *default_reason(int status)
{
	switch (status) {
	case 200: return "OK";
	case 201: return "Created";
	case 202: return "Accepted";
	case 204: return "No Content";
	case 206: return "Partial Content";
	case 301: return "Moved Permanently";
	case 302: return "Found";
	case 304: return "Not Modified";
	case 307: return "Temporary Redirect";
	case 308: return "Permanent Redirect";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 413: return "Payload Too Large";
	case 416: return "Range Not Satisfiable";
	case 429: return "Too Many Requests";
	case 500: return "Internal Server Error";
	case 502: return "Bad Gateway";
	case 503: return "Service Unavailable";
	case 504: return "Gateway Timeout";
	default: return "Status";
	}
}

/* Send body bytes [from, to), chunk-framed if asked. */
static int send_body(struct conn *c, const unsigned char *body, size_t from, size_t to,
		     int chunked)
{
	char frame[32];
	if (to <= from)
		return 0;
	if (chunked) {
		int n = snprintf(frame, sizeof frame, "%zx\r\n", to - from);
		if (send_all(c->srv, c->fd, frame, (size_t)n) != 0)
			return -1;
	}
	if (send_all(c->srv, c->fd, body + from, to - from) != 0)
		return -1;
	return chunked ? send_all(c->srv, c->fd, "\r\n", 2) : 0;
}

enum after { KEEP, CLOSE_FIN, CLOSE_RST };

/* Send the response as the handler asked; say how the connection goes on. */
static enum after send_response(struct conn *c, const struct fakehttp_request *rq,
			 struct fakehttp_response *rs, int client_close)
{
	int head_only = !strcmp(rq->method, "HEAD") || rs->status == 204 || rs->status == 304;
	int closing = rs->close || client_close;
	size_t limit = rs->body_len, stall;
	char *head = NULL;
	size_t cap;
	int n;

	if (rs->delay_ms && sleep_ms(c->srv, rs->delay_ms) != 0)
		return CLOSE_FIN;
	if (rs->action == FAKEHTTP_CLOSE)
		return CLOSE_FIN;
	if (rs->action == FAKEHTTP_RESET_NOW)
		return CLOSE_RST;
	if (rs->action == FAKEHTTP_CORRUPT && rs->body_len)
		rs->body[rs->action_after % rs->body_len] ^= 0x5a;

	n = snprintf(NULL, 0, "HTTP/1.1 %d %s\r\n", rs->status,
		     rs->reason ? rs->reason : default_reason(rs->status));
	cap = (size_t)n + rs->headers_len + 128; /* + framing headers below */
	head = xrealloc(NULL, cap);
	n = snprintf(head, cap, "HTTP/1.1 %d %s\r\n", rs->status,
		     rs->reason ? rs->reason : default_reason(rs->status));
	if (rs->headers_len)
		memcpy(head + n, rs->headers, rs->headers_len);
	n += (int)rs->headers_len;
	if (rs->status != 204 && rs->status != 304 && rs->status >= 200) {
		if (rs->chunked)
			n += snprintf(head + n, cap - (size_t)n, "Transfer-Encoding: chunked\r\n");
		else
			n += snprintf(head + n, cap - (size_t)n, "Content-Length: %zu\r\n",
				      rs->body_len);
	}
	n += snprintf(head + n, cap - (size_t)n, "%s\r\n",
		      closing ? "Connection: close\r\n" : "");
	if (send_all(c->srv, c->fd, head, (size_t)n) != 0) {
		free(head);
		return CLOSE_FIN;
	}
	free(head);

	if (rs->action == FAKEHTTP_RESET || rs->action == FAKEHTTP_TRUNCATE)
		limit = rs->action_after < rs->body_len ? rs->action_after : rs->body_len;
	if (!head_only) {
		stall = rs->stall_ms && rs->stall_after < limit ? rs->stall_after : limit;
		if (send_body(c, rs->body, 0, stall, rs->chunked) != 0)
			return CLOSE_FIN;
		if (rs->stall_ms && sleep_ms(c->srv, rs->stall_ms) != 0)
			return CLOSE_FIN;
		if (send_body(c, rs->body, stall, limit, rs->chunked) != 0)
			return CLOSE_FIN;
	}
	if (rs->action == FAKEHTTP_RESET)
		return CLOSE_RST;
	if (rs->action == FAKEHTTP_TRUNCATE)
		return CLOSE_FIN;
	if (!head_only && rs->chunked && send_all(c->srv, c->fd, "0\r\n\r\n", 5) != 0)
		return CLOSE_FIN;
	return closing ? CLOSE_FIN : KEEP;
}

/* ---- threads ---------------------------------------------------------------------- */

static int wants_close(const struct fakehttp_request *rq)
{
	const char *conn = fakehttp_request_header(rq, "Connection");
	if (!strcmp(rq->version, "HTTP/1.0"))
		return !(conn && !strcasecmp(conn, "keep-alive"));
	return conn && !strcasecmp(conn, "close");
}

static void *conn_main(void *arg)
{
	struct conn *c = arg;
	struct fakehttp *srv = c->srv;
	unsigned long conn_seq = 0;
	enum after how = CLOSE_FIN;

	while (!is_stopping(srv)) {
		struct request_store s;
		struct fakehttp_response rs;
		int rc = read_request(c, &s);
		if (rc != 1) {
			request_free(&s);
			break;
		}
		memset(&rs, 0, sizeof rs);
		rs.status = 200;
		s.rq.conn_id = c->id;
		s.rq.conn_seq = ++conn_seq;
		pthread_mutex_lock(&srv->handler_lock);
		pthread_mutex_lock(&srv->lock);
		s.rq.seq = ++srv->requests;
		pthread_mutex_unlock(&srv->lock);
		srv->handler(&s.rq, &rs, srv->ctx);
		pthread_mutex_unlock(&srv->handler_lock);
		how = send_response(c, &s.rq, &rs, wants_close(&s.rq));
		free(rs.headers);
		free(rs.body);
		request_free(&s);
		if (how != KEEP)
			break;
		how = CLOSE_FIN;
	}
	/* closed under the lock: fakehttp_stop() may be shutting this fd down */
	pthread_mutex_lock(&srv->lock);
	if (how == CLOSE_RST) {
		struct linger l = {1, 0}; /* close() sends RST instead of FIN */
		setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
	} else {
		shutdown(c->fd, SHUT_WR);
	}
	close(c->fd);
	c->fd = -1;
	c->done = 1;
	pthread_mutex_unlock(&srv->lock);
	return NULL;
}

/* Join connection threads that have finished (keeps long tests lean). */
static void reap(struct fakehttp *srv)
{
	for (;;) {
		struct conn **pp, *dead = NULL;
		pthread_mutex_lock(&srv->lock);
		for (pp = &srv->conns; *pp; pp = &(*pp)->next) {
			if ((*pp)->done) {
				dead = *pp;
				*pp = dead->next;
				break;
			}
		}
		pthread_mutex_unlock(&srv->lock);
		if (!dead)
			return;
		pthread_join(dead->thread, NULL);
		free(dead->in);
		free(dead);
	}
}

static void *acceptor_main(void *arg)
{
	struct fakehttp *srv = arg;
	for (;;) {
		struct conn *c;
		int fd;
		int w = wait_fd(srv, srv->lfd, POLLIN, 1000);
		if (w < 0)
			break;
		reap(srv);
		if (w == 0)
			continue;
		fd = accept4(srv->lfd, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0)
			continue;
		c = xrealloc(NULL, sizeof *c);
		memset(c, 0, sizeof *c);
		c->srv = srv;
		c->fd = fd;
		pthread_mutex_lock(&srv->lock);
		if (srv->stopping) {
			pthread_mutex_unlock(&srv->lock);
			close(fd);
			free(c);
			break;
		}
		c->id = ++srv->connections;
		c->next = srv->conns;
		srv->conns = c;
		if (pthread_create(&c->thread, NULL, conn_main, c) != 0) {
			srv->conns = c->next;
			pthread_mutex_unlock(&srv->lock);
			close(fd);
			free(c);
			continue;
		}
		pthread_mutex_unlock(&srv->lock);
	}
	return NULL;
}

/* ---- public API ---------------------------------------------------------------------- */

struct fakehttp *fakehttp_start(fakehttp_handler handler, void *ctx)
{
	struct fakehttp *srv = calloc(1, sizeof *srv);
	struct sockaddr_in a;
	socklen_t alen = sizeof a;

	if (!srv)
		return NULL;
	srv->handler = handler;
	srv->ctx = ctx;
	srv->lfd = srv->wake[0] = srv->wake[1] = -1;
	pthread_mutex_init(&srv->lock, NULL);
	pthread_mutex_init(&srv->handler_lock, NULL);
	if (pipe2(srv->wake, O_CLOEXEC) != 0)
		goto fail;
	srv->lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (srv->lfd < 0)
		goto fail;
	memset(&a, 0, sizeof a);
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(srv->lfd, (struct sockaddr *)&a, sizeof a) != 0 || listen(srv->lfd, 64) != 0 ||
	    getsockname(srv->lfd, (struct sockaddr *)&a, &alen) != 0)
		goto fail;
	srv->port = ntohs(a.sin_port);
	snprintf(srv->url, sizeof srv->url, "http://127.0.0.1:%d", srv->port);
	if (pthread_create(&srv->acceptor, NULL, acceptor_main, srv) != 0)
		goto fail;
	return srv;
fail:
	if (srv->lfd >= 0)
		close(srv->lfd);
	if (srv->wake[0] >= 0) {
		close(srv->wake[0]);
		close(srv->wake[1]);
	}
	pthread_mutex_destroy(&srv->lock);
	pthread_mutex_destroy(&srv->handler_lock);
	free(srv);
	return NULL;
}

void fakehttp_stop(struct fakehttp *srv)
{
	if (!srv)
		return;
	pthread_mutex_lock(&srv->lock);
	srv->stopping = 1;
	/* cut blocked sends and reads; the wake pipe ends every poll */
	for (struct conn *c = srv->conns; c; c = c->next)
		if (c->fd >= 0)
			shutdown(c->fd, SHUT_RDWR);
	pthread_mutex_unlock(&srv->lock);
	if (write(srv->wake[1], "x", 1) != 1)
		fputs("fakehttp: cannot wake threads\n", stderr);
	pthread_join(srv->acceptor, NULL);
	/* mark everything done-able: threads exit on the wake pipe */
	for (;;) {
		struct conn *c;
		pthread_mutex_lock(&srv->lock);
		c = srv->conns;
		if (c)
			srv->conns = c->next;
		pthread_mutex_unlock(&srv->lock);
		if (!c)
			break;
		pthread_join(c->thread, NULL);
		free(c->in);
		free(c);
	}
	close(srv->lfd);
	close(srv->wake[0]);
	close(srv->wake[1]);
	pthread_mutex_destroy(&srv->lock);
	pthread_mutex_destroy(&srv->handler_lock);
	free(srv);
}

int fakehttp_port(const struct fakehttp *srv)
{
	return srv->port;
}

const char *fakehttp_url(const struct fakehttp *srv)
{
	return srv->url;
}

unsigned long fakehttp_request_count(struct fakehttp *srv)
{
	unsigned long n;
	pthread_mutex_lock(&srv->lock);
	n = srv->requests;
	pthread_mutex_unlock(&srv->lock);
	return n;
}

unsigned long fakehttp_connection_count(struct fakehttp *srv)
{
	unsigned long n;
	pthread_mutex_lock(&srv->lock);
	n = srv->connections;
	pthread_mutex_unlock(&srv->lock);
	return n;
}

const char *fakehttp_request_header(const struct fakehttp_request *req, const char *name)
{
	for (size_t i = 0; i < req->nheaders; i++)
		if (!strcasecmp(req->headers[i].name, name))
			return req->headers[i].value;
	return NULL;
}

void fakehttp_response_header(struct fakehttp_response *resp, const char *name,
			      const char *fmt, ...)
{
	va_list ap;
	int vlen;
	size_t need;

	va_start(ap, fmt);
	vlen = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (vlen < 0)
		return;
	need = resp->headers_len + strlen(name) + 2 + (size_t)vlen + 3;
	resp->headers = xrealloc(resp->headers, need);
	resp->headers_len += (size_t)snprintf(resp->headers + resp->headers_len,
					      need - resp->headers_len, "%s: ", name);
	va_start(ap, fmt);
	resp->headers_len += (size_t)vsnprintf(resp->headers + resp->headers_len,
					       need - resp->headers_len, fmt, ap);
	va_end(ap);
	memcpy(resp->headers + resp->headers_len, "\r\n", 3);
	resp->headers_len += 2;
}

void fakehttp_response_body(struct fakehttp_response *resp, const void *data, size_t len)
{
	free(resp->body);
	resp->body = xrealloc(NULL, len);
	if (len)
		memcpy(resp->body, data, len);
	resp->body_len = len;
}

void fakehttp_response_body_str(struct fakehttp_response *resp, const char *s)
{
	fakehttp_response_body(resp, s, strlen(s));
}
