/*
 * echoreg.c — rv-echoreg, a registry that repeats the client's credentials
 * back in its error bodies (tests/security/leak_test.sh).
 *
 * A real registry does not echo Authorization, but a misconfigured proxy,
 * a WAF's debug page or a buggy registry will, and regvault quotes the
 * registry's own words in its error messages: those words must not carry
 * the secret on to the terminal, a log or the catalog. Built on
 * tests/harness/fakehttp (STYLE.md habit 12: fakes only for what a real
 * registry will not do).
 *
 *   rv-echoreg --mode basic|bearer|tokenfail --port-file FILE
 *              [--token-file FILE] [--ttl SEC]
 *
 * basic:     /v2/ challenges Basic; with credentials it answers 200.
 * bearer:    /v2/ challenges Bearer, realm http://127.0.0.1:PORT/token;
 *            /token answers {"token": <contents of --token-file>} to a
 *            request carrying Basic credentials.
 * tokenfail: the same challenge; /token fails in the way the scope asks:
 *            a repository named "bad400…" gets 400 with the Authorization
 *            header in a JSON error body, "badjson…" a 200 whose body is
 *            broken JSON holding it, anything else a 200 without a token
 *            but with the header in another member.
 *
 * Authorised registry requests carry the Authorization value back in an
 * X-Echo response header, and fail by path, each quoting it in the body:
 * tags/list 401 (with the challenge again),
 * manifests 400 MANIFEST_INVALID, blobs 403 DENIED, /v2/_catalog a 404
 * whose body is plain text. Listens on 127.0.0.1:0, writes the port to
 * --port-file (atomically); SIGTERM/SIGINT or --ttl (default 120 s) stop it.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tests/harness/fakehttp.h"

enum mode { MODE_BASIC, MODE_BEARER, MODE_TOKENFAIL };

struct echo {
	enum mode mode;
	char token[512];
	int port;
};

/* JSON string contents for s (the values we echo are header text). */
static void json_escape(char *out, size_t cap, const char *s)
{
	size_t n = 0;

	for (; *s && n + 7 < cap; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\') {
			out[n++] = '\\';
			out[n++] = (char)c;
		} else if (c < 0x20) {
			n += (size_t)snprintf(out + n, cap - n, "\\u%04x", c);
		} else {
			out[n++] = (char)c;
		}
	}
	out[n] = '\0';
}

static void challenge(const struct echo *e, struct fakehttp_response *rs)
{
	if (e->mode == MODE_BASIC)
		fakehttp_response_header(rs, "WWW-Authenticate", "Basic realm=\"rv-echoreg\"");
	else
		fakehttp_response_header(rs, "WWW-Authenticate",
		                         "Bearer realm=\"http://127.0.0.1:%d/token\",service=\"echo\"",
		                         e->port);
}

static void json_body(struct fakehttp_response *rs, const char *fmt, const char *arg)
{
	char body[4096];

	snprintf(body, sizeof(body), fmt, arg, arg);
	fakehttp_response_header(rs, "Content-Type", "application/json");
	fakehttp_response_body_str(rs, body);
}

static void token_answer(const struct echo *e, const struct fakehttp_request *rq,
                         struct fakehttp_response *rs, const char *auth)
{
	if (!auth || strncmp(auth, "Basic ", 6) != 0) {
		rs->status = 401;
		json_body(rs, "{\"errors\":[{\"code\":\"UNAUTHORIZED\",\"message\":\"%s%s\"}]}", "");
		return;
	}
	if (e->mode == MODE_BEARER) {
		char body[1024];

		snprintf(body, sizeof(body), "{\"token\":\"%s\",\"expires_in\":300}", e->token);
		fakehttp_response_header(rs, "Content-Type", "application/json");
		fakehttp_response_body_str(rs, body);
		return;
	}
	if (strstr(rq->query, "bad400")) {
		rs->status = 400;
		json_body(rs, "{\"errors\":[{\"code\":\"DENIED\",\"message\":\"you sent "
		          "Authorization: %s\",\"detail\":\"%s\"}]}", auth);
	} else if (strstr(rq->query, "badjson")) {
		json_body(rs, "{\"token\": \"%s\", \"note\": \"%s", auth);
	} else {
		json_body(rs, "{\"access\":\"%s\",\"echo\":{\"Authorization\":\"%s\"}}", auth);
	}
}

static void handler(const struct fakehttp_request *rq, struct fakehttp_response *rs, void *ctx)
{
	struct echo *e = ctx;
	const char *raw = fakehttp_request_header(rq, "Authorization");
	char auth[1024];

	json_escape(auth, sizeof(auth), raw ? raw : "");
	if (!strcmp(rq->path, "/token")) {
		token_answer(e, rq, rs, raw ? auth : NULL);
		return;
	}
	if (!raw) {
		rs->status = 401;
		challenge(e, rs);
		json_body(rs, "{\"errors\":[{\"code\":\"UNAUTHORIZED\",\"message\":"
		          "\"authentication required%s%s\"}]}", "");
		return;
	}
	fakehttp_response_header(rs, "Docker-Distribution-Api-Version", "registry/2.0");
	/* A header the trace redactor does not know: only the text redaction
	 * of every logged line keeps it out of a -vvv trace. */
	fakehttp_response_header(rs, "X-Echo", "you sent %s", raw);
	if (!strcmp(rq->path, "/v2/") || !strcmp(rq->path, "/v2")) {
		json_body(rs, "{}%s%s", "");
	} else if (!strcmp(rq->path, "/v2/_catalog")) {
		char body[2048];

		rs->status = 404;
		snprintf(body, sizeof(body), "no catalog here; you sent Authorization: %s\n"
		         "second line %s\n", raw, raw);
		fakehttp_response_header(rs, "Content-Type", "text/plain");
		fakehttp_response_body_str(rs, body);
	} else if (strstr(rq->path, "/tags/list")) {
		rs->status = 401;
		challenge(e, rs);
		json_body(rs, "{\"errors\":[{\"code\":\"UNAUTHORIZED\",\"message\":\"bad "
		          "Authorization: %s\",\"detail\":[\"%s\"]}]}", auth);
	} else if (strstr(rq->path, "/manifests/")) {
		rs->status = 400;
		json_body(rs, "{\"errors\":[{\"code\":\"MANIFEST_INVALID\",\"message\":\"%s\","
		          "\"detail\":{\"Authorization\":\"%s\"}}]}", auth);
	} else {
		rs->status = 403;
		json_body(rs, "{\"errors\":[{\"code\":\"DENIED\",\"message\":\"denied for "
		          "Authorization: %s\",\"detail\":\"%s\"}]}", auth);
	}
}

static int write_port(const char *path, int port)
{
	char tmp[4096];
	FILE *f;

	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	f = fopen(tmp, "w");
	if (!f || fprintf(f, "%d\n", port) < 0 || fclose(f) != 0)
		return -1;
	return rename(tmp, path);
}

static int read_token(const char *path, char *out, size_t cap)
{
	FILE *f = fopen(path, "r");
	size_t n;

	if (!f)
		return -1;
	n = fread(out, 1, cap - 1, f);
	fclose(f);
	out[n] = '\0';
	out[strcspn(out, "\r\n")] = '\0';
	return *out ? 0 : -1;
}

static int usage(void)
{
	fprintf(stderr, "usage: rv-echoreg --mode basic|bearer|tokenfail --port-file FILE "
	        "[--token-file FILE] [--ttl SEC]\n");
	return 2;
}

int main(int argc, char **argv)
{
	struct echo e = { MODE_BASIC, "", 0 };
	const char *port_file = NULL, *token_file = NULL;
	struct timespec ttl = { 120, 0 };
	struct fakehttp *srv;
	sigset_t set;
	int sig;

	for (int i = 1; i + 1 < argc; i += 2) {
		if (!strcmp(argv[i], "--mode")) {
			if (!strcmp(argv[i + 1], "basic"))
				e.mode = MODE_BASIC;
			else if (!strcmp(argv[i + 1], "bearer"))
				e.mode = MODE_BEARER;
			else if (!strcmp(argv[i + 1], "tokenfail"))
				e.mode = MODE_TOKENFAIL;
			else
				return usage();
		} else if (!strcmp(argv[i], "--port-file")) {
			port_file = argv[i + 1];
		} else if (!strcmp(argv[i], "--token-file")) {
			token_file = argv[i + 1];
		} else if (!strcmp(argv[i], "--ttl")) {
			ttl.tv_sec = atol(argv[i + 1]);
		} else {
			return usage();
		}
	}
	if (!port_file || (argc % 2) != 1 || (e.mode == MODE_BEARER && !token_file))
		return usage();
	if (token_file && read_token(token_file, e.token, sizeof(e.token)) != 0) {
		fprintf(stderr, "rv-echoreg: cannot read a token from %s\n", token_file);
		return 1;
	}
	/* Blocked before the server's threads start, so they inherit the mask
	 * and the signal comes to sigtimedwait below. */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	srv = fakehttp_start(handler, &e);
	if (!srv) {
		fprintf(stderr, "rv-echoreg: cannot start the server\n");
		return 1;
	}
	e.port = fakehttp_port(srv);
	if (write_port(port_file, e.port) != 0) {
		fprintf(stderr, "rv-echoreg: cannot write %s: %s\n", port_file, strerror(errno));
		fakehttp_stop(srv);
		return 1;
	}
	do
		sig = sigtimedwait(&set, NULL, &ttl);
	while (sig < 0 && errno == EINTR);
	fakehttp_stop(srv);
	return 0;
}
