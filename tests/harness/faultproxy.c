/*
 * rv-faultproxy — a fault-injecting HTTP/1.1 reverse proxy for the live tests.
 *
 * Sits between a client (regvault, skopeo, curl) and a real registry on
 * loopback and, for a share of the requests (--rate, drawn from a seeded
 * PRNG so a run can be repeated), misbehaves the way overloaded registries
 * and the networks in front of them do but a healthy docker-registry will
 * not on demand (STYLE.md habits 12 and 13):
 *
 *   429 500 502 503  answered by the proxy itself with a distribution-style
 *                    JSON error; upstream never sees the request
 *   reset            response head and part of the body, then a TCP RST
 *   truncate         full Content-Length, part of the body, then a clean FIN
 *   stall            a pause of --stall-ms in the middle of the body
 *   flip             one byte of a blob GET's 200 body inverted (same length)
 *
 * --only-path-prefix narrows all of it to chosen paths (one blob, say):
 * other requests pass and draw nothing from the PRNG.
 *
 * Everything else passes through, streamed both ways through one fixed
 * buffer per direction per connection: blob uploads and downloads are never
 * held in memory. A body keeps its framing (Content-Length, chunked, or
 * until-close); chunked bodies are decoded and re-chunked, so a fault's
 * position counts body bytes, not framing.
 *
 * One thread per client connection (keep-alive), one upstream connection per
 * request ("Connection: close" upstream: no pool to get wrong). Every wait is
 * a poll() with a timeout that also watches a wake pipe; on TERM/INT the
 * main thread makes that pipe readable for good and joins every thread.
 *
 * Log (--log): one line per request, never a header (they may hold
 * credentials) nor the query string:
 *   <METHOD> <path> <pass|429|500|502|503|reset|truncate|stall|flip|error> <status>
 * Libc and pthreads only: it links nothing of regvault (README.md).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "util/banned.h"

#define BUF_SIZE (64 * 1024)  /* per direction per connection */
#define MAX_HEAD (32 * 1024)  /* start line + headers of one message */
#define OUT_SIZE (2 * MAX_HEAD) /* a head after rewriting */
#define MAX_HEADERS 128
#define MAX_CONNS 128
#define MAX_SKIP 16
#define MAX_FAULTS 16
#define MAX_INTERIM 8         /* 1xx responses before the final one */
#define IDLE_MS 60000         /* keep-alive client between requests */
#define IO_MS 30000           /* any read or write inside a message */
#define CONNECT_MS 5000
#define EXPECT_MS 1000        /* wait for upstream's 100 Continue, as curl does */
#define RESET_PAUSE_MS 50     /* let the client read the partial body first */
#define LINGER_MS 1000        /* drain the client after our FIN */

enum fault { F_PASS, F_429, F_500, F_502, F_503, F_RESET, F_TRUNCATE, F_STALL, F_FLIP, F_ERROR };
static const char *const fault_name[] = {"pass",  "429",      "500",   "502",  "503",
					 "reset", "truncate", "stall", "flip", "error"};

enum framing { BODY_NONE, BODY_LENGTH, BODY_CHUNKED, BODY_CLOSE };
struct body {
	enum framing kind;
	uint64_t length; /* BODY_LENGTH */
};

/* Buffered input from one socket: bytes [pos, len) are unread. */
struct reader {
	int fd;
	size_t pos, len;
	char buf[BUF_SIZE];
};

struct header {
	const char *name, *value;
};

/* One message head, split in place: start line and headers. */
struct head {
	char raw[MAX_HEAD + 1];
	char *start;
	struct header h[MAX_HEADERS];
	int n;
};

struct out {
	char buf[OUT_SIZE];
	size_t len;
	int overflow;
};

struct conn {
	pthread_t thread;
	int fd;
	int done; /* worker finished; guarded by g.lock */
	struct conn *next;
	struct reader cli, up;
	struct head req, resp;
	struct out out;
};

struct request {
	const char *method, *target; /* into conn.req.raw */
	size_t pathlen;              /* target up to '?' */
	struct body body;
	int head, expect, close;
	enum fault fault;
	int status; /* what the client got; 0 = nothing (it went away) */
};

/* Where a response fault bites: at body offset `at` (counted in body bytes). */
struct mangle {
	enum fault fault; /* F_PASS, F_RESET, F_TRUNCATE, F_STALL or F_FLIP */
	int have_at;
	uint64_t at, off;
};

enum { RELAY_OK = 0, RELAY_CUT = 1, RELAY_SRC = -1, RELAY_DST = -2 };
enum { KEEP = 1, CLOSE = 0, GONE = -1 }; /* what serve_request leaves */

static struct {
	struct sockaddr_in upstream;
	char upstream_host[64];   /* "127.0.0.1:5000": the Host upstream sees */
	char upstream_origin[80]; /* "http://127.0.0.1:5000" */
	char self_origin[80];     /* "http://127.0.0.1:<our port>" */
	double rate;
	enum fault faults[MAX_FAULTS];
	int nfaults;
	uint64_t prng;
	long retry_after, stall_ms;
	const char *skip[MAX_SKIP];
	int nskip;
	const char *only[MAX_SKIP];
	int nonly;
	FILE *log;
	int wake[2];
	pthread_mutex_t lock; /* prng, log, conns */
	struct conn *conns;
	int nconns;
} g = {.rate = 0.1, .prng = 1, .retry_after = 1, .stall_ms = 2000};

static volatile sig_atomic_t stopping;

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("rv-faultproxy: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(2);
}

static void on_signal(int sig)
{
	(void)sig;
	stopping = 1;
}

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* splitmix64: tiny, seedable, the same sequence on every machine. */
static uint64_t next_rand(void)
{
	uint64_t z = (g.prng += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* ---- waiting and socket I/O ----------------------------------------------------- */

/*
 * Wait until fd has `events` (fd < 0: just sleep) or timeout_ms pass.
 * 1 ready, 0 timed out, -1 stopping (wake pipe readable) or poll failed.
 */
static int wait_fd(int fd, short events, int timeout_ms)
{
	struct pollfd p[2] = {{.fd = fd, .events = events}, {.fd = g.wake[0], .events = POLLIN}};
	int64_t deadline = now_ms() + timeout_ms;
	for (;;) {
		int64_t left = deadline - now_ms();
		int r = poll(p, 2, left > 0 ? (int)left : 0);
		if (r < 0 && errno == EINTR)
			continue; /* the deadline still bounds us */
		if (r < 0 || p[1].revents)
			return -1;
		if (r == 0)
			return 0;
		return 1;
	}
}

static int send_all(int fd, const void *data, size_t n)
{
	const char *s = data;
	while (n > 0) {
		ssize_t w = send(fd, s, n, MSG_NOSIGNAL);
		if (w > 0) {
			s += w;
			n -= (size_t)w;
		} else if (w < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
			return -1;
		} else if (wait_fd(fd, POLLOUT, IO_MS) != 1) {
			return -1; /* the peer stopped reading, or we are stopping */
		}
	}
	return 0;
}

/* Read more into r. >0 bytes read, 0 EOF, -1 error, timeout, stop or full. */
static ssize_t rd_fill(struct reader *r, int timeout_ms)
{
	if (r->pos == r->len) {
		r->pos = r->len = 0;
	} else if (r->pos > 0 && r->len == sizeof r->buf) {
		memmove(r->buf, r->buf + r->pos, r->len - r->pos);
		r->len -= r->pos;
		r->pos = 0;
	}
	if (r->len == sizeof r->buf)
		return -1;
	for (int tries = 0; tries < 3; tries++) { /* readiness can be spurious */
		ssize_t n;
		if (wait_fd(r->fd, POLLIN, timeout_ms) != 1)
			return -1;
		n = recv(r->fd, r->buf + r->len, sizeof r->buf - r->len, 0);
		if (n >= 0) {
			r->len += (size_t)n;
			return n;
		}
		if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
			return -1;
	}
	return -1;
}

/* One CRLF-terminated line (chunk size, trailer) into out, without the CRLF. */
static int rd_line(struct reader *r, char *out, size_t cap)
{
	for (;;) {
		char *s = r->buf + r->pos, *e;
		size_t avail = r->len - r->pos;
		if ((e = memmem(s, avail, "\r\n", 2))) {
			size_t n = (size_t)(e - s);
			if (n >= cap)
				return -1;
			memcpy(out, s, n);
			out[n] = '\0';
			r->pos += n + 2;
			return 0;
		}
		if (avail > cap || rd_fill(r, IO_MS) <= 0)
			return -1;
	}
}

/* Close so that what we sent arrives: FIN, then read (and drop) until the
 * peer closes too, for at most LINGER_MS (RFC 9112 §9.6 "lingering close"). */
static void graceful_close(int fd)
{
	char sink[4096];
	int64_t deadline = now_ms() + LINGER_MS;
	shutdown(fd, SHUT_WR);
	for (;;) {
		int64_t left = deadline - now_ms();
		if (left <= 0 || wait_fd(fd, POLLIN, (int)left) != 1)
			break;
		ssize_t n = recv(fd, sink, sizeof sink, 0);
		if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
			break;
	}
	close(fd);
}

/* SO_LINGER 0: close() sends RST and drops whatever is unsent. */
static void reset_close(int fd)
{
	struct linger l = {.l_onoff = 1, .l_linger = 0};
	setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
	close(fd);
}

static int connect_upstream(void)
{
	int one = 1, err = 0, fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	socklen_t elen = sizeof err;
	if (fd < 0)
		return -1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	if (connect(fd, (const struct sockaddr *)&g.upstream, sizeof g.upstream) == 0)
		return fd;
	if (errno != EINPROGRESS || wait_fd(fd, POLLOUT, CONNECT_MS) != 1 ||
	    getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen) != 0 || err != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* ---- message heads -------------------------------------------------------------- */

/* Split m->raw (n bytes ending in CRLF CRLF) into start line and headers. */
static int head_parse(struct head *m, size_t n)
{
	char *p = m->raw, *end = m->raw + n - 2; /* the final empty line */
	m->n = 0;
	m->start = NULL;
	while (p < end) {
		char *line = p, *eol = memmem(p, (size_t)(end + 2 - p), "\r\n", 2), *colon, *v, *ve;
		if (!eol)
			return -1;
		*eol = '\0';
		p = eol + 2;
		if (!m->start) {
			m->start = line;
			continue;
		}
		/* obs-fold is refused, RFC 9112 §5.2 */
		if (*line == ' ' || *line == '\t' || m->n == MAX_HEADERS)
			return -1;
		colon = strchr(line, ':');
		if (!colon || colon == line || memchr(line, ' ', (size_t)(colon - line)))
			return -1;
		*colon = '\0';
		for (v = colon + 1; *v == ' ' || *v == '\t'; v++)
			;
		for (ve = v + strlen(v); ve > v && (ve[-1] == ' ' || ve[-1] == '\t'); ve--)
			;
		*ve = '\0';
		m->h[m->n].name = line;
		m->h[m->n++].value = v;
	}
	return m->start && *m->start ? 0 : -1;
}

/* Could these bytes start a request line? A method is a few capitals then
 * a space. Refusing anything else at once matters: skopeo first tries TLS
 * on every registry, and a ClientHello never holds CRLF CRLF, so waiting
 * for a head would stall it for its 10 s handshake timeout. */
static int request_prefix_ok(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (s[i] == ' ')
			return i > 0;
		if (s[i] < 'A' || s[i] > 'Z' || i >= 20)
			return 0;
	}
	return 1;
}

/*
 * Read one head into m. 1 read, 0 EOF or idle timeout before its first
 * byte (a keep-alive client leaving), -1 error or too long. `request`:
 * refuse bytes that cannot start a request as soon as they arrive.
 */
static int rd_head(struct reader *r, struct head *m, int first_timeout_ms, int request)
{
	for (;;) {
		char *s = r->buf + r->pos, *e;
		size_t avail = r->len - r->pos;
		if (avail >= 2 && s[0] == '\r' && s[1] == '\n') {
			r->pos += 2; /* RFC 9112 §2.2: ignore empty lines before a request */
			continue;
		}
		if ((e = memmem(s, avail, "\r\n\r\n", 4))) {
			size_t n = (size_t)(e - s) + 4;
			if (n > MAX_HEAD)
				return -1;
			memcpy(m->raw, s, n);
			m->raw[n] = '\0';
			r->pos += n;
			return head_parse(m, n) == 0 ? 1 : -1;
		}
		if (avail > MAX_HEAD || (request && !request_prefix_ok(s, avail)))
			return -1;
		ssize_t got = rd_fill(r, avail ? IO_MS : first_timeout_ms);
		if (got <= 0)
			return avail ? -1 : 0;
	}
}

static const char *head_get(const struct head *m, const char *name)
{
	for (int i = 0; i < m->n; i++)
		if (!strcasecmp(m->h[i].name, name))
			return m->h[i].value;
	return NULL;
}

/* Does any `name` header carry `token` in its comma list (params after ';' ignored)? */
static int head_has_token(const struct head *m, const char *name, const char *token)
{
	size_t tl = strlen(token);
	for (int i = 0; i < m->n; i++) {
		const char *v = m->h[i].value;
		if (strcasecmp(m->h[i].name, name))
			continue;
		while (*v) {
			const char *s, *e;
			while (*v == ' ' || *v == '\t' || *v == ',')
				v++;
			s = v;
			while (*v && *v != ',' && *v != ';')
				v++;
			for (e = v; e > s && (e[-1] == ' ' || e[-1] == '\t'); e--)
				;
			if ((size_t)(e - s) == tl && !strncasecmp(s, token, tl))
				return 1;
			while (*v && *v != ',')
				v++;
		}
	}
	return 0;
}

static int parse_length(const char *s, uint64_t *out)
{
	char *end;
	size_t n = strlen(s);
	if (n == 0 || n > 18 || strspn(s, "0123456789") != n)
		return -1;
	*out = strtoull(s, &end, 10);
	return 0;
}

/* RFC 9112 §6.1–6.3: chunked wins, then Content-Length, else no body. */
static int request_framing(const struct head *m, struct body *b)
{
	const char *cl = head_get(m, "Content-Length");
	b->kind = BODY_NONE;
	b->length = 0;
	if (head_get(m, "Transfer-Encoding")) {
		if (!head_has_token(m, "Transfer-Encoding", "chunked"))
			return -1;
		b->kind = BODY_CHUNKED;
	} else if (cl) {
		if (parse_length(cl, &b->length) != 0)
			return -1;
		b->kind = b->length ? BODY_LENGTH : BODY_NONE;
	}
	return 0;
}

/* RFC 9112 §6.3: HEAD, 1xx, 204 and 304 have none; else chunked, length, close. */
static int response_framing(const struct head *m, int status, int head_request, struct body *b)
{
	const char *cl = head_get(m, "Content-Length");
	b->kind = BODY_NONE;
	b->length = 0;
	if (head_request || status < 200 || status == 204 || status == 304)
		return 0;
	if (head_get(m, "Transfer-Encoding"))
		b->kind = head_has_token(m, "Transfer-Encoding", "chunked") ? BODY_CHUNKED : BODY_CLOSE;
	else if (cl) {
		if (parse_length(cl, &b->length) != 0)
			return -1;
		b->kind = b->length ? BODY_LENGTH : BODY_NONE;
	} else
		b->kind = BODY_CLOSE;
	return 0;
}

static int parse_request(struct head *m, struct request *rq)
{
	char *sp1 = strchr(m->start, ' '), *sp2, *version;
	memset(rq, 0, sizeof *rq);
	if (!sp1)
		return -1;
	*sp1 = '\0';
	rq->method = m->start;
	rq->target = sp1 + 1;
	if (!(sp2 = strchr(sp1 + 1, ' ')))
		return -1;
	*sp2 = '\0';
	version = sp2 + 1;
	if (strcmp(version, "HTTP/1.1") && strcmp(version, "HTTP/1.0"))
		return -1;
	if (rq->target[0] != '/')
		return -1; /* origin-form only: we are a reverse proxy */
	rq->pathlen = strcspn(rq->target, "?");
	rq->head = !strcmp(rq->method, "HEAD");
	rq->close = !strcmp(version, "HTTP/1.0") || head_has_token(m, "Connection", "close");
	rq->expect = head_has_token(m, "Expect", "100-continue");
	return request_framing(m, &rq->body);
}

static int response_status(const struct head *m)
{
	const char *s = m->start;
	if (strncmp(s, "HTTP/1.", 7) || !s[7] || s[8] != ' ')
		return -1;
	if (strspn(s + 9, "0123456789") != 3 || (s[12] != ' ' && s[12] != '\0'))
		return -1;
	return (s[9] - '0') * 100 + (s[10] - '0') * 10 + (s[11] - '0');
}

/* ---- building heads ----------------------------------------------------------------- */

static void out_add(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void out_add(struct out *o, const char *fmt, ...)
{
	va_list ap;
	int n;
	if (o->overflow)
		return;
	va_start(ap, fmt);
	n = vsnprintf(o->buf + o->len, sizeof o->buf - o->len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof o->buf - o->len)
		o->overflow = 1;
	else
		o->len += (size_t)n;
}

/* Append v with every "http://UPSTREAM" replaced by our own origin, so a
 * client that follows Location (blob uploads) keeps going through us. */
static void out_rewrite(struct out *o, const char *v)
{
	size_t ol = strlen(g.upstream_origin);
	const char *hit;
	while ((hit = strstr(v, g.upstream_origin))) {
		const char *after = hit + ol;
		if (*after >= '0' && *after <= '9') { /* :5000 must not match :50001 */
			out_add(o, "%.*s", (int)(after - v), v);
		} else {
			out_add(o, "%.*s%s", (int)(hit - v), v, g.self_origin);
		}
		v = after;
	}
	out_add(o, "%s", v);
}

/* RFC 9110 §7.6.1 hop-by-hop headers, and Host, which we set ourselves. */
static int is_hop_header(const char *name)
{
	static const char *const hop[] = {"Connection", "Keep-Alive", "Proxy-Connection",
					  "TE", "Upgrade", "Host"};
	for (size_t i = 0; i < sizeof hop / sizeof hop[0]; i++)
		if (!strcasecmp(name, hop[i]))
			return 1;
	return 0;
}

static int send_request_head(struct conn *c, const struct request *rq, int up)
{
	struct out *o = &c->out;
	o->len = 0;
	o->overflow = 0;
	out_add(o, "%s %s HTTP/1.1\r\n", rq->method, rq->target);
	for (int i = 0; i < c->req.n; i++)
		if (!is_hop_header(c->req.h[i].name))
			out_add(o, "%s: %s\r\n", c->req.h[i].name, c->req.h[i].value);
	out_add(o, "Host: %s\r\nConnection: close\r\n\r\n", g.upstream_host);
	return o->overflow ? -1 : send_all(up, o->buf, o->len);
}

static int send_response_head(struct conn *c, int keep)
{
	struct out *o = &c->out;
	o->len = 0;
	o->overflow = 0;
	out_add(o, "%s\r\n", c->resp.start);
	for (int i = 0; i < c->resp.n; i++) {
		const char *name = c->resp.h[i].name;
		if (is_hop_header(name))
			continue;
		out_add(o, "%s: ", name);
		if (!strcasecmp(name, "Location") || !strcasecmp(name, "Content-Location") ||
		    !strcasecmp(name, "Link"))
			out_rewrite(o, c->resp.h[i].value);
		else
			out_add(o, "%s", c->resp.h[i].value);
		out_add(o, "\r\n");
	}
	out_add(o, "%s\r\n", keep ? "" : "Connection: close\r\n");
	return o->overflow ? -1 : send_all(c->fd, o->buf, o->len);
}

static const char *reason(int status)
{
	switch (status) {
	case 400: return "Bad Request";
	case 429: return "Too Many Requests";
	case 500: return "Internal Server Error";
	case 502: return "Bad Gateway";
	case 503: return "Service Unavailable";
	default: return "Error";
	}
}

/* An error answered by the proxy itself, shaped like distribution's
 * (distribution-spec "Error Codes": {"errors":[{code,message,detail}]}). */
static int send_error(int fd, const struct request *rq, int status, int keep, const char *msg)
{
	const char *code = status == 429   ? "TOOMANYREQUESTS"
			   : status == 503 ? "UNAVAILABLE"
			   : status == 400 ? "UNSUPPORTED"
					   : "UNKNOWN";
	char body[256], head[512], retry[48] = "";
	int bn = snprintf(body, sizeof body,
			  "{\"errors\":[{\"code\":\"%s\",\"message\":\"rv-faultproxy: %s\","
			  "\"detail\":null}]}\n",
			  code, msg);
	int hn;
	if (status == 429)
		snprintf(retry, sizeof retry, "Retry-After: %ld\r\n", g.retry_after);
	hn = snprintf(head, sizeof head,
		      "HTTP/1.1 %d %s\r\nContent-Type: application/json; charset=utf-8\r\n"
		      "Content-Length: %d\r\nDocker-Distribution-Api-Version: registry/2.0\r\n%s%s\r\n",
		      status, reason(status), bn, retry, keep ? "" : "Connection: close\r\n");
	if (bn < 0 || (size_t)bn >= sizeof body || hn < 0 || (size_t)hn >= sizeof head)
		return -1;
	if (send_all(fd, head, (size_t)hn) != 0)
		return -1;
	return rq && rq->head ? 0 : send_all(fd, body, (size_t)bn);
}

/* ---- bodies --------------------------------------------------------------------- */

static int put(int dst, const char *p, size_t n)
{
	return dst < 0 || send_all(dst, p, n) == 0 ? RELAY_OK : RELAY_DST;
}

/* Send one piece of body, letting the fault in mg bite where it is due. */
static int relay_piece(int dst, char *p, size_t n, struct mangle *mg)
{
	size_t k;
	int rc;
	if (!mg || mg->fault == F_PASS) {
		if (mg)
			mg->off += n;
		return put(dst, p, n);
	}
	if (!mg->have_at) { /* length unknown (chunked, until-close): half the first piece */
		mg->have_at = 1;
		mg->at = mg->off + n / 2;
	}
	if (mg->at >= mg->off + n) {
		mg->off += n;
		return put(dst, p, n);
	}
	k = (size_t)(mg->at - mg->off);
	mg->off += n;
	switch (mg->fault) {
	case F_FLIP:
		p[k] = (char)(p[k] ^ 0xff);
		mg->fault = F_PASS;
		return put(dst, p, n);
	case F_STALL:
		mg->fault = F_PASS;
		if ((rc = put(dst, p, k)) != RELAY_OK)
			return rc;
		if (wait_fd(-1, 0, (int)g.stall_ms) < 0)
			return RELAY_DST; /* stopping */
		return put(dst, p + k, n - k);
	default: /* reset, truncate */
		return (rc = put(dst, p, k)) != RELAY_OK ? rc : RELAY_CUT;
	}
}

/* Relay n body bytes, or everything until EOF when until_eof. */
static int relay_data(struct reader *src, int dst, uint64_t n, int until_eof, struct mangle *mg)
{
	while (until_eof || n > 0) {
		size_t avail = src->len - src->pos, k;
		int rc;
		if (avail == 0) {
			ssize_t got = rd_fill(src, IO_MS);
			if (got == 0 && until_eof)
				return RELAY_OK;
			if (got <= 0)
				return RELAY_SRC;
			avail = src->len - src->pos;
		}
		k = !until_eof && n < avail ? (size_t)n : avail;
		rc = relay_piece(dst, src->buf + src->pos, k, mg);
		src->pos += k;
		n -= until_eof ? 0 : k;
		if (rc != RELAY_OK)
			return rc;
	}
	return RELAY_OK;
}

/* RFC 9112 §7.1: decode chunks, send each as one chunk of the same size. */
static int relay_chunked(struct reader *src, int dst, struct mangle *mg)
{
	char line[512], size_line[32];
	for (;;) {
		uint64_t size;
		char *end;
		int rc;
		if (rd_line(src, line, sizeof line) != 0)
			return RELAY_SRC;
		errno = 0;
		size = strtoull(line, &end, 16);
		if (end == line || errno || (*end && *end != ';' && *end != ' ' && *end != '\t'))
			return RELAY_SRC;
		if (size == 0)
			break;
		snprintf(size_line, sizeof size_line, "%" PRIx64 "\r\n", size);
		if ((rc = put(dst, size_line, strlen(size_line))) != RELAY_OK)
			return rc;
		if ((rc = relay_data(src, dst, size, 0, mg)) != RELAY_OK)
			return rc;
		if (rd_line(src, line, sizeof line) != 0 || line[0])
			return RELAY_SRC;
		if ((rc = put(dst, "\r\n", 2)) != RELAY_OK)
			return rc;
	}
	if (put(dst, "0\r\n", 3) != RELAY_OK)
		return RELAY_DST;
	for (int i = 0; i <= MAX_HEADERS; i++) { /* trailers, then the empty line */
		if (rd_line(src, line, sizeof line) != 0)
			return RELAY_SRC;
		if (put(dst, line, strlen(line)) != RELAY_OK || put(dst, "\r\n", 2) != RELAY_OK)
			return RELAY_DST;
		if (!line[0])
			return RELAY_OK;
	}
	return RELAY_SRC;
}

/* Relay a body from src to dst (dst < 0: read and drop it). */
static int relay_body(struct reader *src, int dst, const struct body *b, struct mangle *mg)
{
	if (mg && b->kind == BODY_LENGTH && !mg->have_at) {
		mg->have_at = 1;
		mg->at = b->length / 2; /* >= 1 byte unless the body is 1 byte long */
	}
	switch (b->kind) {
	case BODY_LENGTH: return relay_data(src, dst, b->length, 0, mg);
	case BODY_CHUNKED: return relay_chunked(src, dst, mg);
	case BODY_CLOSE: return relay_data(src, dst, 0, 1, mg);
	default: return RELAY_OK;
	}
}

/* ---- one request ---------------------------------------------------------------- */

static void log_request(const struct request *rq)
{
	if (!g.log)
		return;
	pthread_mutex_lock(&g.lock);
	fprintf(g.log, "%s %.*s %s %d\n", rq->method, (int)rq->pathlen, rq->target,
		fault_name[rq->fault], rq->status);
	fflush(g.log);
	pthread_mutex_unlock(&g.lock);
}

/* --skip-path-prefix: "/v2/" (or "/v2") means the ping exactly, since every
 * API path starts with it; any other value is a prefix. */
static int skipped(const struct request *rq)
{
	for (int i = 0; i < g.nskip; i++) {
		const char *s = g.skip[i];
		size_t n = strlen(s);
		if (!strcmp(s, "/v2/") || !strcmp(s, "/v2")) {
			if ((rq->pathlen == 4 && !memcmp(rq->target, "/v2/", 4)) ||
			    (rq->pathlen == 3 && !memcmp(rq->target, "/v2", 3)))
				return 1;
		} else if (rq->pathlen >= n && !memcmp(rq->target, s, n)) {
			return 1;
		}
	}
	return 0;
}

/* --only-path-prefix: with none given, every path may be faulted. */
static int targeted(const struct request *rq)
{
	for (int i = 0; i < g.nonly; i++) {
		size_t n = strlen(g.only[i]);
		if (rq->pathlen >= n && !memcmp(rq->target, g.only[i], n))
			return 1;
	}
	return g.nonly == 0;
}

static enum fault choose_fault(const struct request *rq)
{
	enum fault f = F_PASS;
	if (skipped(rq) || !targeted(rq))
		return F_PASS; /* no draw: the targeted requests' faults do not
				  depend on what else goes through */
	pthread_mutex_lock(&g.lock);
	if ((double)(next_rand() >> 11) * 0x1.0p-53 < g.rate)
		f = g.faults[next_rand() % (uint64_t)g.nfaults];
	pthread_mutex_unlock(&g.lock);
	return f;
}

static int is_blob_get(const struct request *rq)
{
	return !strcmp(rq->method, "GET") && !strncmp(rq->target, "/v2/", 4) &&
	       memmem(rq->target, rq->pathlen, "/blobs/", 7) &&
	       !memmem(rq->target, rq->pathlen, "/blobs/uploads/", 15);
}

/* A response fault that cannot apply to this response turns into a pass. */
static enum fault applicable(const struct request *rq, int status, const struct body *rb)
{
	switch (rq->fault) {
	case F_RESET:
	case F_TRUNCATE: return rb->kind == BODY_NONE ? F_PASS : rq->fault;
	case F_FLIP: return status == 200 && rb->kind != BODY_NONE && is_blob_get(rq) ? F_FLIP : F_PASS;
	default: return rq->fault;
	}
}

/*
 * 429/5xx from the proxy itself. The request body is read and dropped first
 * so the connection stays usable; with "Expect: 100-continue" the client has
 * not sent it yet, so we answer at once and close instead (RFC 9110 §10.1.1).
 */
static int status_fault(struct conn *c, struct request *rq)
{
	static const int codes[] = {[F_429] = 429, [F_500] = 500, [F_502] = 502, [F_503] = 503};
	int keep = !rq->close;
	if (rq->body.kind != BODY_NONE) {
		if (rq->expect)
			keep = 0;
		else if (relay_body(&c->cli, -1, &rq->body, NULL) != RELAY_OK)
			return CLOSE;
	}
	rq->status = codes[rq->fault];
	log_request(rq);
	if (send_error(c->fd, rq, rq->status, keep, "injected fault") != 0)
		return CLOSE;
	return keep ? KEEP : CLOSE;
}

static int proxy_error(struct conn *c, struct request *rq, int status, const char *msg)
{
	rq->fault = F_ERROR;
	rq->status = status;
	log_request(rq);
	send_error(c->fd, rq, status, 0, msg);
	return CLOSE;
}

/* Read upstream heads, passing 1xx ones to the client. 1 final head in
 * c->resp, 0 an interim one was forwarded (only if one_only), -1 error. */
static int read_response_head(struct conn *c, int one_only)
{
	for (int i = 0; i < MAX_INTERIM; i++) {
		int status;
		if (rd_head(&c->up, &c->resp, IO_MS, 0) != 1 || (status = response_status(&c->resp)) < 0)
			return -1;
		if (status >= 200)
			return 1;
		if (status == 101 || send_response_head(c, 1) != 0)
			return -1; /* no upgrades through us */
		if (one_only)
			return 0;
	}
	return -1;
}

/* Stream the request body upstream. With "Expect: 100-continue", give
 * upstream EXPECT_MS to answer first (a 100, or a final answer in *early). */
static int send_request_body(struct conn *c, const struct request *rq, int *early)
{
	if (rq->body.kind == BODY_NONE)
		return RELAY_OK;
	if (rq->expect) {
		int w = wait_fd(c->up.fd, POLLIN, EXPECT_MS), r;
		if (w < 0)
			return RELAY_SRC;
		if (w == 1) {
			if ((r = read_response_head(c, 1)) < 0)
				return RELAY_DST;
			if (r == 1) {
				*early = 1;
				return RELAY_OK;
			}
		}
	}
	return relay_body(&c->cli, c->up.fd, &rq->body, NULL);
}

/* Pass the request through, applying a response fault (reset, truncate,
 * stall, flip) if one was drawn. */
static int forward(struct conn *c, struct request *rq)
{
	struct body rb;
	struct mangle mg = {.fault = F_PASS};
	int up, early = 0, keep, status, rc;

	if ((up = connect_upstream()) < 0)
		return proxy_error(c, rq, 502, "cannot connect to upstream");
	c->up.fd = up;
	c->up.pos = c->up.len = 0;
	if (send_request_head(c, rq, up) != 0) {
		rc = proxy_error(c, rq, 502, "cannot send to upstream");
		goto done;
	}
	rc = send_request_body(c, rq, &early);
	if (rc == RELAY_SRC) { /* the client went away mid-body */
		rq->fault = F_ERROR;
		log_request(rq);
		rc = CLOSE;
		goto done;
	}
	/* RELAY_DST: upstream stopped reading; it may still have answered */
	keep = !rq->close && !early && rc == RELAY_OK;
	if (!early && read_response_head(c, 0) != 1) {
		rc = proxy_error(c, rq, 502, "no valid response from upstream");
		goto done;
	}
	status = response_status(&c->resp);
	if (response_framing(&c->resp, status, rq->head, &rb) != 0) {
		rc = proxy_error(c, rq, 502, "bad response framing from upstream");
		goto done;
	}
	rq->fault = mg.fault = applicable(rq, status, &rb);
	keep = keep && rb.kind != BODY_CLOSE && mg.fault != F_RESET && mg.fault != F_TRUNCATE;
	rq->status = status;
	log_request(rq);
	if (mg.fault == F_STALL && rb.kind == BODY_NONE && wait_fd(-1, 0, (int)g.stall_ms) < 0) {
		rc = CLOSE; /* no body to stall in: stall before the head */
		goto done;
	}
	if (send_response_head(c, keep) != 0) {
		rc = CLOSE;
		goto done;
	}
	rc = relay_body(&c->up, c->fd, &rb, &mg);
	if (rc == RELAY_CUT && mg.fault == F_RESET) {
		wait_fd(-1, 0, RESET_PAUSE_MS);
		reset_close(c->fd);
		c->fd = -1;
		rc = GONE;
	} else {
		rc = rc == RELAY_OK && keep ? KEEP : CLOSE;
	}
done:
	close(up);
	c->up.fd = -1;
	return rc;
}

static int serve_request(struct conn *c)
{
	struct request rq;
	int r = rd_head(&c->cli, &c->req, IDLE_MS, 1);
	if (r == 0)
		return CLOSE;
	if (r < 0 || parse_request(&c->req, &rq) != 0) {
		struct request bad = {.method = "-", .target = "-", .pathlen = 1, .status = 400};
		bad.fault = F_ERROR;
		log_request(&bad);
		send_error(c->fd, NULL, 400, 0, "malformed or unsupported request");
		return CLOSE;
	}
	rq.fault = choose_fault(&rq);
	if (rq.fault >= F_429 && rq.fault <= F_503)
		return status_fault(c, &rq);
	return forward(c, &rq);
}

/* ---- connections -------------------------------------------------------------------- */

static void *worker(void *arg)
{
	struct conn *c = arg;
	int r = KEEP;
	c->cli.fd = c->fd;
	c->up.fd = -1;
	while (r == KEEP) /* ends: every wait inside fails once the wake pipe is readable */
		r = serve_request(c);
	if (r != GONE)
		graceful_close(c->fd);
	pthread_mutex_lock(&g.lock);
	c->done = 1;
	pthread_mutex_unlock(&g.lock);
	return NULL;
}

/* Join finished workers (all of them, when stopping). */
static void reap(int all)
{
	for (int guard = 0; guard <= MAX_CONNS; guard++) {
		struct conn **pp, *c = NULL;
		pthread_mutex_lock(&g.lock);
		for (pp = &g.conns; *pp; pp = &(*pp)->next) {
			if (all || (*pp)->done) {
				c = *pp;
				*pp = c->next;
				g.nconns--;
				break;
			}
		}
		pthread_mutex_unlock(&g.lock);
		if (!c)
			return;
		pthread_join(c->thread, NULL);
		free(c);
	}
}

static void spawn(int fd)
{
	struct conn *c;
	sigset_t block, old;
	int one = 1, full, rc;
	pthread_mutex_lock(&g.lock);
	full = g.nconns >= MAX_CONNS;
	pthread_mutex_unlock(&g.lock);
	if (full || !(c = calloc(1, sizeof *c))) {
		close(fd); /* the client retries */
		return;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	c->fd = fd;
	/* TERM/INT go to the main thread, whose poll() they interrupt */
	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	pthread_sigmask(SIG_BLOCK, &block, &old);
	rc = pthread_create(&c->thread, NULL, worker, c);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0) {
		close(fd);
		free(c);
		return;
	}
	pthread_mutex_lock(&g.lock);
	c->next = g.conns;
	g.conns = c;
	g.nconns++;
	pthread_mutex_unlock(&g.lock);
}

static void serve(int lfd)
{
	struct pollfd p = {.fd = lfd, .events = POLLIN};
	while (!stopping) {
		int r = poll(&p, 1, 200);
		reap(0);
		if (r > 0 && (p.revents & POLLIN)) {
			int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
			if (fd >= 0)
				spawn(fd);
		}
	}
	if (write(g.wake[1], "x", 1) != 1) /* readable for good: every wait ends */
		fputs("rv-faultproxy: cannot wake the workers\n", stderr);
	reap(1);
}

/* ---- setup ---------------------------------------------------------------------- */

static int listen_loopback(int *port)
{
	struct sockaddr_in a = {.sin_family = AF_INET};
	socklen_t alen = sizeof a;
	int one = 1, fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		die("socket: %s", strerror(errno));
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)&a, sizeof a) != 0 || listen(fd, 128) != 0 ||
	    getsockname(fd, (struct sockaddr *)&a, &alen) != 0)
		die("listen on 127.0.0.1: %s", strerror(errno));
	*port = ntohs(a.sin_port);
	return fd;
}

/* Write the port via a temporary file and rename, so readers never see half. */
static void write_port_file(const char *path, int port)
{
	char tmp[4096];
	FILE *f;
	if (snprintf(tmp, sizeof tmp, "%s.tmp", path) >= (int)sizeof tmp)
		die("--port-file: path too long");
	f = fopen(tmp, "w");
	if (!f || fprintf(f, "%d\n", port) < 0 || fclose(f) != 0 || rename(tmp, path) != 0)
		die("cannot write port file \"%s\": %s", path, strerror(errno));
}

static long parse_long(const char *s, long min, long max, const char *opt)
{
	char *end;
	long v;
	errno = 0;
	v = strtol(s, &end, 10);
	if (end == s || *end || errno || v < min || v > max)
		die("%s: want an integer in %ld..%ld, got \"%s\"", opt, min, max, s);
	return v;
}

static void parse_upstream(const char *s)
{
	const char *colon = strrchr(s, ':');
	char host[48];
	long port;
	if (!colon || colon == s || (size_t)(colon - s) >= sizeof host)
		die("--upstream: want 127.0.0.1:PORT, got \"%s\"", s);
	memcpy(host, s, (size_t)(colon - s));
	host[colon - s] = '\0';
	port = parse_long(colon + 1, 1, 65535, "--upstream port");
	g.upstream.sin_family = AF_INET;
	g.upstream.sin_port = htons((uint16_t)port);
	if (!strcmp(host, "localhost"))
		g.upstream.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	else if (inet_pton(AF_INET, host, &g.upstream.sin_addr) != 1)
		die("--upstream: want an IPv4 address or localhost, got \"%s\"", host);
	if ((ntohl(g.upstream.sin_addr.s_addr) >> 24) != 127)
		die("--upstream: loopback only (127.0.0.0/8), got \"%s\"", host);
	snprintf(g.upstream_host, sizeof g.upstream_host, "%s:%ld", host, port);
	snprintf(g.upstream_origin, sizeof g.upstream_origin, "http://%s", g.upstream_host);
}

static void parse_faults(const char *s)
{
	g.nfaults = 0;
	while (*s) {
		size_t n = strcspn(s, ",");
		int f = -1;
		for (int i = F_429; i <= F_FLIP; i++)
			if (strlen(fault_name[i]) == n && !strncmp(s, fault_name[i], n))
				f = i;
		if (f < 0 || g.nfaults == MAX_FAULTS)
			die("--faults: unknown fault \"%.*s\" (want some of "
			    "429,500,502,503,reset,truncate,stall,flip)",
			    (int)n, s);
		g.faults[g.nfaults++] = (enum fault)f;
		s += n + (s[n] == ',');
	}
	if (g.nfaults == 0)
		die("--faults: empty list");
}

static void usage(void)
{
	fputs("usage: rv-faultproxy --upstream 127.0.0.1:PORT --port-file FILE [--rate 0.1]\n"
	      "         [--faults 429,500,502,503,reset,truncate,stall,flip] [--seed N]\n"
	      "         [--retry-after SECONDS] [--stall-ms MS] [--log FILE]\n"
	      "         [--skip-path-prefix PATH]... [--only-path-prefix PATH]...\n",
	      stderr);
	exit(2);
}

static const char *parse_args(int argc, char **argv)
{
	const char *port_file = NULL, *log_path = NULL, *upstream = NULL;
	parse_faults("429,500,502,503");
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v;
		char *end;
		if (i + 1 >= argc)
			usage();
		v = argv[++i];
		if (!strcmp(a, "--upstream"))
			upstream = v;
		else if (!strcmp(a, "--port-file"))
			port_file = v;
		else if (!strcmp(a, "--log"))
			log_path = v;
		else if (!strcmp(a, "--faults"))
			parse_faults(v);
		else if (!strcmp(a, "--retry-after"))
			g.retry_after = parse_long(v, 0, 86400, a);
		else if (!strcmp(a, "--stall-ms"))
			g.stall_ms = parse_long(v, 0, 600000, a);
		else if (!strcmp(a, "--skip-path-prefix")) {
			if (g.nskip == MAX_SKIP || v[0] != '/')
				die("--skip-path-prefix: want up to %d paths starting with /", MAX_SKIP);
			g.skip[g.nskip++] = v;
		} else if (!strcmp(a, "--only-path-prefix")) {
			if (g.nonly == MAX_SKIP || v[0] != '/')
				die("--only-path-prefix: want up to %d paths starting with /", MAX_SKIP);
			g.only[g.nonly++] = v;
		} else if (!strcmp(a, "--seed")) {
			errno = 0;
			g.prng = strtoull(v, &end, 10);
			if (end == v || *end || errno || v[0] == '-')
				die("--seed: want an unsigned integer, got \"%s\"", v);
		} else if (!strcmp(a, "--rate")) {
			errno = 0;
			g.rate = strtod(v, &end);
			if (end == v || *end || errno || !(g.rate >= 0.0 && g.rate <= 1.0))
				die("--rate: want a number in 0..1, got \"%s\"", v);
		} else
			usage();
	}
	if (!upstream || !port_file)
		usage();
	parse_upstream(upstream);
	if (log_path && !(g.log = fopen(log_path, "a")))
		die("cannot open log \"%s\": %s", log_path, strerror(errno));
	return port_file;
}

int main(int argc, char **argv)
{
	const char *port_file = parse_args(argc, argv);
	struct sigaction sa;
	int lfd, port;

	if (pipe2(g.wake, O_CLOEXEC) != 0)
		die("pipe: %s", strerror(errno));
	pthread_mutex_init(&g.lock, NULL);
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal; /* no SA_RESTART: poll() returns EINTR */
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	lfd = listen_loopback(&port);
	snprintf(g.self_origin, sizeof g.self_origin, "http://127.0.0.1:%d", port);
	write_port_file(port_file, port);
	fprintf(stderr, "rv-faultproxy: listening on 127.0.0.1:%d, upstream %s, rate %g\n", port,
		g.upstream_host, g.rate);
	serve(lfd);
	close(lfd);
	close(g.wake[0]);
	close(g.wake[1]);
	if (g.log)
		fclose(g.log);
	pthread_mutex_destroy(&g.lock);
	fputs("rv-faultproxy: stopped\n", stderr);
	return 0;
}
