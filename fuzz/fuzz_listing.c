/*
 * fuzz_listing.c — libFuzzer target for the tags/list and _catalog page
 * parser (registry/listing.c), which reads a registry's page as it streams
 * in, never whole.
 *
 * Each input is one page, parsed for "tags" (cap 1000 entries) and for
 * "repositories" (cap 3, so the cap is reached), each time fed whole and
 * fed in pieces cut where the input's own bytes say (down to one byte).
 *
 * Beyond "no crash, no leak": the pieces change nothing (same code, same
 * message, same entries); the list never passes its cap; a failure is
 * sticky and says one line; and, read independently with jansson, a page
 * that is a JSON object without duplicate members, whose wanted member is
 * absent, null or an array of short strings without control characters,
 * and that is not nested too deep, is accepted with exactly those entries
 * in order, and one jansson reads but that is not such a page is refused.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "registry/internal.h"
#include "util/error.h"
#include "util/strlist.h"
#include "util/xalloc.h"
#include "util/banned.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define WHAT "tags of \"team/app\" on \"reg.example.com\""

struct result {
	int rc;
	char *msg;
	struct strlist got;
};

/* Piece lengths from the input itself: 1 to 64 bytes, or the rest. */
static size_t piece(const uint8_t *data, size_t size, size_t at, unsigned *state)
{
	*state = *state * 1103515245u + 12345u + (at < size ? data[at] : 0);
	if ((*state >> 16) % 8 == 0)
		return size - at;
	return 1 + (*state >> 8) % 64;
}

static void parse(struct result *r, const uint8_t *data, size_t size, const char *key,
                  size_t cap, int split)
{
	struct listing_parser p;
	unsigned state = (unsigned)size;
	size_t at = 0, n;

	memset(r, 0, sizeof(*r));
	strlist_add(&r->got, "earlier-page");
	listing_init(&p, key, WHAT, &r->got, cap);
	r->rc = 0;
	while (!r->rc && at < size) {
		n = split ? piece(data, size, at, &state) : size;
		if (n > size - at)
			n = size - at;
		r->rc = listing_feed(&p, data + at, n);
		at += n;
	}
	if (!r->rc)
		r->rc = listing_finish(&p);
	if (r->rc) {
		r->msg = xstrdup(error_msg());
		/* Sticky: whatever comes next, the same answer. */
		if (listing_feed(&p, "{}", 2) != r->rc || listing_finish(&p) != r->rc)
			abort();
		if (r->rc != RV_EINVALID && r->rc != RV_ETOOBIG)
			abort();
		if (!*r->msg || strchr(r->msg, '\n') || strncmp(r->msg, WHAT ": ", strlen(WHAT) + 2))
			abort();
	}
	if (r->got.n > cap || strcmp(r->got.v[0], "earlier-page") != 0)
		abort();
}

static void release(struct result *r)
{
	free(r->msg);
	strlist_release(&r->got);
}

static void same(const struct result *a, const struct result *b)
{
	if (a->rc != b->rc || (a->msg && strcmp(a->msg, b->msg)) || a->got.n != b->got.n)
		abort();
	for (size_t i = 0; i < a->got.n; i++)
		if (strcmp(a->got.v[i], b->got.v[i]))
			abort();
}

static size_t depth(json_t *v)
{
	size_t d = 0, i;
	const char *k;
	json_t *m;

	if (json_is_object(v)) {
		json_object_foreach(v, k, m) {
			size_t x = depth(m);
			d = x > d ? x : d;
		}
		return d + 1;
	}
	if (json_is_array(v)) {
		json_array_foreach(v, i, m) {
			size_t x = depth(m);
			d = x > d ? x : d;
		}
		return d + 1;
	}
	return 0;
}

static int plain_entry(json_t *v)
{
	const char *s = json_string_value(v);

	if (!s || json_string_length(v) > LISTING_STR_MAX)
		return 0;
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return 0;
	return 1;
}

/* The longest run of number or literal bytes outside strings: the parser
 * takes literals of up to 30 bytes (no tag list holds a longer number). */
static size_t longest_literal(const uint8_t *d, size_t size)
{
	size_t best = 0, run = 0;
	int in_str = 0;

	for (size_t i = 0; i < size; i++) {
		unsigned char c = d[i];

		if (in_str) {
			if (c == '\\')
				i++;
			else if (c == '"')
				in_str = 0;
			continue;
		}
		if (c == '"') {
			in_str = 1;
			run = 0;
		} else if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		           c == '+' || c == '-' || c == '.') {
			if (++run > best)
				best = run;
		} else {
			run = 0;
		}
	}
	return best;
}

/* What jansson says the answer must be: 1 (accept, want filled), 0 (no
 * opinion), -1 (jansson read it, but the page is not acceptable). */
static int oracle(const uint8_t *data, size_t size, const char *key, size_t cap,
                  struct strlist *want)
{
	json_t *root, *arr, *v;
	int verdict = 1;
	size_t i;

	/* jansson takes a NUL right after a number ("100\0"): no JSON. */
	if (memchr(data, 0, size))
		return 0;
	root = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, NULL);
	if (!root)
		return 0;
	arr = json_object_get(root, key);
	strlist_add(want, "earlier-page");
	if (!json_is_object(root) || (arr && !json_is_array(arr) && !json_is_null(arr)) ||
	    depth(root) > LISTING_DEPTH_MAX)
		verdict = -1;
	json_array_foreach(arr, i, v) {
		if (verdict < 0)
			break;
		if (!plain_entry(v) || want->n >= cap)
			verdict = -1;
		else
			strlist_add(want, json_string_value(v));
	}
	if (verdict > 0 && longest_literal(data, size) > 30)
		verdict = 0;
	json_decref(root);
	return verdict;
}

static void run(const uint8_t *data, size_t size, const char *key, size_t cap)
{
	struct result whole, pieces;
	struct strlist want = STRLIST_INIT;
	int verdict;

	parse(&whole, data, size, key, cap, 0);
	parse(&pieces, data, size, key, cap, 1);
	same(&whole, &pieces);
	verdict = oracle(data, size, key, cap, &want);
	if (verdict > 0) {
		struct result w = { 0, NULL, want };
		same(&whole, &w);
	} else if (verdict < 0 && whole.rc == 0) {
		abort();   /* jansson read it, and it is not a listing */
	}
	strlist_release(&want);
	release(&whole);
	release(&pieces);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	run(data, size, "tags", 1000);
	run(data, size, "repositories", 3);
	return 0;
}
