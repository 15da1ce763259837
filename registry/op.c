/*
 * op.c — one logical request on the session: attach, stream, classify the
 * outcome, retry or re-authenticate, hand the rest to the op's handler.
 *
 * Retry policy (distribution api.md "Errors"; containers/image
 * docker_client.go): connection failures, 5xx and 429 are retried with
 * exponential backoff, at most opts.max_retries times; Retry-After is
 * honoured up to opts.retry_after_max_s. A 401 is retried once with a new
 * token for the scope the challenge names. A blob download that breaks
 * part-way resumes with Range from the last byte the sink took.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "registry/internal.h"
#include "util/error.h"
#include "util/log.h"
#include "util/str.h"
#include "util/timeutil.h"
#include "util/banned.h"

static void response_reset(struct op_response *r)
{
	r->status = 0;
	r->content_type[0] = '\0';
	r->digest[0] = '\0';
	free(r->location);
	r->location = NULL;
	free(r->link);
	r->link = NULL;
	strlist_release(&r->www_authenticate);
	r->content_length = -1;
	r->range_start = -1;
	r->retry_after_ms = -1;
	r->filters_applied = 0;
}

registry_op *op_new(registry_client *c, const char *method, char *url, char *scope, char *what)
{
	registry_op *op = xcalloc(1, sizeof(*op));
	op->s = c->s;
	op->c = c;
	op->method = method;
	op->url = url;
	op->scope = scope;
	op->what = what;
	op->expect_size = -1;
	op->in_limit = -1;
	response_reset(&op->r);
	buf_init(&op->errbody, ERRBODY_MAX);
	return op;
}

void op_header(registry_op *op, const char *fmt, ...)
{
	va_list ap;
	char *line;

	va_start(ap, fmt);
	line = xvasprintf(fmt, ap);
	va_end(ap);
	struct curl_slist *l = curl_slist_append(op->headers, line);
	if (!l)
		xdie("out of memory");
	op->headers = l;
	free(line);
}

void op_clear_headers(registry_op *op)
{
	curl_slist_free_all(op->headers);
	op->headers = NULL;
}

void op_set_url(registry_op *op, char *url)
{
	free(op->url);
	op->url = url;
}

static void unlink_op(registry_op *op)
{
	registry_session *s = op->s;

	if (op->prev)
		op->prev->next = op->next;
	else if (s->ops == op)
		s->ops = op->next;
	if (op->next)
		op->next->prev = op->prev;
	op->prev = op->next = NULL;
}

static void detach(registry_op *op)
{
	if (!op->easy)
		return;
	curl_multi_remove_handle(op->s->multi, op->easy);
	session_easy_put(op->s, op->easy);
	op->easy = NULL;
	curl_slist_free_all(op->sent_headers);
	op->sent_headers = NULL;
}

void op_free(registry_op *op)
{
	if (!op)
		return;
	detach(op);
	if (op->state != OP_FINISHED)
		unlink_op(op);
	response_reset(&op->r);
	buf_release(&op->errbody);
	curl_slist_free_all(op->headers);
	oci_hasher_free(op->in_hash);
	oci_hasher_free(op->out_hash);
	if (op->free_data)
		op->free_data(op->data);
	free(op->abort_msg);
	free(op->msg);
	free(op->url);
	free(op->scope);
	free(op->what);
	free(op);
}

int op_fail(registry_op *op, int code, const char *fmt, ...)
{
	va_list ap;
	char *m;

	va_start(ap, fmt);
	m = xvasprintf(fmt, ap);
	va_end(ap);
	free(op->msg);
	op->msg = m;
	return code;
}

static void finish(registry_op *op, int rc)
{
	op->s->finished++;
	/* Best-effort steps (cancelling an upload session nobody needs) must
	 * not turn into the op's failure. */
	if (rc != 0 && op->best_effort_rc)
		rc = op->best_effort_rc;
	detach(op);
	unlink_op(op);
	op->state = OP_FINISHED;
	op->rc = rc;
	if (rc < 0 && !op->msg)
		op->msg = xasprintf("%s on \"%s\": failed", op->what, op->c->name);
	if (op->done)
		op->done(op, rc, op->done_ctx);
	op_free(op);
}

/* --- Callbacks ------------------------------------------------------------- */

/* Longest wait a Retry-After can ask for, in seconds. Larger values (or a
 * date years ahead) are taken as this: the retry policy caps the wait far
 * below anyway, and secs * 1000 must not overflow. */
#define RETRY_AFTER_MAX_S (7 * 86400)

static int64_t parse_retry_after(const char *v)
{
	int64_t secs, when;

	if (str_to_int64(v, &secs) == 0)
		;
	else if (time_parse_http_date(v, &when) == 0)
		secs = when - time_now();   /* a 4-digit year: no overflow */
	else
		return -1;
	if (secs < 0)
		secs = 0;
	if (secs > RETRY_AFTER_MAX_S)
		secs = RETRY_AFTER_MAX_S;
	return secs * 1000;
}

/* Link: <url>; rel="next" (RFC 8288); only the next link matters. */
static char *parse_link_next(const char *v)
{
	const char *lt = strchr(v, '<');
	const char *gt = lt ? strchr(lt, '>') : NULL;

	if (!gt || !strstr(gt, "next"))
		return NULL;
	return xstrndup(lt + 1, (size_t)(gt - lt - 1));
}

static void header_field(registry_op *op, const char *name, char *v)
{
	struct op_response *r = &op->r;

	if (strcasecmp(name, "content-type") == 0) {
		size_t n = strcspn(v, ";");
		if (n >= sizeof(r->content_type))
			n = sizeof(r->content_type) - 1;
		for (size_t i = 0; i < n; i++)
			r->content_type[i] = (char)((v[i] >= 'A' && v[i] <= 'Z') ? v[i] + 32 : v[i]);
		r->content_type[n] = '\0';
		str_trim(r->content_type);
	} else if (strcasecmp(name, "docker-content-digest") == 0) {
		snprintf(r->digest, sizeof(r->digest), "%s", v);
	} else if (strcasecmp(name, "location") == 0) {
		free(r->location);
		r->location = xstrdup(v);
	} else if (strcasecmp(name, "link") == 0) {
		char *next = parse_link_next(v);
		if (next) {
			free(r->link);
			r->link = next;
		}
	} else if (strcasecmp(name, "www-authenticate") == 0) {
		strlist_add(&r->www_authenticate, v);
	} else if (strcasecmp(name, "content-length") == 0) {
		/* A negative length is a lie like a malformed one: unknown. */
		if (str_to_int64(v, &r->content_length) < 0 || r->content_length < 0)
			r->content_length = -1;
	} else if (strcasecmp(name, "content-range") == 0) {
		long long start;
		if (sscanf(v, "bytes %lld-", &start) == 1)
			r->range_start = start >= 0 ? start : -1;
	} else if (strcasecmp(name, "retry-after") == 0) {
		r->retry_after_ms = parse_retry_after(v);
	} else if (strcasecmp(name, "oci-filters-applied") == 0) {
		r->filters_applied = strstr(v, "artifactType") != NULL;
	}
}

static size_t header_cb(char *data, size_t size, size_t n, void *ctx)
{
	registry_op *op = ctx;
	size_t len = size * n;
	char *line = xstrndup(data, len);

	str_trim(line);
	if (str_has_prefix(line, "HTTP/")) {
		/* A new response: after a redirect or a 100 Continue. */
		response_reset(&op->r);
		buf_reset(&op->errbody);
		const char *sp = strchr(line, ' ');
		op->r.status = sp ? strtol(sp + 1, NULL, 10) : 0;
		op->skip = (op->r.status == 200 && op->range_from > 0) ? op->range_from : 0;
	} else {
		char *colon = strchr(line, ':');
		if (colon) {
			*colon = '\0';
			header_field(op, str_trim(line), str_trim(colon + 1));
		}
	}
	free(line);
	return len;
}

static size_t abort_transfer(registry_op *op, int rc, char *msg)
{
	op->abort_rc = rc;
	free(op->abort_msg);
	op->abort_msg = msg;
	return 0;
}

static size_t write_sink(registry_op *op, char *data, size_t len)
{
	size_t skip = 0;

	if (op->range_from > 0 && op->r.status == 206 && op->r.range_start != op->range_from)
		return abort_transfer(op, RV_ETRANSIENT,
		                      xasprintf("%s on \"%s\": resumed at byte %lld but the registry "
		                                "answered from byte %lld", op->what, op->c->name,
		                                (long long)op->range_from, (long long)op->r.range_start));
	if (op->skip > 0)
		skip = (size_t)op->skip < len ? (size_t)op->skip : len;
	char *p = data + skip;
	size_t m = len - skip;
	if (m && op->expect_size >= 0 && op->got + (int64_t)m > op->expect_size)
		return abort_transfer(op, RV_EDIGEST,
		                      xasprintf("%s on \"%s\": more bytes than the %lld its descriptor "
		                                "says", op->what, op->c->name,
		                                (long long)op->expect_size));
	if (m) {
		int rc = op->sink.write(op->sink.ctx, p, m);
		if (rc == OCI_IO_PAUSE) {
			op->paused = 1;
			return CURL_WRITEFUNC_PAUSE;   /* curl offers the same bytes again */
		}
		if (rc < 0)
			return abort_transfer(op, rc, xstrdup(error_msg()));
		oci_hasher_update(op->out_hash, p, m);
		op->got += (int64_t)m;
	}
	op->skip -= (int64_t)skip;
	return len;
}

static size_t write_cb(char *data, size_t size, size_t n, void *ctx)
{
	registry_op *op = ctx;
	size_t len = size * n;

	if (op->r.status < 200 || op->r.status >= 300) {
		buf_add(&op->errbody, data, len);   /* beyond the cap: dropped */
		return len;
	}
	if (op->has_sink)
		return write_sink(op, data, len);
	if (op->out && buf_add(op->out, data, len) < 0)
		return abort_transfer(op, RV_ETOOBIG,
		                      xasprintf("%s on \"%s\": response larger than %zu bytes",
		                                op->what, op->c->name, op->out->max));
	return len;
}

static size_t read_cb(char *dst, size_t size, size_t n, void *ctx)
{
	registry_op *op = ctx;
	size_t cap = size * n;

	if (op->in_mem) {
		size_t left = op->in_len - op->in_off;
		size_t k = left < cap ? left : cap;
		memcpy(dst, op->in_mem + op->in_off, k);
		op->in_off += k;
		return k;
	}
	if (op->in_limit >= 0 && (int64_t)cap > op->in_limit - op->in_sent)
		cap = (size_t)(op->in_limit - op->in_sent);
	if (cap == 0)
		return 0;
	ssize_t got = op->src.read(op->src.ctx, dst, cap);
	if (got == OCI_IO_AGAIN) {
		op->paused = 1;
		return CURL_READFUNC_PAUSE;
	}
	if (got < 0) {
		abort_transfer(op, (int)got, xstrdup(error_msg()));
		return CURL_READFUNC_ABORT;
	}
	if (got == 0 && op->in_limit >= 0) {
		abort_transfer(op, RV_EDIGEST,
		               xasprintf("%s: the source ended after %lld of %lld bytes", op->what,
		                         (long long)op->in_sent, (long long)op->in_limit));
		return CURL_READFUNC_ABORT;
	}
	if (op->in_hash)
		oci_hasher_update(op->in_hash, dst, (size_t)got);
	op->in_hashed += got;
	op->in_sent += got;
	return (size_t)got;
}

/* --- Attaching --------------------------------------------------------------- */

static void set_method(registry_op *op, CURL *e)
{
	const char *m = op->method;
	curl_off_t len = op->in_mem ? (curl_off_t)op->in_len : (curl_off_t)op->in_limit;

	if (strcmp(m, "HEAD") == 0) {
		curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
	} else if (strcmp(m, "DELETE") == 0) {
		curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, "DELETE");
	} else if (strcmp(m, "POST") == 0) {
		curl_easy_setopt(e, CURLOPT_POST, 1L);
		curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, op->in_mem ? len : (curl_off_t)0);
		curl_easy_setopt(e, CURLOPT_POSTFIELDS, op->in_mem ? (const char *)op->in_mem : "");
	} else if (strcmp(m, "PUT") == 0 || strcmp(m, "PATCH") == 0) {
		curl_easy_setopt(e, CURLOPT_UPLOAD, 1L);
		if (strcmp(m, "PATCH") == 0)
			curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, "PATCH");
		curl_easy_setopt(e, CURLOPT_INFILESIZE_LARGE,
		                 (op->in_mem || op->has_src) ? len : (curl_off_t)0);
		curl_easy_setopt(e, CURLOPT_READFUNCTION, read_cb);
		curl_easy_setopt(e, CURLOPT_READDATA, op);
	}
}

static struct curl_slist *build_headers(registry_op *op, const char *auth)
{
	struct curl_slist *l = NULL;

	for (struct curl_slist *h = op->headers; h; h = h->next)
		l = curl_slist_append(l, h->data);
	if (auth)
		l = curl_slist_append(l, auth);
	if (op->has_sink && op->got > 0) {
		char range[64];
		snprintf(range, sizeof(range), "Range: bytes=%lld-", (long long)op->got);
		l = curl_slist_append(l, range);
	}
	/* No 100-continue round trip: auth is attached up front, so the
	 * registry has no reason to refuse the body before seeing it. */
	l = curl_slist_append(l, "Expect:");
	if (!l)
		xdie("out of memory");
	return l;
}

static void attach(registry_op *op)
{
	char *auth = NULL;
	int rc = client_ready(op->c);
	int64_t turn = 0;

	/* --max-rps: wait for this request's turn, asleep. Waking from that
	 * wait, the turn is already ours. */
	if (rc == 0 && !op->rate_waited)
		turn = client_rate_wait(op->c);
	op->rate_waited = 0;
	if (turn > 0) {
		op->state = OP_SLEEPING;
		op->wake_at = time_mono_ms() + turn;
		op->rate_waited = 1;
		return;
	}

	if (rc == 0)
		rc = client_auth_header(op->c, op->scope, &auth);
	if (rc < 0) {
		op_fail(op, rc, "%s", error_msg());
		finish(op, rc);
		return;
	}
	CURL *e = session_easy_get(op->s);
	op->easy = e;
	op->sent_headers = build_headers(op, auth);
	free(auth);
	op->range_from = op->has_sink ? op->got : 0;
	op->abort_rc = 0;
	op->paused = 0;
	op->curl_err[0] = '\0';
	response_reset(&op->r);
	buf_reset(&op->errbody);
	curl_easy_setopt(e, CURLOPT_URL, op->url);
	curl_easy_setopt(e, CURLOPT_PRIVATE, op);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, op->curl_err);
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, op->sent_headers);
	curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, header_cb);
	curl_easy_setopt(e, CURLOPT_HEADERDATA, op);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, write_cb);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, op);
	/* Blob GETs may redirect to object storage. libcurl keeps our
	 * Authorization header off any other host (CURLOPT_UNRESTRICTED_AUTH
	 * stays 0). Uploads are never redirected: the body cannot be re-sent. */
	if (strcmp(op->method, "GET") == 0 || strcmp(op->method, "HEAD") == 0) {
		curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 1L);
		curl_easy_setopt(e, CURLOPT_MAXREDIRS, 5L);
	}
	client_tls_setup(op->c, e);
	set_method(op, e);
	op->state = OP_RUNNING;
	if (curl_multi_add_handle(op->s->multi, e) != CURLM_OK) {
		op_fail(op, RV_ERROR, "%s: cannot start the transfer", op->what);
		finish(op, RV_ERROR);
	}
}

void op_start(registry_op *op)
{
	registry_session *s = op->s;

	op->next = s->ops;
	op->prev = NULL;
	if (s->ops)
		s->ops->prev = op;
	s->ops = op;
	op->state = OP_NEW;
	attach(op);
}

void op_wake(registry_op *op)
{
	attach(op);
}

/* --- Outcomes ---------------------------------------------------------------- */

static int default_retry(registry_op *op)
{
	op->in_off = 0;
	if (op->has_src && op->in_hashed > 0) {
		if (!op->src.rewind || op->src.rewind(op->src.ctx) < 0)
			return op_fail(op, RV_ETRANSIENT, "%s on \"%s\": the upload broke off and its "
			               "source cannot start over", op->what, op->c->name);
		if (op->in_hash) {
			oci_hasher_free(op->in_hash);
			op->in_hash = oci_hasher_new(oci_digest_alg_of(op->expect_digest));
		}
		op->in_hashed = 0;
	}
	op->in_sent = 0;
	if (op->out)
		buf_reset(op->out);
	return 0;
}

static void retry_or_fail(registry_op *op, int code, char *why)
{
	registry_session *s = op->s;
	int64_t wait = session_backoff_ms(s, op->attempts);
	int64_t ra = op->r.retry_after_ms;

	if (op->attempts >= s->opts.max_retries) {
		op_fail(op, code, "%s (gave up after %d attempts)", why, op->attempts + 1);
		free(why);
		finish(op, code);
		return;
	}
	if (ra > (int64_t)s->opts.retry_after_max_s * 1000) {
		op_fail(op, code, "%s; the registry asks to wait %lld s (Retry-After), longer than "
		        "we wait", why, (long long)(ra / 1000));
		free(why);
		finish(op, code);
		return;
	}
	if (ra > wait)
		wait = ra;
	int rc = op->on_retry ? op->on_retry(op) : default_retry(op);
	if (rc < 0) {
		free(why);
		finish(op, rc);
		return;
	}
	log_info("%s; retrying in %.1f s", why, (double)wait / 1000.0);
	free(why);
	op->attempts++;
	op->auth_retried = 0;
	op->state = OP_SLEEPING;
	op->wake_at = time_mono_ms() + wait;
}

static int retryable_curl(CURLcode cc)
{
	switch (cc) {
	case CURLE_COULDNT_CONNECT:
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_OPERATION_TIMEDOUT:
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_PARTIAL_FILE:
	case CURLE_HTTP2:
	case CURLE_HTTP2_STREAM:
	case CURLE_SSL_CONNECT_ERROR:
		return 1;
	default:
		return 0;
	}
}

/* The registry's own words: {"errors":[{"code":"…","message":"…"}]}, else
 * the first line of whatever it sent; at most SAYS_MAX - 1 bytes. */
#define SAYS_MAX 240
static char *registry_says(const struct buf *body)
{
	json_error_t jerr;
	json_t *root = body->len ? json_loadb(body->ptr, body->len, 0, &jerr) : NULL;
	json_t *e0 = json_array_get(json_object_get(root, "errors"), 0);
	char *out, said[SAYS_MAX];

	if (e0) {
		const char *code = json_string_value(json_object_get(e0, "code"));
		const char *msg = json_string_value(json_object_get(e0, "message"));
		out = xasprintf("%s%s%s", code ? code : "", code && msg ? ": " : "", msg ? msg : "");
	} else {
		size_t n = strcspn(buf_cstr(body), "\r\n");
		out = xstrndup(buf_cstr(body), n);
	}
	json_decref(root);
	/* A registry may quote our Authorization header back (docs/security.md):
	 * redacted here, where its words enter a message, so that no output
	 * path (text, JSON, a log) can carry them -- and before the cut below,
	 * which could leave half a token the redactor no longer recognises.
	 * Then one line on an operator's terminal: no control bytes (escape
	 * sequences), and a bounded length. */
	char *safe = registry_redact_text(out);
	free(out);
	str_printable(said, sizeof(said), safe);
	free(safe);
	out = xstrdup(said);
	str_trim(out);
	return out;
}

static int status_code(long status, const char *says)
{
	if (status == 404)
		return RV_ENOTFOUND;
	if (status == 401)
		return RV_EAUTH;
	if (status == 403 || strstr(says, "DENIED"))
		return RV_EDENIED;
	if (status == 405 || strstr(says, "UNSUPPORTED"))
		return RV_EUNSUPPORTED;
	if (status == 413)
		return RV_ETOOBIG;
	if (strstr(says, "DIGEST_INVALID") || strstr(says, "SIZE_INVALID"))
		return RV_EDIGEST;
	if (status == 400)
		return RV_EINVALID;
	if (status == 429 || status >= 500)
		return RV_ETRANSIENT;
	return RV_ERROR;
}

int op_fail_status(registry_op *op)
{
	char *says = registry_says(&op->errbody);
	int code = status_code(op->r.status, says);

	op_fail(op, code, "%s on \"%s\": %ld%s%s", op->what, op->c->name, op->r.status,
	        *says ? " " : "", says);
	free(says);
	return code;
}

static void curl_failed(registry_op *op, CURLcode cc)
{
	const char *why = op->curl_err[0] ? op->curl_err : curl_easy_strerror(cc);

	if (retryable_curl(cc)) {
		retry_or_fail(op, RV_ETRANSIENT,
		              xasprintf("%s %s on \"%s\": %s", op->method, op->what, op->c->name, why));
		return;
	}
	int code = (cc == CURLE_PEER_FAILED_VERIFICATION || cc == CURLE_SSL_CACERT_BADFILE)
	                   ? RV_ETLS
	                   : RV_ERROR;
	op_fail(op, code, "%s on \"%s\": %s", op->what, op->c->name, why);
	finish(op, code);
}

static void unauthorized(registry_op *op)
{
	char *scope = NULL;
	char *says = registry_says(&op->errbody);
	int insufficient = 0;

	for (size_t i = 0; i < op->r.www_authenticate.n; i++)
		if (strstr(op->r.www_authenticate.v[i], "insufficient_scope"))
			insufficient = 1;
	if (!op->auth_retried &&
	    client_auth_failed(op->c, &op->r.www_authenticate, op->scope, &scope) == 0) {
		op->auth_retried = 1;
		if (scope && *scope) {
			free(op->scope);
			op->scope = scope;
		} else {
			free(scope);
		}
		free(says);
		if (default_retry(op) < 0) {
			finish(op, op->rc ? op->rc : RV_EAUTH);
			return;
		}
		detach(op);
		attach(op);
		return;
	}
	free(scope);
	/* Without credentials a token server grants nothing, and the registry
	 * calls that "insufficient_scope": it means "log in", not "denied". */
	int anonymous = !op->c->creds.username && !op->c->creds.identity_token &&
	                !op->c->creds.registry_token;
	if (anonymous)
		insufficient = 0;
	int code = insufficient ? RV_EDENIED : RV_EAUTH;
	op_fail(op, code, "%s on \"%s\": %s (401%s%s)", op->what, op->c->name,
	        insufficient ? "access denied for this operation"
	                     : !anonymous ? "credentials rejected"
	                                  : "authentication required; no credentials found",
	        *says ? " " : "", says);
	free(says);
	finish(op, code);
}

void op_transfer_done(registry_op *op, CURLcode cc)
{
	detach(op);
	if (op->abort_rc) {
		int rc = op->abort_rc;
		free(op->msg);
		op->msg = op->abort_msg;
		op->abort_msg = NULL;
		finish(op, rc);
		return;
	}
	if (cc != CURLE_OK) {
		curl_failed(op, cc);
		return;
	}
	long st = op->r.status;
	if (st == 401) {
		unauthorized(op);
		return;
	}
	if (st == 429 || st >= 500) {
		char *says = registry_says(&op->errbody);
		retry_or_fail(op, RV_ETRANSIENT, xasprintf("%s on \"%s\": %ld%s%s", op->what,
		                                           op->c->name, st, *says ? " " : "", says));
		free(says);
		return;
	}
	int rc = op->handler ? op->handler(op) : (st >= 200 && st < 300 ? 0 : op_fail_status(op));
	if (rc == OP_NEXT) {
		op->attempts = 0;
		op->auth_retried = 0;
		attach(op);
		return;
	}
	finish(op, rc);
}

/* --- Waiting ------------------------------------------------------------------ */

struct sync_wait {
	int finished;
	int rc;
	char *msg;
};

static void sync_done(registry_op *op, int rc, void *ctx)
{
	struct sync_wait *w = ctx;
	w->finished = 1;
	w->rc = rc;
	w->msg = rc < 0 ? xstrdup(op->msg ? op->msg : "failed") : NULL;
}

int op_run(registry_op *op)
{
	struct sync_wait w = { 0, 0, NULL };
	registry_session *s = op->s;

	op->done = sync_done;
	op->done_ctx = &w;
	op_start(op);
	while (!w.finished)
		registry_session_run(s, 1000);
	if (w.rc < 0)
		error_set(w.rc, "%s", w.msg);
	free(w.msg);
	return w.rc;
}

const char *registry_op_error(const registry_op *op)
{
	return op->msg ? op->msg : "";
}

/* Never unpauses on the spot: a sink or source of one transfer calls this
 * from inside libcurl's callbacks of another, where curl_easy_pause would
 * run the first transfer's callbacks re-entrantly. The session loop
 * unpauses right after the current perform instead. */
void registry_op_resume(registry_op *op)
{
	if (op && op->paused && !op->resume_wanted) {
		op->resume_wanted = 1;
		op->s->resumes = 1;
	}
}

int op_apply_resume(registry_op *op)
{
	if (!op->resume_wanted)
		return 0;
	op->resume_wanted = 0;
	if (!op->easy || !op->paused)
		return 0;
	op->paused = 0;
	curl_easy_pause(op->easy, CURLPAUSE_CONT);
	return 1;
}
