/*
 * fuzz_response.c — libFuzzer target for what a registry's response
 * headers and error bodies turn into: op.c's header callback (Link
 * rel="next", Content-Type, Docker-Content-Digest, Location,
 * WWW-Authenticate, Content-Length, Content-Range, Retry-After,
 * OCI-Filters-Applied), the next-page URL resolved from Link
 * (client_resolve), and the message made of an error body
 * (op_fail_status).
 *
 * op.c's parsers are static; this file includes op.c itself so it fuzzes
 * exactly that code (the rv_registry archive's op.o is then never pulled
 * in: every symbol it defines is already defined here).
 *
 * Input: header lines as curl hands them (one callback per line), then,
 * after the first empty line, the response body.
 *
 * Beyond "no crash, no leak": fields are normal (Content-Type lowercased,
 * no parameters, trimmed; lengths and offsets -1 or more; Retry-After a
 * wait of 0 or more); a next link holds no '>' or line break and resolves
 * to a URL without spaces or control bytes that resolves to itself again;
 * an error message is one printable line.
 */
#include "registry/op.c"

#include <ctype.h>
#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define BASE_URL "https://reg.example.com:5000/v2/team/app/tags/list?n=100"

static void feed(registry_op *op, const char *line, size_t len)
{
	char *copy = xstrndup(line, len);   /* curl's buffer is not ours to keep */

	if (header_cb(copy, 1, len, op) != len)
		abort();
	free(copy);
}

static void check_url(const char *u)
{
	char *again;

	for (const char *p = u; *p; p++)
		if ((unsigned char)*p <= 0x20 || *p == 0x7f)
			abort();
	again = client_resolve(BASE_URL, u);
	if (!again || strcmp(again, u) != 0)
		abort();
	free(again);
}

static void check_response(const struct op_response *r)
{
	size_t n = strlen(r->content_type);

	if (n >= sizeof(r->content_type) || strchr(r->content_type, ';'))
		abort();
	for (size_t i = 0; i < n; i++)
		if (isupper((unsigned char)r->content_type[i]))
			abort();
	if (n && (isspace((unsigned char)r->content_type[0]) ||
	          isspace((unsigned char)r->content_type[n - 1])))
		abort();
	if (strlen(r->digest) >= sizeof(r->digest))
		abort();
	if (r->content_length < -1 || r->range_start < -1)
		abort();
	if (r->retry_after_ms < -1)
		abort();
	if (r->link) {
		char *next;

		if (strpbrk(r->link, ">\n"))
			abort();
		next = client_resolve(BASE_URL, r->link);
		if (next)
			check_url(next);
		free(next);
	}
	for (size_t i = 0; i < r->www_authenticate.n; i++)
		if (strpbrk(r->www_authenticate.v[i], "\n"))
			abort();
}

static void check_message(const char *m)
{
	if (!m || !*m)
		abort();
	for (const char *p = m; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			abort();   /* one line, nothing a terminal would act on */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char status[] = "HTTP/1.1 200 OK\r\n";
	static char name[] = "reg.example.com:5000";
	registry_client c;
	registry_op *op;
	const char *p = (const char *)data, *end = p + size;
	int code;

	memset(&c, 0, sizeof(c));
	c.name = name;
	op = xcalloc(1, sizeof(*op));
	op->c = &c;
	op->what = xstrdup("tags of \"team/app\"");
	op->url = xstrdup(BASE_URL);
	response_reset(&op->r);
	buf_init(&op->errbody, ERRBODY_MAX);

	feed(op, status, strlen(status));
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t len = nl ? (size_t)(nl - p) + 1 : (size_t)(end - p);
		int blank = (len == 1 && *p == '\n') || (len == 2 && p[0] == '\r' && p[1] == '\n');

		feed(op, p, len);
		p += len;
		if (blank)
			break;   /* the body follows */
	}
	check_response(&op->r);

	if (buf_add(&op->errbody, p, (size_t)(end - p)) == 0) {
		if (op->r.status < 100 || op->r.status > 599)
			op->r.status = 500;
		code = op_fail_status(op);
		if (code >= 0)
			abort();
		check_message(op->msg);
	}
	free(op->what);
	free(op->url);
	response_reset(&op->r);
	buf_release(&op->errbody);
	free(op->msg);
	free(op);
	return 0;
}
