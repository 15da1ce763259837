/*
 * report.c — the prune plan as one self-contained HTML page (report.h).
 *
 * Built as text into a buf, top to bottom: head (CSP, style), header
 * (summary line, refusal), the per-repository chart, the search box, one
 * table per repository, the script. Nothing is fetched by the page: the
 * CSP's default-src 'none' makes that a rule the browser enforces, not a
 * habit, and the one inline script is allowed by its sha256 alone, so an
 * escaping bug could not turn a reason into running code either.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "oci/digest.h"
#include "report/report.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/str.h"
#include "util/timeutil.h"
#include "util/xalloc.h"
#include "util/banned.h"

/* --- Escaping ------------------------------------------------------------------- */

/* For text and double- or single-quoted attribute values alike. Control
 * characters, which no name or tag holds but a cluster's strings might,
 * become '?' as in the terminal table. */
static void esc(struct buf *b, const char *s)
{
	const char *run = s ? s : "";

	for (s = run; *s; s++) {
		const char *e = NULL;
		switch (*s) {
		case '&': e = "&amp;"; break;
		case '<': e = "&lt;"; break;
		case '>': e = "&gt;"; break;
		case '"': e = "&quot;"; break;
		case '\'': e = "&#39;"; break;
		default:
			if ((unsigned char)*s < 0x20 || *s == 0x7f)
				e = "?";
		}
		if (e) {
			buf_add(b, run, (size_t)(s - run));
			buf_addstr(b, e);
			run = s + 1;
		}
	}
	buf_add(b, run, (size_t)(s - run));
}

/* --- What kind of protection a reason names ---------------------------------------- */

/* The wording is prune/keep.c's (keep_mark calls); a reason that matches
 * nothing here still shows, only without a badge. */
enum {
	IS_DEPLOYED = 1 << 0, IS_ROLLBACK = 1 << 1, IS_BASE = 1 << 2, IS_PROTECT = 1 << 3,
	IS_ATTACHED = 1 << 4, IS_RULE = 1 << 5,
};

static const struct {
	const char *prefix;
	unsigned is;
} reason_kinds[] = {
	{ "deployed: ", IS_DEPLOYED },
	{ "rollback: ", IS_ROLLBACK },
	{ "base of ", IS_BASE },
	{ "protect: ", IS_PROTECT },
	{ "child of index ", IS_ATTACHED },
	{ "referrer listed for ", IS_ATTACHED },
	{ "referrer of ", IS_ATTACHED },
	{ "signature or attachment of ", IS_ATTACHED },
	{ "rule ", IS_RULE },
	{ "untagged: keep", IS_RULE },
};

/* In badge order: the strongest reason first. `badge` NULL: no badge. */
static const struct {
	unsigned is;
	const char *name, *badge, *title;
} kinds[] = {
	{ IS_DEPLOYED, "deployed", "DEPLOYED", "running or templated in the cluster" },
	{ IS_ROLLBACK, "rollback", "ROLLBACK", "a ReplicaSet `kubectl rollout undo` returns to" },
	{ IS_BASE, "base", "BASE", "the base image of a kept image" },
	{ IS_PROTECT, "protect", "PROTECT", "named by a protect glob of the policy" },
	{ IS_ATTACHED, "attached", "ATTACHED", "an index child, signature or referrer of a kept image" },
	{ IS_RULE, "rule", NULL, NULL },
};

/* Only kept images are classified: a delete reason such as "attachment
 * of deleted …" must not earn a badge. */
static unsigned image_kinds(const struct prune_image *im)
{
	unsigned is = 0;

	if (im->decision != PRUNE_KEEP)
		return 0;
	for (size_t r = 0; r < im->n_reasons; r++)
		for (size_t k = 0; k < sizeof(reason_kinds) / sizeof(reason_kinds[0]); k++)
			if (str_has_prefix(im->reasons[r], reason_kinds[k].prefix))
				is |= reason_kinds[k].is;
	return is;
}

static const char *decision_class(const struct prune_image *im)
{
	if (im->decision == PRUNE_DELETE)
		return "delete";
	return im->keep == PRUNE_PROTECTED ? "protected" : "keep";
}

/* The terminal table's words. */
static const char *decision_word(const struct prune_image *im)
{
	if (im->decision == PRUNE_DELETE)
		return "delete";
	return im->keep == PRUNE_PROTECTED ? "PROTECTED" : "keep";
}

/* --- Numbers ---------------------------------------------------------------------- */

/* "45m", "5h", "3d" from `from` to `to`, as the terminal table shows age. */
static void add_span(struct buf *b, int64_t from, int64_t to)
{
	int64_t s = to - from < 0 ? 0 : to - from;

	if (s < 3600)
		buf_addf(b, "%lldm", (long long)(s / 60));
	else if (s < 86400)
		buf_addf(b, "%lldh", (long long)(s / 3600));
	else
		buf_addf(b, "%lldd", (long long)(s / 86400));
}

static void add_bytes(struct buf *b, int64_t n)
{
	char h[32];

	buf_addstr(b, str_human_bytes(n, h, sizeof(h)));
}

static void add_time(struct buf *b, int64_t t)
{
	char s[32];

	buf_addstr(b, time_format_rfc3339(t, s, sizeof(s)));
}

/* --- Rows and repositories ------------------------------------------------------- */

/* One repository: rows [first, end) of the sorted rows; bytes and counts
 * over its top-level images, like the summary line. */
struct repo {
	const char *name;
	size_t first, end;
	int64_t bytes[3];      /* protected, kept, delete */
	size_t count[3];
};

enum { PROT = 0, KEPT, DEL };

static int slot(const struct prune_image *im)
{
	if (im->decision == PRUNE_DELETE)
		return DEL;
	return im->keep == PRUNE_PROTECTED ? PROT : KEPT;
}

/* Sorted row pointers and the repositories they fall into. */
static size_t group(const struct prune_plan *p, const struct prune_image ***rows_out,
                    struct repo **repos_out)
{
	const struct prune_image **rows = xcalloc(p->n_images + 1, sizeof(*rows));
	struct repo *repos = xcalloc(p->n_images + 1, sizeof(*repos));
	size_t n = 0;

	for (size_t i = 0; i < p->n_images; i++)
		rows[i] = &p->images[i];
	if (p->n_images > 1)
		qsort(rows, p->n_images, sizeof(*rows), prune_image_order);
	for (size_t i = 0; i < p->n_images; i++) {
		if (!i || strcmp(rows[i - 1]->repository, rows[i]->repository) != 0) {
			repos[n].name = rows[i]->repository;
			repos[n].first = i;
			n++;
		}
		repos[n - 1].end = i + 1;
		if (rows[i]->top) {
			repos[n - 1].bytes[slot(rows[i])] += rows[i]->size;
			repos[n - 1].count[slot(rows[i])]++;
		}
	}
	*rows_out = rows;
	*repos_out = repos;
	return n;
}

/* --- The page ------------------------------------------------------------------- */

static const char style[] =
":root{--prot:#1d4f91;--keep:#2e7d32;--del:#b3261e;--rb:#a15c00;--base:#6a3d9a;"
"--line:#d9d9d9;--muted:#5f6368;--bg2:#f6f7f9}\n"
"*{box-sizing:border-box}\n"
"body{font:14px/1.45 system-ui,-apple-system,\"Segoe UI\",\"DejaVu Sans\",sans-serif;"
"color:#1b1b1b;margin:0 auto;padding:20px 28px 60px;max-width:1500px}\n"
"h1{font-size:22px;margin:0 0 4px}h1 .mono{font-size:inherit}h2{font-size:17px;margin:28px 0 8px}\n"
"h2 small{font-weight:normal;color:var(--muted);font-size:13px;margin-left:8px}\n"
"code,.mono{font-family:ui-monospace,\"DejaVu Sans Mono\",monospace;font-size:12.5px}\n"
".meta,.note,.hint{color:var(--muted);margin:2px 0}.note,.hint{font-size:12.5px}\n"
".summary{font-size:18px;font-weight:600;margin:14px 0 2px;padding:10px 14px;"
"background:var(--bg2);border:1px solid var(--line);border-radius:6px;display:inline-block}\n"
".refused{margin:12px 0;padding:10px 14px;border:3px double var(--del);color:var(--del);"
"background:#fdecea;border-radius:6px;font-weight:600}\n"
".legend{margin:6px 0;font-size:12.5px}.legend span{margin-right:16px}\n"
".sw{display:inline-block;width:14px;height:12px;vertical-align:-1px;margin-right:5px;"
"border:1px solid #0003}\n"
".chart{border-collapse:collapse;width:100%}.chart th{text-align:left;font-weight:normal;"
"padding:3px 10px 3px 0;white-space:nowrap;width:1%}\n"
".chart td{padding:3px 0}.chart td.num{padding-left:10px;white-space:nowrap;width:1%;"
"font-size:12.5px;color:var(--muted)}\n"
".bar{display:flex;height:18px;background:var(--bg2);border:1px solid var(--line)}\n"
".seg{display:block;height:100%;min-width:2px}\n"
".seg.prot,.sw.prot{background:var(--prot)}.seg.keep,.sw.keep{background:var(--keep)}\n"
/* Deleted bytes are hatched: told apart without colour. */
".seg.del,.sw.del{background:repeating-linear-gradient(135deg,var(--del) 0 4px,#f4c7c3 4px 8px)}\n"
".search{position:sticky;top:0;background:#fff;padding:10px 0;border-bottom:1px solid var(--line);"
"z-index:1;margin-top:20px}\n"
"#q{font:inherit;width:min(640px,70%);padding:6px 10px;border:1px solid #999;border-radius:5px}\n"
"#count{margin-left:12px;color:var(--muted)}\n"
/* separate, not collapse: the 5px left marks stay inside the table's width */
"table.imgs{border-collapse:separate;border-spacing:0;width:100%}\n"
".imgs th{text-align:left;font-size:12px;text-transform:uppercase;color:var(--muted);"
"border-bottom:2px solid var(--line);padding:4px 8px}\n"
".imgs td{border-bottom:1px solid var(--line);padding:4px 8px;vertical-align:top}\n"
".imgs td.age,.imgs td.size{text-align:right;white-space:nowrap}\n"
"tr.img>td:first-child{border-left:5px solid transparent;white-space:nowrap}\n"
"tr.d-protected>td:first-child{border-left:5px solid var(--prot)}\n"
"tr.d-keep>td:first-child{border-left:5px dotted var(--keep)}\n"
"tr.d-delete>td:first-child{border-left:5px dashed var(--del)}\n"
"tr.d-delete{background:#fff5f4}\n"
".d{font-weight:600}.d-protected .d{color:var(--prot)}.d-keep .d{color:var(--keep)}"
".d-delete .d{color:var(--del)}\n"
".d-delete .tag{text-decoration:line-through}\n"
".tag{display:inline-block;font-family:ui-monospace,\"DejaVu Sans Mono\",monospace;"
"font-size:12.5px;background:var(--bg2);border:1px solid var(--line);border-radius:3px;"
"padding:0 4px;margin:1px 2px 1px 0;overflow-wrap:anywhere}\n"
/* A signature tag is 71 characters without a break: let it wrap rather
 * than push the reasons off the page. */
"td.tags{min-width:90px;max-width:280px}.why{overflow-wrap:anywhere}\n"
".none,.sub{color:var(--muted);font-style:italic}.sub{font-size:12px;display:block}\n"
".badge{display:inline-block;font-size:11px;font-weight:700;letter-spacing:.04em;"
"padding:0 5px;margin:1px 0 1px 5px;border-radius:3px}\n"
".b-deployed{background:var(--prot);color:#fff;border:2px solid var(--prot)}\n"
".b-rollback{color:var(--rb);border:2px dashed var(--rb)}\n"
".b-base{color:var(--base);border:3px double var(--base)}\n"
".b-protect{color:var(--prot);border:2px dotted var(--prot)}\n"
".b-attached{color:var(--muted);border:1px solid var(--muted)}\n"
".why ul{margin:0;padding-left:16px}.why li{margin:0}\n"
".why details{margin-left:16px;font-size:12.5px;color:var(--muted)}"
".why summary{cursor:pointer}\n"
".why li:first-child{list-style:disc}.why li+li{color:var(--muted);font-size:12.5px}\n"
".empty{font-size:16px;color:var(--muted)}\n";

/* The filter (report.h). It only sets `hidden` and text, never HTML. */
static const char script[] =
"(function(){\"use strict\";\n"
"var q=document.getElementById(\"q\"),shown=document.getElementById(\"shown\");\n"
"var secs=document.querySelectorAll(\"section.repo\"),trs=document.querySelectorAll(\"tr.img\");\n"
"var rows=[];\n"
"for(var i=0;i<trs.length;i++){var r=trs[i],t=r.querySelectorAll(\".tag\"),tags=[],"
"dg=r.querySelector(\".dg\");\n"
"for(var j=0;j<t.length;j++)tags.push(t[j].textContent.toLowerCase());\n"
"rows.push({el:r,repo:r.getAttribute(\"data-repo\").toLowerCase(),"
"dec:r.getAttribute(\"data-decision\"),is:\" \"+r.getAttribute(\"data-is\")+\" \",tags:tags,"
"text:(r.getAttribute(\"data-repo\")+\" \"+r.textContent+\" \"+(dg?dg.title:\"\")).toLowerCase()});}\n"
"function has(e,term){var c=term.indexOf(\":\"),k=c>0?term.slice(0,c):\"\",v=term.slice(c+1);\n"
"if(k===\"repo\")return v===\"\"||e.repo===v||e.repo.slice(-v.length-1)===\"/\"+v;\n"
"if(k===\"tag\"){for(var j=0;j<e.tags.length;j++)if(e.tags[j].indexOf(v)>=0)return true;"
"return false;}\n"
"if(k===\"decision\")return e.dec.indexOf(v)===0;\n"
"if(k===\"is\")return v===\"\"||e.is.indexOf(\" \"+v+\" \")>=0;\n"
"return e.text.indexOf(term)>=0;}\n"
"function apply(query){var terms=query.toLowerCase().split(/\\s+/).filter(Boolean),n=0;\n"
"for(var i=0;i<rows.length;i++){var ok=terms.every(function(t){return has(rows[i],t);});\n"
"if(ok){rows[i].el.removeAttribute(\"hidden\");n++;}else rows[i].el.setAttribute(\"hidden\",\"\");}\n"
"for(var s=0;s<secs.length;s++){if(secs[s].querySelector(\"tr.img:not([hidden])\"))"
"secs[s].removeAttribute(\"hidden\");else secs[s].setAttribute(\"hidden\",\"\");}\n"
"shown.textContent=String(n);document.body.setAttribute(\"data-query\",query);}\n"
"function fromHash(){return new URLSearchParams(location.hash.replace(/^#/,\"\")).get(\"q\")||\"\";}\n"
"q.addEventListener(\"input\",function(){apply(q.value);try{history.replaceState(null,\"\","
"q.value?\"#q=\"+encodeURIComponent(q.value):location.pathname+location.search);}catch(e){}});\n"
"window.addEventListener(\"hashchange\",function(){q.value=fromHash();apply(q.value);});\n"
"q.value=fromHash();apply(q.value);})();\n";

/* CSP 'sha256-…' source for the script: base64 of its raw digest. */
static char *script_hash(void)
{
	char dg[OCI_DIGEST_MAX], *hex, *out;
	unsigned char raw[32];

	oci_digest_compute(dg, OCI_SHA256, script, strlen(script));
	hex = strchr(dg, ':') + 1;
	for (size_t i = 0; i < sizeof(raw); i++) {
		unsigned hi = (unsigned)(hex[2 * i] <= '9' ? hex[2 * i] - '0' : hex[2 * i] - 'a' + 10);
		unsigned lo = (unsigned)(hex[2 * i + 1] <= '9' ? hex[2 * i + 1] - '0'
		                                               : hex[2 * i + 1] - 'a' + 10);
		raw[i] = (unsigned char)(hi << 4 | lo);
	}
	out = str_base64_encode(raw, sizeof(raw));
	return out;
}

static void add_head(struct buf *b, const struct prune_plan *p)
{
	char *hash = script_hash();

	buf_addstr(b, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
	buf_addf(b, "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
	         "style-src 'unsafe-inline'; script-src 'sha256-%s'; base-uri 'none'; "
	         "form-action 'none'\">\n", hash);
	buf_addstr(b, "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
	buf_addstr(b, "<meta name=\"generator\" content=\"regvault " REGVAULT_VERSION "\">\n");
	buf_addstr(b, "<title>Prune plan: ");
	esc(b, p->registry);
	buf_addstr(b, "</title>\n<style>\n");
	buf_addstr(b, style);
	buf_addstr(b, "</style>\n</head>\n");
	free(hash);
}

/* Title, provenance, refusal and the summary line. */
static void add_header(struct buf *b, const struct prune_plan *p, int64_t now)
{
	buf_addstr(b, "<header>\n<h1>Prune plan for <span class=\"mono\">");
	esc(b, p->registry);
	buf_addstr(b, "</span></h1>\n<p class=\"meta\">");
	if (p->policy) {
		buf_addstr(b, "Policy <code>");
		esc(b, p->policy);
		buf_addstr(b, "</code> · ");
	}
	buf_addstr(b, "planned <time>");
	add_time(b, p->planned_at);
	buf_addstr(b, "</time> · this page made <time>");
	add_time(b, now);
	buf_addstr(b, "</time> (the plan was ");
	add_span(b, p->planned_at, now);
	buf_addstr(b, " old) · ages are as of the plan</p>\n");
	if (p->refused) {
		buf_addstr(b, "<p class=\"refused\" role=\"alert\" id=\"refused\">REFUSED: ");
		esc(b, p->refusal ? p->refusal : "the plan deletes too much");
		buf_addstr(b, ". Nothing will be deleted.</p>\n");
	}
	buf_addf(b, "<p class=\"summary\" id=\"summary\" data-images=\"%zu\" data-in-scope=\"%zu\" "
	         "data-protected=\"%zu\" data-kept=\"%zu\" data-delete=\"%zu\" "
	         "data-max-delete=\"%zu\" data-reclaimable=\"%lld\" data-refused=\"%d\">",
	         p->n_images, p->in_scope, p->protected_, p->kept, p->deleted, p->max_delete,
	         (long long)p->reclaimable, p->refused ? 1 : 0);
	buf_addf(b, "Protected: %zu | Kept: %zu | Delete: %zu | Reclaimable: ", p->protected_,
	         p->kept, p->deleted);
	add_bytes(b, p->reclaimable);
	buf_addf(b, "</p>\n<p class=\"meta\">Deletes %zu of the %zu top-level images in scope "
	         "(max_delete allows %zu). Top-level: tagged, or untagged on their own; index "
	         "children and referrers follow them. Reclaimable: what the blobs only deleted "
	         "images use add up to, each blob once.</p>\n</header>\n",
	         p->deleted, p->in_scope, p->max_delete);
}

static void add_segment(struct buf *b, const char *cls, const char *what, int64_t bytes,
                        int64_t max)
{
	if (bytes <= 0)
		return;
	buf_addf(b, "<span class=\"seg %s\" style=\"width:%.2f%%\" title=\"%s ", cls,
	         (double)bytes * 100.0 / (double)max, what);
	add_bytes(b, bytes);
	buf_addstr(b, "\"></span>");
}

/* Bars to one scale: the largest repository fills the width. */
static void add_chart(struct buf *b, const struct repo *repos, size_t n)
{
	int64_t max = 1;

	for (size_t i = 0; i < n; i++) {
		int64_t t = repos[i].bytes[PROT] + repos[i].bytes[KEPT] + repos[i].bytes[DEL];
		max = t > max ? t : max;
	}
	buf_addstr(b, "<section class=\"chart-box\">\n<h2>Bytes kept and deleted per repository</h2>\n"
	           "<p class=\"legend\"><span><i class=\"sw prot\"></i>protected</span>"
	           "<span><i class=\"sw keep\"></i>kept by a rule</span>"
	           "<span><i class=\"sw del\"></i>delete (hatched)</span></p>\n"
	           "<table class=\"chart\">\n");
	for (size_t i = 0; i < n; i++) {
		const struct repo *r = &repos[i];
		buf_addstr(b, "<tr data-repo=\"");
		esc(b, r->name);
		buf_addf(b, "\" data-protected-bytes=\"%lld\" data-kept-bytes=\"%lld\" "
		         "data-delete-bytes=\"%lld\"><th>", (long long)r->bytes[PROT],
		         (long long)r->bytes[KEPT], (long long)r->bytes[DEL]);
		esc(b, r->name);
		buf_addstr(b, "</th><td><div class=\"bar\">");
		add_segment(b, "prot", "protected", r->bytes[PROT], max);
		add_segment(b, "keep", "kept", r->bytes[KEPT], max);
		add_segment(b, "del", "delete", r->bytes[DEL], max);
		buf_addstr(b, "</div></td><td class=\"num\">keep ");
		add_bytes(b, r->bytes[PROT] + r->bytes[KEPT]);
		buf_addstr(b, " · delete ");
		add_bytes(b, r->bytes[DEL]);
		buf_addstr(b, "</td></tr>\n");
	}
	buf_addstr(b, "</table>\n<p class=\"note\">Each bar adds up the sizes of the repository's "
	           "top-level images (manifest, config, layers, index children). A layer shared "
	           "by several images counts in each, so bars can exceed what the registry "
	           "stores; Reclaimable above counts each blob once.</p>\n</section>\n");
}

static void add_search(struct buf *b, size_t n_images)
{
	buf_addf(b, "<nav class=\"search\"><label for=\"q\"><b>Filter</b></label> "
	         "<input id=\"q\" type=\"search\" autocomplete=\"off\" spellcheck=\"false\" "
	         "placeholder=\"words, repo:NAME, tag:T, decision:delete, is:deployed\"> "
	         "<span id=\"count\"><span id=\"shown\">%zu</span> of %zu images shown</span>\n"
	         "<p class=\"hint\">Every word must match: plain words anything on the row, "
	         "<code>repo:</code> the repository, <code>tag:</code> a tag, "
	         "<code>decision:</code> protected, keep or delete, <code>is:</code> deployed, "
	         "rollback, base, protect or attached. Link a view with "
	         "<code>#q=WORDS</code>.</p></nav>\n", n_images, n_images);
}

/* Decision word, badges, and a note on index children and referrers. */
static void add_decision_cell(struct buf *b, const struct prune_image *im, unsigned is)
{
	buf_addf(b, "<td class=\"dec\"><span class=\"d\">%s</span>", decision_word(im));
	for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++)
		if ((is & kinds[k].is) && kinds[k].badge)
			buf_addf(b, "<span class=\"badge b-%s\" title=\"%s\">%s</span>", kinds[k].name,
			         kinds[k].title, kinds[k].badge);
	if (!im->top)
		buf_addstr(b, "<span class=\"sub\" title=\"an index child or a referrer: not "
		           "counted in the summary\">child or referrer</span>");
	buf_addstr(b, "</td>");
}

/* Age as of the plan, the created time in the tooltip; human size, bytes
 * in the tooltip and data-bytes. */
static void add_age_size(struct buf *b, const struct prune_plan *p, const struct prune_image *im)
{
	if (im->created) {
		buf_addstr(b, "<td class=\"age\" title=\"created ");
		add_time(b, im->created);
		buf_addstr(b, "\">");
		add_span(b, im->created, p->planned_at);
		buf_addstr(b, "</td>");
	} else {
		buf_addstr(b, "<td class=\"age\" title=\"created: unknown\">-</td>");
	}
	buf_addf(b, "<td class=\"size\" data-bytes=\"%lld\" title=\"%lld bytes\">",
	         (long long)im->size, (long long)im->size);
	add_bytes(b, im->size);
	buf_addstr(b, "</td>");
}

static void add_tags_digest(struct buf *b, const struct prune_image *im)
{
	const char *colon = strchr(im->digest, ':');
	char *shortened = xstrndup(im->digest, colon ? (size_t)(colon - im->digest) + 13 : 19);

	buf_addstr(b, "<td class=\"tags\">");
	for (size_t t = 0; t < im->n_tags; t++) {
		buf_addstr(b, "<span class=\"tag\">");
		esc(b, im->tags[t]);
		buf_addstr(b, "</span> ");
	}
	if (!im->n_tags)
		buf_addstr(b, "<span class=\"none\">untagged</span>");
	buf_addstr(b, "</td><td class=\"dg\" title=\"");
	esc(b, im->digest);
	buf_addstr(b, "\"><code>");
	esc(b, shortened);
	buf_addstr(b, "</code></td>");
	free(shortened);
}

/* Every reason, the first one first. A base image can be the base of
 * dozens of kept images: past REASONS_SHOWN the rest fold away (still in
 * the page, so the search finds them). */
#define REASONS_SHOWN 4

static void add_reasons(struct buf *b, const struct prune_image *im)
{
	size_t shown = im->n_reasons > REASONS_SHOWN ? REASONS_SHOWN - 1 : im->n_reasons;

	buf_addstr(b, "<td class=\"why\"><ul>");
	for (size_t r = 0; r < im->n_reasons; r++) {
		if (r == shown)
			buf_addf(b, "</ul><details><summary>%zu more reasons</summary><ul>",
			         im->n_reasons - shown);
		buf_addstr(b, "<li>");
		esc(b, im->reasons[r]);
		buf_addstr(b, "</li>");
	}
	buf_addstr(b, im->n_reasons > shown ? "</ul></details></td>" : "</ul></td>");
}

static void add_row(struct buf *b, const struct prune_plan *p, const struct prune_image *im)
{
	unsigned is = image_kinds(im);
	int first = 1;

	buf_addf(b, "<tr class=\"img d-%s\" data-repo=\"", decision_class(im));
	esc(b, im->repository);
	buf_addf(b, "\" data-decision=\"%s\" data-top=\"%d\" data-is=\"", decision_class(im),
	         im->top ? 1 : 0);
	for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++)
		if (is & kinds[k].is) {
			buf_addf(b, "%s%s", first ? "" : " ", kinds[k].name);
			first = 0;
		}
	buf_addstr(b, "\">");
	add_decision_cell(b, im, is);
	add_tags_digest(b, im);
	add_age_size(b, p, im);
	add_reasons(b, im);
	buf_addstr(b, "</tr>\n");
}

static void add_tables(struct buf *b, const struct prune_plan *p,
                       const struct prune_image **rows, const struct repo *repos, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const struct repo *r = &repos[i];
		buf_addstr(b, "<section class=\"repo\" data-repo=\"");
		esc(b, r->name);
		buf_addstr(b, "\">\n<h2>");
		esc(b, p->registry);
		buf_addch(b, '/');
		esc(b, r->name);
		buf_addf(b, "<small>%zu protected · %zu kept · %zu delete</small></h2>\n",
		         r->count[PROT], r->count[KEPT], r->count[DEL]);
		buf_addstr(b, "<table class=\"imgs\">\n<thead><tr><th>Decision</th><th>Tags</th>"
		           "<th>Digest</th><th>Age</th><th>Size</th><th>Reasons</th></tr></thead>\n"
		           "<tbody>\n");
		for (size_t k = r->first; k < r->end; k++)
			add_row(b, p, rows[k]);
		buf_addstr(b, "</tbody>\n</table>\n</section>\n");
	}
}

void report_render(struct buf *out, const struct prune_plan *p, int64_t now)
{
	const struct prune_image **rows = NULL;
	struct repo *repos = NULL;
	size_t n = group(p, &rows, &repos);

	add_head(out, p);
	buf_addstr(out, "<body>\n");
	add_header(out, p, now);
	if (n) {
		add_chart(out, repos, n);
		add_search(out, p->n_images);
		buf_addstr(out, "<main>\n");
		add_tables(out, p, rows, repos, n);
		buf_addstr(out, "</main>\n");
	} else {
		buf_addstr(out, "<p class=\"empty\" id=\"empty\">No images in scope: nothing to keep "
		           "or delete.</p>\n");
		add_search(out, 0);
	}
	/* The script's hash is in the CSP: the exact bytes between the tags. */
	buf_addstr(out, "<script>");
	buf_addstr(out, script);
	buf_addstr(out, "</script>\n</body>\n</html>\n");
	free(rows);
	free(repos);
}

int report_write(FILE *f, const struct prune_plan *p, int64_t now)
{
	struct buf b = BUF_INIT;
	int rc = 0;

	report_render(&b, p, now);
	if (fwrite(b.ptr, 1, b.len, f) != b.len || fflush(f) != 0 || ferror(f))
		rc = error_set(RV_ERROR, "cannot write the report: %s", strerror(errno));
	buf_release(&b);
	return rc;
}

int report_write_file(const char *path, const struct prune_plan *p, int64_t now)
{
	struct buf b = BUF_INIT;
	int rc;

	report_render(&b, p, now);
	rc = fs_write_atomic(path, b.ptr, b.len, 0644);
	buf_release(&b);
	return rc;
}
