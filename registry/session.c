/*
 * session.c — the one curl multi handle every request runs on.
 *
 * Why one multi handle: connections and TLS sessions are reused across
 * every repository and every registry of a run, and blob transfers run
 * concurrently without threads (so sinks, sources and the catalog never
 * need locks). The loop also sleeps ops that wait out a backoff.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "registry/internal.h"
#include "util/error.h"
#include "util/log.h"
#include "util/str.h"
#include "util/timeutil.h"
#include "util/banned.h"

static int curl_initialised;

static void copy_options(registry_session *s, const struct registry_options *o)
{
	s->opts = *o;
	s->authfile = xstrdup_or_null(o->authfile);
	s->ca_cert = xstrdup_or_null(o->ca_cert);
	s->opts.authfile = s->authfile;
	s->opts.ca_cert = s->ca_cert;
	if (o->n_insecure) {
		s->insecure = xcalloc(o->n_insecure, sizeof(*s->insecure));
		for (size_t i = 0; i < o->n_insecure; i++)
			s->insecure[i] = xstrdup(o->insecure[i]);
	}
	s->opts.insecure = (const char *const *)s->insecure;
	if (s->opts.max_retries < 0)
		s->opts.max_retries = 0;
	if (s->opts.retry_base_ms <= 0)
		s->opts.retry_base_ms = 200;
	if (s->opts.retry_max_ms < s->opts.retry_base_ms)
		s->opts.retry_max_ms = s->opts.retry_base_ms;
	if (s->opts.max_host_connections <= 0)
		s->opts.max_host_connections = 8;
	const char *t = getenv("REGVAULT_TRACE");
	if (t && *t && strcmp(t, "0") != 0)
		s->opts.trace = 1;
}

int registry_session_new(registry_session **out, const struct registry_options *opts)
{
	struct registry_options defaults = REGISTRY_OPTIONS_INIT;

	if (!curl_initialised) {
		if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
			return error_set(RV_ERROR, "cannot initialise libcurl");
		curl_initialised = 1;
	}
	registry_session *s = xcalloc(1, sizeof(*s));
	copy_options(s, opts ? opts : &defaults);
	s->rand_state = (unsigned)time(NULL) ^ (unsigned)getpid();

	s->multi = curl_multi_init();
	s->share = curl_share_init();
	if (!s->multi || !s->share) {
		registry_session_free(s);
		return error_set(RV_ERROR, "cannot create curl handles");
	}
	curl_multi_setopt(s->multi, CURLMOPT_MAX_HOST_CONNECTIONS,
	                  (long)s->opts.max_host_connections);
	curl_multi_setopt(s->multi, CURLMOPT_PIPELINING, (long)CURLPIPE_MULTIPLEX);
	/* Connections, DNS answers and TLS sessions are shared with the easy
	 * handles that run outside the multi (ping, token fetches): the
	 * connection the ping opened carries the first requests too. One
	 * thread only, so the share needs no lock callbacks. */
	curl_share_setopt(s->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_CONNECT);
	curl_share_setopt(s->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
	curl_share_setopt(s->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
	*out = s;
	return 0;
}

void registry_session_free(registry_session *s)
{
	if (!s)
		return;
	while (s->ops) {
		registry_op *op = s->ops;
		op_free(op);
	}
	for (size_t i = 0; i < s->n_pool; i++)
		curl_easy_cleanup(s->pool[i]);
	free(s->pool);
	if (s->multi)
		curl_multi_cleanup(s->multi);
	if (s->share)
		curl_share_cleanup(s->share);
	for (size_t i = 0; i < s->opts.n_insecure; i++)
		free(s->insecure[i]);
	free(s->insecure);
	free(s->authfile);
	free(s->ca_cert);
	free(s);
}

CURL *session_easy_get(registry_session *s)
{
	CURL *e;

	if (s->n_pool) {
		e = s->pool[--s->n_pool];
		curl_easy_reset(e);
	} else {
		e = curl_easy_init();
		if (!e)
			xdie("cannot create a curl easy handle");
	}
	curl_easy_setopt(e, CURLOPT_SHARE, s->share);
	curl_easy_setopt(e, CURLOPT_USERAGENT, "regvault/" REGVAULT_VERSION);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT, (long)s->opts.connect_timeout_s);
	if (s->opts.stall_timeout_s > 0) {
		curl_easy_setopt(e, CURLOPT_LOW_SPEED_LIMIT, 1L);
		curl_easy_setopt(e, CURLOPT_LOW_SPEED_TIME, (long)s->opts.stall_timeout_s);
	}
	/* Big buffers: fewer callbacks per blob, measurably faster on fat layers. */
	curl_easy_setopt(e, CURLOPT_BUFFERSIZE, 512L * 1024);
	curl_easy_setopt(e, CURLOPT_UPLOAD_BUFFERSIZE, 512L * 1024);
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	session_trace_setup(s, e);
	return e;
}

void session_easy_put(registry_session *s, CURL *e)
{
	if (!e)
		return;
	if (s->n_pool >= 64) {
		curl_easy_cleanup(e);
		return;
	}
	s->pool = xgrow(s->pool, sizeof(*s->pool), s->n_pool + 1, &s->alloc_pool);
	s->pool[s->n_pool++] = e;
}

/* Exponential backoff with "equal jitter": half fixed, half random, so a
 * fleet of clients spreads out but none retries at once. */
int64_t session_backoff_ms(registry_session *s, int attempt)
{
	int64_t cap = s->opts.retry_base_ms;
	for (int i = 0; i < attempt && cap < s->opts.retry_max_ms; i++)
		cap *= 2;
	if (cap > s->opts.retry_max_ms)
		cap = s->opts.retry_max_ms;
	int64_t half = cap / 2;
	return half + (half > 0 ? (int64_t)(rand_r(&s->rand_state) % (half + 1)) : 0);
}

/* Named with --insecure-registry: as "host:port" exactly, or as a bare
 * host ("::1" or "[::1]" for IPv6) that then covers every port. */
int session_is_insecure(registry_session *s, const char *name)
{
	char host[256], bracketed[260];

	client_host_of(name, host, sizeof(host));
	snprintf(bracketed, sizeof(bracketed), "[%s]", host);
	for (size_t i = 0; i < s->opts.n_insecure; i++) {
		const char *e = s->insecure[i];
		if (strcmp(e, name) == 0 || strcmp(e, host) == 0 || strcmp(e, bracketed) == 0)
			return 1;
	}
	return 0;
}

static void trace_lines(const char *prefix, const char *data, size_t size)
{
	const char *p = data, *end = data + size;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
		while (n && (p[n - 1] == '\r' || p[n - 1] == '\n'))
			n--;
		if (n) {
			char *line = xstrndup(p, n);
			char *safe = auth_redact_header(line);
			log_trace("%s%s", prefix, safe);
			free(safe);
			free(line);
		}
		p = nl ? nl + 1 : end;
	}
}

static int trace_cb(CURL *e, curl_infotype type, char *data, size_t size, void *ctx)
{
	(void)e;
	(void)ctx;
	switch (type) {
	case CURLINFO_TEXT:
		trace_lines("* ", data, size);
		break;
	case CURLINFO_HEADER_OUT:
		trace_lines("> ", data, size);
		break;
	case CURLINFO_HEADER_IN:
		trace_lines("< ", data, size);
		break;
	case CURLINFO_DATA_OUT:
	case CURLINFO_DATA_IN:
		/* Bodies are never logged: token responses hold secrets and
		 * blobs are noise. Sizes are enough to follow a transfer. */
		log_trace("%s [%zu bytes]", type == CURLINFO_DATA_OUT ? ">" : "<", size);
		break;
	default:
		break;
	}
	return 0;
}

void session_trace_setup(registry_session *s, CURL *e)
{
	if (!s->opts.trace || !log_enabled(LOGLV_TRACE))
		return;
	curl_easy_setopt(e, CURLOPT_DEBUGFUNCTION, trace_cb);
	curl_easy_setopt(e, CURLOPT_VERBOSE, 1L);
}

static void wake_due(registry_session *s, int64_t now, int64_t *next_wake)
{
	int woke;

	/* op_wake may finish an op and run its done callback, which may start
	 * or free other ops: restart the scan after each wake. */
	do {
		woke = 0;
		for (registry_op *op = s->ops; op; op = op->next) {
			if (op->state != OP_SLEEPING)
				continue;
			if (op->wake_at <= now) {
				op_wake(op);
				woke = 1;
				break;
			}
			if (*next_wake < 0 || op->wake_at < *next_wake)
				*next_wake = op->wake_at;
		}
	} while (woke);
}

static void reap(registry_session *s)
{
	CURLMsg *m;
	int left;

	while ((m = curl_multi_info_read(s->multi, &left))) {
		if (m->msg != CURLMSG_DONE)
			continue;
		registry_op *op = NULL;
		curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&op);
		CURLcode cc = m->data.result;
		if (op)
			op_transfer_done(op, cc);
	}
}

static int count_unfinished(registry_session *s)
{
	int n = 0;
	for (registry_op *op = s->ops; op; op = op->next)
		n++;
	return n;
}

/* Unpauses the ops whose resume was asked since the last perform. */
static int apply_resumes(registry_session *s)
{
	int any = 0;

	if (!s->resumes)
		return 0;
	s->resumes = 0;
	for (registry_op *op = s->ops; op; op = op->next)
		any |= op_apply_resume(op);
	return any;
}

static int64_t next_wake_time(registry_session *s)
{
	int64_t next = -1;

	for (registry_op *op = s->ops; op; op = op->next)
		if (op->state == OP_SLEEPING && (next < 0 || op->wake_at < next))
			next = op->wake_at;
	return next;
}

/* Returns as soon as an op finished (so a caller with a queue can start
 * the next one at once), when nothing runs, or at the deadline. */
int registry_session_run(registry_session *s, int timeout_ms)
{
	int64_t deadline = time_mono_ms() + (timeout_ms > 0 ? timeout_ms : 0);
	unsigned long finished = s->finished;

	for (;;) {
		int64_t now = time_mono_ms(), next_wake = -1;
		int still = 0;

		wake_due(s, now, &next_wake);
		curl_multi_perform(s->multi, &still);
		reap(s);
		if (!s->ops)
			return 0;
		if (apply_resumes(s) && time_mono_ms() < deadline)
			continue;   /* unpaused transfers have work now: no poll */
		now = time_mono_ms();
		if (s->finished != finished || now >= deadline)
			break;
		int64_t wait = deadline - now;
		next_wake = next_wake_time(s);
		if (next_wake >= 0 && next_wake - now < wait)
			wait = next_wake - now > 0 ? next_wake - now : 0;
		if (wait > 1000)
			wait = 1000;
		curl_multi_poll(s->multi, NULL, 0, (int)wait, NULL);
	}
	return count_unfinished(s);
}
