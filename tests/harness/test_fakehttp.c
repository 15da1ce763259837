/*
 * Unit tests for the scripted fake HTTP server, driven by libcurl (the
 * client regvault uses) and by a raw socket for what curl will not send.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "tests/harness/fakehttp.h"

/* What the handler saw and what it should do next. */
struct script {
	/* response */
	int status;
	const char *body;
	size_t body_len;
	enum fakehttp_action action;
	size_t action_after;
	unsigned stall_ms;
	size_t stall_after;
	int chunked;
	/* observed */
	char method[16];
	char path[256];
	char query[256];
	size_t body_seen;
	int chunked_seen;
	int expect_seen;
	unsigned long seq, conn_id, conn_seq;
	char x_test[64];
	unsigned char first, last;
};

static void handler(const struct fakehttp_request *rq, struct fakehttp_response *rs, void *ctx)
{
	struct script *s = ctx;
	const char *xt = fakehttp_request_header(rq, "x-TEST");

	snprintf(s->method, sizeof s->method, "%s", rq->method);
	snprintf(s->path, sizeof s->path, "%s", rq->path);
	snprintf(s->query, sizeof s->query, "%s", rq->query);
	snprintf(s->x_test, sizeof s->x_test, "%s", xt ? xt : "");
	s->body_seen = rq->body_len;
	s->chunked_seen = rq->body_chunked;
	s->expect_seen = rq->expect_continue;
	s->seq = rq->seq;
	s->conn_id = rq->conn_id;
	s->conn_seq = rq->conn_seq;
	if (rq->body_len) {
		s->first = rq->body[0];
		s->last = rq->body[rq->body_len - 1];
	}
	rs->status = s->status ? s->status : 200;
	rs->action = s->action;
	rs->action_after = s->action_after;
	rs->stall_ms = s->stall_ms;
	rs->stall_after = s->stall_after;
	rs->chunked = s->chunked;
	fakehttp_response_header(rs, "X-Served-By", "fakehttp-%lu", rq->seq);
	if (s->status == 429)
		fakehttp_response_header(rs, "Retry-After", "%d", 7);
	if (s->body)
		fakehttp_response_body(rs, s->body, s->body_len ? s->body_len : strlen(s->body));
}

struct sink {
	char *data;
	size_t len;
	char retry_after[16];
};

static size_t on_data(char *p, size_t size, size_t n, void *ud)
{
	struct sink *k = ud;
	size_t add = size * n;
	char *nd = realloc(k->data, k->len + add + 1);
	assert_non_null(nd);
	k->data = nd;
	memcpy(k->data + k->len, p, add);
	k->len += add;
	k->data[k->len] = '\0';
	return add;
}

static size_t on_header(char *p, size_t size, size_t n, void *ud)
{
	struct sink *k = ud;
	size_t len = size * n;
	if (len > 13 && !strncasecmp(p, "Retry-After: ", 13))
		snprintf(k->retry_after, sizeof k->retry_after, "%.*s", (int)(len - 15), p + 13);
	return len;
}

static CURL *easy(const char *url, struct sink *k)
{
	CURL *h = curl_easy_init();
	assert_non_null(h);
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, k);
	curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(h, CURLOPT_HEADERDATA, k);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, 10000L);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	return h;
}

static char *url_of(struct fakehttp *srv, const char *path)
{
	static char u[256];
	snprintf(u, sizeof u, "%s%s", fakehttp_url(srv), path);
	return u;
}

static long status_of(CURL *h)
{
	long code = 0;
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
	return code;
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- tests ------------------------------------------------------------------ */

static void test_get_keepalive(void **state)
{
	struct script s = {.body = "hello"};
	struct sink k = {0};
	struct fakehttp *srv = fakehttp_start(handler, &s);
	struct curl_slist *hdrs = curl_slist_append(NULL, "X-Test: one");
	CURL *h;
	(void)state;

	assert_non_null(srv);
	assert_true(fakehttp_port(srv) > 0);
	h = easy(url_of(srv, "/v2/a/tags/list?n=1"), &k);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
	assert_int_equal(curl_easy_perform(h), CURLE_OK);
	assert_int_equal(status_of(h), 200);
	assert_string_equal(k.data, "hello");
	assert_string_equal(s.method, "GET");
	assert_string_equal(s.path, "/v2/a/tags/list");
	assert_string_equal(s.query, "n=1");
	assert_string_equal(s.x_test, "one");

	/* same handle, same connection */
	free(k.data);
	k.data = NULL;
	k.len = 0;
	curl_easy_setopt(h, CURLOPT_URL, url_of(srv, "/v2/"));
	assert_int_equal(curl_easy_perform(h), CURLE_OK);
	assert_string_equal(k.data, "hello");
	assert_int_equal(s.seq, 2);
	assert_int_equal(s.conn_id, 1);
	assert_int_equal(s.conn_seq, 2);
	assert_int_equal(fakehttp_request_count(srv), 2);
	assert_int_equal(fakehttp_connection_count(srv), 1);

	curl_slist_free_all(hdrs);
	curl_easy_cleanup(h);
	free(k.data);
	fakehttp_stop(srv);
}

static void test_status_and_headers(void **state)
{
	struct script s = {.status = 429, .body = "{\"errors\":[{\"code\":\"TOOMANYREQUESTS\"}]}"};
	struct sink k = {0};
	struct fakehttp *srv = fakehttp_start(handler, &s);
	CURL *h = easy(url_of(srv, "/v2/"), &k);
	(void)state;

	assert_int_equal(curl_easy_perform(h), CURLE_OK);
	assert_int_equal(status_of(h), 429);
	assert_string_equal(k.retry_after, "7");
	assert_non_null(strstr(k.data, "TOOMANYREQUESTS"));
	curl_easy_cleanup(h);
	free(k.data);
	fakehttp_stop(srv);
}

static void test_head(void **state)
{
	struct script s = {.body = "0123456789"};
	struct sink k = {0};
	struct fakehttp *srv = fakehttp_start(handler, &s);
	CURL *h = easy(url_of(srv, "/v2/a/blobs/sha256:00"), &k);
	curl_off_t len = -1;
	(void)state;

	curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
	assert_int_equal(curl_easy_perform(h), CURLE_OK);
	assert_string_equal(s.method, "HEAD");
	curl_easy_getinfo(h, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &len);
	assert_int_equal(len, 10);
	assert_int_equal(k.len, 0);
	/* the connection survives a HEAD */
	curl_easy_setopt(h, CURLOPT_NOBODY, 0L);
	curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
	assert_int_equal(curl_easy_perform(h), CURLE_OK);
	assert_string_equal(k.data, "0123456789");
	assert_int_equal(fakehttp_connection_count(srv), 1);
	curl_easy_cleanup(h);
	free(k.data);
	fakehttp_stop(srv);
}

static void test_post_content_length(void **state)
{
	struct script s = {.status = 201};
	struct sink k = {0};
	struct fakehttp *srv = fakehttp_start(handler, &s);
	CURL *h = easy(url_of(srv, "/token"), &k);
	(void)state;

	curl_easy_setopt(h, CURLOPT_POSTFIELDS, "grant_type=password&service=x");
	assert_int_equal(curl_easy_perform(h), CURLE_OK);
	assert_int_equal(status_of(h), 201);
	assert_string_equal(s.method, "POST");
	assert_int_equal(s.body_seen, strlen("grant_type=password&service=x"));
	assert_false(s.chunked_seen);
	curl_easy_cleanup(h);
	free(k.data);
	fakehttp_stop(srv);
}

struct upload {
	size_t left;
	unsigned char next;
};

static size_t on_read(char *p, size_t size, size_t n, void *ud)
{
	struct upload *u = ud;
	size_t k = size * n < u->left ? size * n : u->left;
	for (size_t i = 0; i < k; i++)
		p[i] = (char)u->next++;
	u->left -= k;
	return k;
}

static void test_chunked_upload(void **state)
{
	struct script s = {.status = 202};
	struct sink k = {0};
	struct upload u = {100000, 0};
	struct fakehttp *srv = fakehttp_start(handler, &s);
	CURL *h = easy(url_of(srv, "/v2/a/blobs/uploads/x"), &k);
	struct curl_slist *hdrs = curl_slist_append(NULL, "Transfer-Encoding: chunked");
	(void)state;

	curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, "PATCH");
	curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
	curl_easy_setopt(h, CURLOPT_READFUNCTION, on_read);
	curl_easy_setopt(h, CURLOPT_READDATA, &u);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
	assert_int_equal(curl_easy_perform(h), CURLE_OK);
	assert_int_equal(status_of(h), 202);
	assert_string_equal(s.method, "PATCH");
	assert_true(s.chunked_seen);
	assert_int_equal(s.body_seen, 100000);
	assert_int_equal(s.first, 0);
	assert_int_equal(s.last, (unsigned char)(99999 & 0xff));
	curl_slist_free_all(hdrs);
	curl_easy_cleanup(h);
	free(k.data);
	fakehttp_stop(srv);
}

static void test_expect_continue(void **state)
{
	struct script s = {.status = 201};
	struct sink k = {0};
	struct upload u = {300000, 7};
	struct fakehttp *srv = fakehttp_start(handler, &s);
	CURL *h = easy(url_of(srv, "/v2/a/blobs/uploads/x?digest=sha256:00"), &k);
	struct curl_slist *hdrs = curl_slist_append(NULL, "Expect: 100-continue");
	double t0;
	(void)state;

	curl_easy_setopt(h, CURLOPT_UPLOAD, 1L); /* PUT */
	curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, (curl_off_t)300000);
	curl_easy_setopt(h, CURLOPT_READFUNCTION, on_read);
	curl_easy_setopt(h, CURLOPT_READDATA, &u);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(h, CURLOPT_EXPECT_100_TIMEOUT_MS, 5000L);
	t0 = now_s();
	assert_int_equal(curl_easy_perform(h), CURLE_OK);
	/* curl waited for our 100, not for its 5 s timeout */
	assert_true(now_s() - t0 < 2.0);
	assert_int_equal(status_of(h), 201);
	assert_string_equal(s.method, "PUT");
	assert_true(s.expect_seen);
	assert_false(s.chunked_seen);
	assert_int_equal(s.body_seen, 300000);
	curl_slist_free_all(hdrs);
	curl_easy_cleanup(h);
	free(k.data);
	fakehttp_stop(srv);
}

static char big[200000];

static CURLcode fetch_big(struct script *s, struct sink *k)
{
	struct fakehttp *srv = fakehttp_start(handler, s);
	CURL *h = easy(url_of(srv, "/v2/a/blobs/sha256:11"), k);
	CURLcode rc;
	memset(big, 'b', sizeof big);
	s->body = big;
	s->body_len = sizeof big;
	rc = curl_easy_perform(h);
	curl_easy_cleanup(h);
	fakehttp_stop(srv);
	return rc;
}

static void test_reset(void **state)
{
	struct script s = {.action = FAKEHTTP_RESET, .action_after = 1000};
	struct sink k = {0};
	(void)state;
	assert_int_equal(fetch_big(&s, &k), CURLE_RECV_ERROR);
	assert_true(k.len <= 1000);
	free(k.data);
}

static void test_truncate(void **state)
{
	struct script s = {.action = FAKEHTTP_TRUNCATE, .action_after = 5000};
	struct sink k = {0};
	(void)state;
	assert_int_equal(fetch_big(&s, &k), CURLE_PARTIAL_FILE);
	assert_int_equal(k.len, 5000);
	free(k.data);
}

static void test_truncate_chunked(void **state)
{
	struct script s = {.action = FAKEHTTP_TRUNCATE, .action_after = 5000, .chunked = 1};
	struct sink k = {0};
	(void)state;
	assert_int_equal(fetch_big(&s, &k), CURLE_PARTIAL_FILE);
	free(k.data);
}

static void test_chunked_response(void **state)
{
	struct script s = {.chunked = 1};
	struct sink k = {0};
	(void)state;
	assert_int_equal(fetch_big(&s, &k), CURLE_OK);
	assert_int_equal(k.len, sizeof big);
	free(k.data);
}

static void test_corrupt(void **state)
{
	struct script s = {.action = FAKEHTTP_CORRUPT, .action_after = 12345};
	struct sink k = {0};
	(void)state;
	assert_int_equal(fetch_big(&s, &k), CURLE_OK);
	assert_int_equal(k.len, sizeof big);
	assert_int_equal(k.data[12344], 'b');
	assert_int_not_equal(k.data[12345], 'b');
	free(k.data);
}

static void test_close_now(void **state)
{
	struct script s = {.action = FAKEHTTP_CLOSE};
	struct sink k = {0};
	(void)state;
	assert_int_equal(fetch_big(&s, &k), CURLE_GOT_NOTHING);
	free(k.data);
}

static void test_reset_now(void **state)
{
	struct script s = {.action = FAKEHTTP_RESET_NOW};
	struct sink k = {0};
	CURLcode rc;
	(void)state;
	rc = fetch_big(&s, &k);
	assert_true(rc == CURLE_RECV_ERROR || rc == CURLE_GOT_NOTHING);
	free(k.data);
}

/* A stalled body trips the client's timeout, and stop() does not wait for the
 * stall to end. */
static void test_stall(void **state)
{
	struct script s = {.stall_after = 10, .stall_ms = 20000, .body = "0123456789abcdef"};
	struct sink k = {0};
	struct fakehttp *srv = fakehttp_start(handler, &s);
	CURL *h = easy(url_of(srv, "/slow"), &k);
	double t0;
	(void)state;

	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, 300L);
	assert_int_equal(curl_easy_perform(h), CURLE_OPERATION_TIMEDOUT);
	assert_int_equal(k.len, 10);
	t0 = now_s();
	fakehttp_stop(srv);
	assert_true(now_s() - t0 < 2.0);
	curl_easy_cleanup(h);
	free(k.data);
}

/* Pipelined requests in one write, HTTP/1.0, and a chunked body with a trailer. */
static void test_raw_socket(void **state)
{
	struct script s = {.body = "ok"};
	struct fakehttp *srv = fakehttp_start(handler, &s);
	struct sockaddr_in a;
	char buf[4096];
	size_t got = 0;
	int fd, responses = 0;
	static const char req[] =
		"GET /a HTTP/1.1\r\nHost: x\r\n\r\n"
		"POST /b HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
		"3;ext=1\r\nabc\r\n2\r\nde\r\n0\r\nX-Trailer: t\r\n\r\n"
		"GET /c HTTP/1.0\r\n\r\n";
	(void)state;

	fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(fd >= 0);
	memset(&a, 0, sizeof a);
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	a.sin_port = htons((uint16_t)fakehttp_port(srv));
	assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof a), 0);
	assert_int_equal(send(fd, req, sizeof req - 1, 0), (ssize_t)(sizeof req - 1));
	/* HTTP/1.0 without keep-alive: the server closes after the third */
	for (int i = 0; i < 100 && got < sizeof buf - 1; i++) {
		ssize_t r = recv(fd, buf + got, sizeof buf - 1 - got, 0);
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	buf[got] = '\0';
	close(fd);
	for (const char *p = buf; (p = strstr(p, "HTTP/1.1 200 OK")); p++)
		responses++;
	assert_int_equal(responses, 3);
	assert_non_null(strstr(buf, "Connection: close"));
	assert_string_equal(s.path, "/c");
	assert_int_equal(fakehttp_request_count(srv), 3);
	fakehttp_stop(srv);
}

/* The POST /b above: check the decoded chunked body separately. */
static void test_raw_chunked_body(void **state)
{
	struct script s = {.body = "ok"};
	struct fakehttp *srv = fakehttp_start(handler, &s);
	struct sockaddr_in a;
	char buf[1024];
	int fd;
	static const char req[] = "POST /b HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
				  "Transfer-Encoding: chunked\r\n\r\n"
				  "3;ext=1\r\nabc\r\n2\r\nde\r\n0\r\nX-Trailer: t\r\n\r\n";
	(void)state;

	fd = socket(AF_INET, SOCK_STREAM, 0);
	memset(&a, 0, sizeof a);
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	a.sin_port = htons((uint16_t)fakehttp_port(srv));
	assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof a), 0);
	assert_int_equal(send(fd, req, sizeof req - 1, 0), (ssize_t)(sizeof req - 1));
	while (recv(fd, buf, sizeof buf, 0) > 0)
		;
	close(fd);
	assert_true(s.chunked_seen);
	assert_int_equal(s.body_seen, 5);
	assert_int_equal(s.first, 'a');
	assert_int_equal(s.last, 'e');
	fakehttp_stop(srv);
}

/* Stop with idle keep-alive connections still open. */
static void test_stop_with_idle_connections(void **state)
{
	struct script s = {.body = "x"};
	struct sink k = {0};
	struct fakehttp *srv = fakehttp_start(handler, &s);
	CURL *h1 = easy(url_of(srv, "/1"), &k), *h2 = easy(url_of(srv, "/2"), &k);
	double t0;
	(void)state;

	assert_int_equal(curl_easy_perform(h1), CURLE_OK);
	assert_int_equal(curl_easy_perform(h2), CURLE_OK);
	assert_int_equal(fakehttp_connection_count(srv), 2);
	t0 = now_s();
	fakehttp_stop(srv);
	assert_true(now_s() - t0 < 2.0);
	curl_easy_cleanup(h1);
	curl_easy_cleanup(h2);
	free(k.data);
	fakehttp_stop(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_get_keepalive),
		cmocka_unit_test(test_status_and_headers),
		cmocka_unit_test(test_head),
		cmocka_unit_test(test_post_content_length),
		cmocka_unit_test(test_chunked_upload),
		cmocka_unit_test(test_expect_continue),
		cmocka_unit_test(test_reset),
		cmocka_unit_test(test_truncate),
		cmocka_unit_test(test_truncate_chunked),
		cmocka_unit_test(test_chunked_response),
		cmocka_unit_test(test_corrupt),
		cmocka_unit_test(test_close_now),
		cmocka_unit_test(test_reset_now),
		cmocka_unit_test(test_stall),
		cmocka_unit_test(test_raw_socket),
		cmocka_unit_test(test_raw_chunked_body),
		cmocka_unit_test(test_stop_with_idle_connections),
	};
	int rc;
	curl_global_init(CURL_GLOBAL_DEFAULT);
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	curl_global_cleanup();
	return rc;
}
