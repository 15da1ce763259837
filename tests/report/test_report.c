/* Unit tests for report/: the prune plan as an HTML page, rendered from
 * crafted plans. Strings that reach the page from outside (reasons quote
 * the cluster, paths and globs the policy) cannot inject markup; the
 * numbers are the plan's; every decision and protection shows; an empty
 * plan renders; 5,000 images render in under a second into a sane size;
 * the file is written whole with mode 0644. The browser side (the script,
 * the filter, the look) is tests/report/browser_test.sh. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "oci/digest.h"
#include "report/report.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/str.h"
#include "util/timeutil.h"
#include "util/xalloc.h"
#include "util/banned.h"

#define PLANNED 1767323045   /* 2026-01-02T03:04:05Z */
#define NOW (PLANNED + 2 * 3600)
#define DAY 86400

static char **strv(size_t *n, const char *a, const char *b)
{
	char **v = xcalloc(3, sizeof(*v));

	*n = 0;
	if (a)
		v[(*n)++] = xstrdup(a);
	if (b)
		v[(*n)++] = xstrdup(b);
	return v;
}

static void digest_of(char *out, unsigned i)
{
	char seed[32];

	snprintf(seed, sizeof(seed), "image %u", i);
	oci_digest_compute(out, OCI_SHA256, seed, strlen(seed));
}

static struct prune_image *add(struct prune_plan *p, const char *repo, const char *t1,
                               const char *t2, int64_t age, int64_t size, const char *klass,
                               int top, const char *why1, const char *why2)
{
	struct prune_image *im = &p->images[p->n_images];

	im->repository = xstrdup(repo);
	digest_of(im->digest, (unsigned)p->n_images++);
	im->tags = strv(&im->n_tags, t1, t2);
	im->media_type = xstrdup("application/vnd.oci.image.manifest.v1+json");
	im->created = age < 0 ? 0 : PLANNED - age;
	im->size = size;
	im->decision = strcmp(klass, "delete") == 0 ? PRUNE_DELETE : PRUNE_KEEP;
	im->keep = strcmp(klass, "protected") == 0 ? PRUNE_PROTECTED : PRUNE_BY_RULE;
	im->top = top;
	im->reasons = strv(&im->n_reasons, why1, why2);
	return im;
}

/* Every decision and protection: in "team/api" a deployed image (also a
 * base), a rollback one, one kept by a protect glob, a child of a kept
 * index, one kept by a rule, two deleted (one an attachment of a deleted
 * image); in "team/web" one deleted untagged image. The pod's container
 * name carries markup, as a cluster's JSON may. */
static void sample(struct prune_plan *p)
{
	memset(p, 0, sizeof(*p));
	p->images = xcalloc(16, sizeof(*p->images));
	p->registry = xstrdup("reg.example.com:5000");
	p->policy = xstrdup("/etc/regvault/<b>policy</b>&\"'.yaml");
	p->planned_at = PLANNED;
	add(p, "team/api", "latest", "v1.4.2", 2 * DAY, 123456, "protected", 1,
	    "deployed: pod web/api-7d8f container <script>alert(1)</script>",
	    "base of team/api:v2");
	add(p, "team/api", "v1.3", NULL, 40 * DAY, 99000, "protected", 1,
	    "rollback: replicaset web/api-5c4d (revision 6, rollback)", NULL);
	add(p, "team/api", "pinned", NULL, 5 * 3600, 5000, "protected", 1,
	    "protect: team/api:pinned<img src=x onerror=alert(2)>", NULL);
	add(p, "team/api", NULL, NULL, -1, 777, "protected", 0,
	    "child of index team/api:latest", NULL);
	add(p, "team/api", "v1.2", NULL, 45 * 60, 1000, "keep", 1,
	    "rule 3: tags v*", NULL);
	add(p, "team/api", "old", NULL, 200 * DAY, 4096, "delete", 1, "no keep rule matches",
	    NULL);
	add(p, "team/api", "sha256-0123.sig", NULL, 201 * DAY, 500, "delete", 1,
	    "referrer of deleted team/api:old", NULL);
	add(p, "team/web", NULL, NULL, 90 * DAY, 2500000, "delete", 1,
	    "untagged (untagged: delete)", NULL);
	p->in_scope = 7;
	p->protected_ = 3;
	p->kept = 1;
	p->deleted = 3;
	p->max_delete = 6;
	p->reclaimable = 12345;
}

static char *render(const struct prune_plan *p)
{
	struct buf b = BUF_INIT;

	report_render(&b, p, NOW);
	return buf_detach(&b, NULL);
}

static size_t count(const char *hay, const char *needle)
{
	size_t n = 0;

	for (const char *s = hay; (s = strstr(s, needle)) != NULL; s += strlen(needle))
		n++;
	return n;
}

/* The table row (<tr class="img" … </tr>) of the image with digest. */
static char *row_of(const char *doc, const char *digest)
{
	char *key = xasprintf("title=\"%s\"", digest);
	const char *at = strstr(doc, key), *start = at, *end;

	free(key);
	assert_non_null(at);
	while (start > doc && strncmp(start, "<tr class=\"img", 14) != 0)
		start--;
	end = strstr(at, "</tr>");
	assert_non_null(end);
	return xstrndup(start, (size_t)(end - start + 5));
}

/* Every '<' outside the style and script blocks opens or closes one of
 * the elements the renderer writes: no string brought in another. */
static void assert_only_our_tags(const char *doc)
{
	static const char *const ok[] = {
		"!DOCTYPE", "html", "head", "meta", "title", "style", "body", "header", "h1", "h2",
		"p", "span", "code", "time", "section", "table", "thead", "tbody", "tr", "th", "td",
		"div", "i", "b", "nav", "label", "input", "small", "main", "ul", "li", "script",
		"details", "summary",
	};
	const char *s = doc;

	while ((s = strchr(s, '<')) != NULL) {
		const char *name = s + 1 + (s[1] == '/');
		size_t len = strcspn(name, " >");
		int found = 0;

		for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
			found |= strlen(ok[i]) == len && strncmp(ok[i], name, len) == 0;
		if (!found)
			fail_msg("unexpected markup at: %.60s", s);
		if (strncmp(s, "<style>", 7) == 0)
			s = strstr(s, "</style>");
		else if (strncmp(s, "<script>", 8) == 0)
			s = strstr(s, "</script>");
		else
			s++;
		assert_non_null(s);
	}
}

static void test_escapes_what_came_from_outside(void **state)
{
	struct prune_plan p;
	char *doc;

	(void)state;
	sample(&p);
	/* Impossible in a registry (distribution-spec names and tags have no
	 * quotes or brackets), but the renderer must not rely on that. */
	free(p.images[7].repository);
	p.images[7].repository = xstrdup("team/web\" onmouseover=\"alert(3)");
	free(p.images[4].tags[0]);
	p.images[4].tags[0] = xstrdup("v1.2'><svg onload=alert(4)>");
	p.refused = 1;
	p.refusal = xstrdup("max_delete of /tmp/<i>p</i>.yaml allows 1");
	doc = render(&p);

	assert_only_our_tags(doc);
	assert_int_equal(count(doc, "<script"), 1);
	assert_null(strstr(doc, "<script>alert"));
	assert_null(strstr(doc, "<img"));
	assert_null(strstr(doc, "<svg"));
	assert_null(strstr(doc, "\" onmouseover="));
	assert_non_null(strstr(doc, "container &lt;script&gt;alert(1)&lt;/script&gt;</li>"));
	assert_non_null(strstr(doc, "pinned&lt;img src=x onerror=alert(2)&gt;</li>"));
	assert_non_null(strstr(doc, "data-repo=\"team/web&quot; onmouseover=&quot;alert(3)\""));
	assert_non_null(strstr(doc, "<span class=\"tag\">v1.2&#39;&gt;&lt;svg onload=alert(4)&gt;</span>"));
	assert_non_null(strstr(doc, "<code>/etc/regvault/&lt;b&gt;policy&lt;/b&gt;&amp;&quot;&#39;.yaml</code>"));
	assert_non_null(strstr(doc, "REFUSED: max_delete of /tmp/&lt;i&gt;p&lt;/i&gt;.yaml allows 1"));
	free(doc);
	prune_plan_release(&p);
}

/* Control characters would break a line of the source or hide text. */
static void test_control_characters_become_question_marks(void **state)
{
	struct prune_plan p;
	char *doc;

	(void)state;
	sample(&p);
	free(p.images[5].reasons[0]);
	p.images[5].reasons[0] = xstrdup("no keep\x1b[31m rule\r\nmatches\x7f");
	doc = render(&p);
	assert_non_null(strstr(doc, "<li>no keep?[31m rule??matches?</li>"));
	free(doc);
	prune_plan_release(&p);
}

static void test_numbers_are_the_plans(void **state)
{
	struct prune_plan p;
	char *doc, *row;

	(void)state;
	sample(&p);
	doc = render(&p);
	assert_non_null(strstr(doc, ">Protected: 3 | Kept: 1 | Delete: 3 | Reclaimable: 12.3 kB</p>"));
	assert_non_null(strstr(doc, "data-images=\"8\" data-in-scope=\"7\" data-protected=\"3\" "
	                            "data-kept=\"1\" data-delete=\"3\" data-max-delete=\"6\" "
	                            "data-reclaimable=\"12345\" data-refused=\"0\""));
	assert_non_null(strstr(doc, "Deletes 3 of the 7 top-level images in scope (max_delete "
	                            "allows 6)"));
	assert_null(strstr(doc, "REFUSED"));
	/* The bars: top-level sizes only (the index child's 777 is not added). */
	assert_non_null(strstr(doc, "<tr data-repo=\"team/api\" data-protected-bytes=\"227456\" "
	                            "data-kept-bytes=\"1000\" data-delete-bytes=\"4596\">"));
	assert_non_null(strstr(doc, "<tr data-repo=\"team/web\" data-protected-bytes=\"0\" "
	                            "data-kept-bytes=\"0\" data-delete-bytes=\"2500000\">"));
	assert_non_null(strstr(doc, "keep 228.5 kB · delete 4.6 kB</td>"));
	/* The largest repository fills the bar; the others to scale. */
	assert_non_null(strstr(doc, "<span class=\"seg del\" style=\"width:100.00%\""));
	assert_non_null(strstr(doc, "<span class=\"seg prot\" style=\"width:9.10%\""));
	assert_non_null(strstr(doc, "<small>3 protected · 1 kept · 2 delete</small>"));
	assert_non_null(strstr(doc, "<small>0 protected · 0 kept · 1 delete</small>"));
	/* Ages as of the plan, as the terminal table shows them. */
	row = row_of(doc, p.images[0].digest);
	assert_non_null(strstr(row, "<td class=\"age\" title=\"created 2025-12-31T03:04:05Z\">2d</td>"));
	assert_non_null(strstr(row, "data-bytes=\"123456\" title=\"123456 bytes\">123.5 kB</td>"));
	free(row);
	row = row_of(doc, p.images[2].digest);
	assert_non_null(strstr(row, ">5h</td>"));
	free(row);
	row = row_of(doc, p.images[4].digest);
	assert_non_null(strstr(row, ">45m</td>"));
	free(row);
	row = row_of(doc, p.images[3].digest);
	assert_non_null(strstr(row, "title=\"created: unknown\">-</td>"));
	free(row);
	assert_non_null(strstr(doc, "planned <time>2026-01-02T03:04:05Z</time> · this page made "
	                            "<time>2026-01-02T05:04:05Z</time> (the plan was 2h old)"));
	assert_non_null(strstr(doc, "<span id=\"shown\">8</span> of 8 images shown"));
	free(doc);
	prune_plan_release(&p);
}

static void assert_row(const char *doc, const char *digest, const char *decision,
                       const char *word, const char *is, const char *badges)
{
	char *row = row_of(doc, digest), *want = xasprintf("data-decision=\"%s\"", decision);
	char *got_is = xasprintf("data-is=\"%s\"", is), *cell = xasprintf(">%s</span>", word);

	assert_non_null(strstr(row, want));
	assert_non_null(strstr(row, got_is));
	assert_non_null(strstr(row, cell));
	/* Exactly the badges named, in order. */
	{
		struct buf got = BUF_INIT;
		for (const char *s = row; (s = strstr(s, "<span class=\"badge b-")) != NULL; s++) {
			const char *text = strchr(s, '>') + 1;
			buf_addf(&got, "%s%.*s", got.len ? " " : "", (int)strcspn(text, "<"), text);
		}
		assert_string_equal(buf_cstr(&got), badges);
		buf_release(&got);
	}
	free(row);
	free(want);
	free(got_is);
	free(cell);
}

static void test_every_decision_and_protection_shows(void **state)
{
	struct prune_plan p;
	char *doc, *row;

	(void)state;
	sample(&p);
	doc = render(&p);
	assert_int_equal(count(doc, "<tr class=\"img "), 8);
	assert_int_equal(count(doc, "<section class=\"repo\""), 2);
	assert_row(doc, p.images[0].digest, "protected", "PROTECTED", "deployed base",
	           "DEPLOYED BASE");
	assert_row(doc, p.images[1].digest, "protected", "PROTECTED", "rollback", "ROLLBACK");
	assert_row(doc, p.images[2].digest, "protected", "PROTECTED", "protect", "PROTECT");
	assert_row(doc, p.images[3].digest, "protected", "PROTECTED", "attached", "ATTACHED");
	assert_row(doc, p.images[4].digest, "keep", "keep", "rule", "");
	assert_row(doc, p.images[5].digest, "delete", "delete", "", "");
	/* "referrer of deleted …" is a reason to delete, not a protection. */
	assert_row(doc, p.images[6].digest, "delete", "delete", "", "");
	assert_row(doc, p.images[7].digest, "delete", "delete", "", "");
	/* Every reason, the first one first. */
	row = row_of(doc, p.images[0].digest);
	assert_non_null(strstr(row, "</li><li>base of team/api:v2</li></ul>"));
	assert_non_null(strstr(row, "<span class=\"tag\">latest</span> <span class=\"tag\">v1.4.2"));
	assert_non_null(strstr(row, "<code>sha256:"));
	free(row);
	/* Not counted in the summary: said on the row. */
	row = row_of(doc, p.images[3].digest);
	assert_non_null(strstr(row, "data-top=\"0\""));
	assert_non_null(strstr(row, ">child or referrer</span>"));
	assert_non_null(strstr(row, "<span class=\"none\">untagged</span>"));
	free(row);
	free(doc);
	prune_plan_release(&p);
}

/* A base of many images: three reasons shown, the rest folded but there
 * (the search reads them). */
static void test_many_reasons_fold(void **state)
{
	struct prune_plan p;
	struct prune_image *im;
	char *doc, *row;

	(void)state;
	sample(&p);
	im = &p.images[0];
	im->reasons = xrealloc(im->reasons, 10 * sizeof(*im->reasons));
	for (size_t i = im->n_reasons; i < 10; i++)
		im->reasons[i] = xasprintf("base of team/api:v%zu", i);
	im->n_reasons = 10;
	doc = render(&p);
	row = row_of(doc, im->digest);
	assert_int_equal(count(row, "<li>"), 10);
	assert_non_null(strstr(row, "<li>base of team/api:v2</li></ul><details><summary>7 more "
	                            "reasons</summary><ul><li>base of team/api:v3</li>"));
	assert_non_null(strstr(row, "<li>base of team/api:v9</li></ul></details></td>"));
	free(row);
	/* Four fit without folding. */
	row = row_of(doc, p.images[1].digest);
	assert_null(strstr(row, "<details>"));
	free(row);
	free(doc);
	prune_plan_release(&p);
}

/* By repository, then newest first (the terminal table's order). */
static void test_rows_by_repository_then_newest(void **state)
{
	struct prune_plan p;
	char *doc;
	const char *prev = NULL;
	static const int order[] = { 4, 2, 0, 1, 5, 6, 3, 7 };   /* unknown age last */

	(void)state;
	sample(&p);
	doc = render(&p);
	for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
		char *key = xasprintf("title=\"%s\"", p.images[order[i]].digest);
		const char *at = strstr(doc, key);
		assert_non_null(at);
		if (prev)
			assert_true(at > prev);
		prev = at;
		free(key);
	}
	free(doc);
	prune_plan_release(&p);
}

static void test_empty_plan(void **state)
{
	struct prune_plan p;
	char *doc;

	(void)state;
	memset(&p, 0, sizeof(p));
	p.registry = xstrdup("reg.example.com");
	p.planned_at = PLANNED;
	doc = render(&p);
	assert_only_our_tags(doc);
	assert_non_null(strstr(doc, ">Protected: 0 | Kept: 0 | Delete: 0 | Reclaimable: 0 B</p>"));
	assert_non_null(strstr(doc, "No images in scope"));
	assert_int_equal(count(doc, "<tr class=\"img"), 0);
	assert_int_equal(count(doc, "<section class=\"repo\""), 0);
	assert_null(strstr(doc, "Policy <code>"));
	/* The script needs its elements on every page. */
	assert_non_null(strstr(doc, "id=\"q\""));
	assert_non_null(strstr(doc, "id=\"shown\">0</span>"));
	assert_non_null(strstr(doc, "</script>\n</body>\n</html>\n"));
	free(doc);
	prune_plan_release(&p);
}

/* The CSP allows exactly the script the page holds, and nothing is
 * loaded from anywhere. */
static void test_self_contained(void **state)
{
	struct prune_plan p;
	char *doc, *body, dg[OCI_DIGEST_MAX], *want;
	unsigned char raw[32];
	const char *open, *close, *hex;

	(void)state;
	sample(&p);
	free(p.images[2].reasons[0]);
	p.images[2].reasons[0] = xstrdup("protect: team/api:pinned");
	doc = render(&p);
	open = strstr(doc, "<script>") + 8;
	close = strstr(open, "</script>");
	body = xstrndup(open, (size_t)(close - open));
	oci_digest_compute(dg, OCI_SHA256, body, strlen(body));
	hex = dg + 7;
	for (size_t i = 0; i < 32; i++) {
		unsigned v;
		assert_int_equal(sscanf(hex + 2 * i, "%2x", &v), 1);
		raw[i] = (unsigned char)v;
	}
	{
		char *b64 = str_base64_encode(raw, sizeof(raw));
		want = xasprintf("content=\"default-src 'none'; style-src 'unsafe-inline'; "
		                 "script-src 'sha256-%s';", b64);
		free(b64);
	}
	assert_non_null(strstr(doc, want));
	assert_null(strstr(doc, "src="));
	assert_null(strstr(doc, "href="));
	assert_null(strstr(doc, "url("));
	assert_null(strstr(doc, "@import"));
	assert_null(strstr(doc, "http://"));
	assert_null(strstr(doc, "https://"));
	free(want);
	free(body);
	free(doc);
	prune_plan_release(&p);
}

/* 5,000 images (40 repositories, two reasons each): under a second and
 * under 1 KiB of page per image. */
static void test_large_plan(void **state)
{
	struct prune_plan p;
	struct buf b = BUF_INIT;
	int64_t t0, ms;
	static const char *const klass[] = { "protected", "keep", "delete" };

	(void)state;
	memset(&p, 0, sizeof(p));
	p.registry = xstrdup("reg.example.com");
	p.planned_at = PLANNED;
	p.images = xcalloc(5000, sizeof(*p.images));
	for (unsigned i = 0; i < 5000; i++) {
		char repo[64], tag[32];
		snprintf(repo, sizeof(repo), "team/service-%02u", i % 40);
		snprintf(tag, sizeof(tag), "git-%08x", i * 2654435761u);
		add(&p, repo, tag, i % 7 ? NULL : "latest", (int64_t)(i % 300) * DAY + i, 50000 + i,
		    klass[i % 3], 1, i % 3 == 0 ? "deployed: pod prod/service-abc container app"
		                                : "rule 4: newest 3 of *, except *-SNAPSHOT*",
		    "younger than 14d");
	}
	t0 = time_mono_ms();
	report_render(&b, &p, NOW);
	ms = time_mono_ms() - t0;
	print_message("5000 images: %lld ms, %zu bytes (%zu per image)\n", (long long)ms, b.len,
	              b.len / 5000);
	assert_true(ms < 1000);
	assert_true(b.len > 5000 * 300);
	assert_true(b.len < 5000 * 1024);
	assert_int_equal(count(buf_cstr(&b), "<tr class=\"img "), 5000);
	assert_int_equal(count(buf_cstr(&b), "<section class=\"repo\""), 40);
	buf_release(&b);
	prune_plan_release(&p);
}

static void test_write_file(void **state)
{
	struct prune_plan p;
	struct buf got = BUF_INIT;
	char dir[] = "/tmp/rv-report-XXXXXX", *path, *missing, *doc;
	struct stat st;
	mode_t old;

	(void)state;
	sample(&p);
	assert_non_null(mkdtemp(dir));
	path = xasprintf("%s/plan.html", dir);
	missing = xasprintf("%s/no/such/dir/plan.html", dir);
	old = umask(077);   /* 0644 whatever the umask: the page is meant to be shared */
	assert_int_equal(report_write_file(path, &p, NOW), 0);
	umask(old);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0644);
	assert_int_equal(fs_read_file(&got, path, 0), 0);
	doc = render(&p);
	assert_string_equal(buf_cstr(&got), doc);
	/* Replaced whole; no temporary file left beside it. */
	assert_int_equal(report_write_file(path, &p, NOW), 0);
	{
		char *glob_dir = xasprintf("%s/plan.html.tmp-%d", dir, (int)getpid());
		assert_false(fs_exists(glob_dir));
		free(glob_dir);
	}
	assert_int_not_equal(report_write_file(missing, &p, NOW), 0);
	assert_non_null(strstr(error_msg(), missing));
	unlink(path);
	rmdir(dir);
	buf_release(&got);
	free(doc);
	free(path);
	free(missing);
	prune_plan_release(&p);
}

static void test_write_stream(void **state)
{
	struct prune_plan p;
	FILE *f = tmpfile(), *full = fopen("/dev/full", "w");
	char *doc, *got;
	long len;

	(void)state;
	sample(&p);
	assert_non_null(f);
	assert_int_equal(report_write(f, &p, NOW), 0);
	len = ftell(f);
	rewind(f);
	got = xcalloc((size_t)len + 1, 1);
	assert_int_equal(fread(got, 1, (size_t)len, f), (size_t)len);
	doc = render(&p);
	assert_string_equal(got, doc);
	/* A stream that fails (ENOSPC) is an error, not a short page. */
	assert_non_null(full);
	assert_int_equal(report_write(full, &p, NOW), RV_ERROR);
	assert_non_null(strstr(error_msg(), "cannot write the report"));
	fclose(full);
	fclose(f);
	free(got);
	free(doc);
	prune_plan_release(&p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_escapes_what_came_from_outside),
		cmocka_unit_test(test_control_characters_become_question_marks),
		cmocka_unit_test(test_numbers_are_the_plans),
		cmocka_unit_test(test_every_decision_and_protection_shows),
		cmocka_unit_test(test_many_reasons_fold),
		cmocka_unit_test(test_rows_by_repository_then_newest),
		cmocka_unit_test(test_empty_plan),
		cmocka_unit_test(test_self_contained),
		cmocka_unit_test(test_large_plan),
		cmocka_unit_test(test_write_file),
		cmocka_unit_test(test_write_stream),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
