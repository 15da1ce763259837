/*
 * report.h — a prune plan as one HTML page to look at before anything is
 * deleted (`regvault prune --report FILE.html`).
 *
 * The page is self-contained: one file with its style and a small script
 * inline, no fonts, images, scripts or styles from anywhere else, and a
 * Content-Security-Policy (default-src 'none'; the script allowed by its
 * hash) that keeps it so. It opens offline and as a CI artifact. It shows:
 *
 *   - the plan's summary line, exactly as `regvault prune` prints it
 *     ("Protected: N | Kept: N | Delete: N | Reclaimable: X"), the
 *     registry, the policy, when the plan was made and a refusal when the
 *     plan deletes more than max_delete;
 *   - per repository a bar of the bytes kept (protected, kept by a rule)
 *     versus deleted: the sum of its top-level images' sizes;
 *   - per repository a table of every image of the plan (index children
 *     and attachments too, marked so) with decision, tags, digest, age,
 *     size and every reason; deployed, rollback, base and protect-glob
 *     protections carry badges that differ in text and border, not only
 *     in colour, and deleted tags are struck through;
 *   - a search box that hides rows (the `hidden` attribute) not matching
 *     every word typed: plain words match anything shown on the row,
 *     `repo:NAME` the repository (whole, or its last path components),
 *     `tag:T`, `decision:keep|protected|delete`, `is:deployed|rollback|
 *     base|protect|attached|rule`. The search starts from the URL
 *     fragment `#q=WORDS` and keeps the fragment in step, so a filtered
 *     view can be linked. Without scripts every row is shown.
 *
 * Every string that came from the registry, the cluster or the policy
 * (repository names, tags, reasons, paths, the refusal) is escaped for
 * HTML text and attributes. Machine-readable numbers sit in data-*
 * attributes (#summary, .chart rows, table rows) for tests and scrapers.
 *
 * Ages are as of the plan (planned_at), like the text table, so they agree
 * with the rules that decided ("younger than 14d"); `now` is when the page
 * is made: it is printed, with how old the plan was then. Nothing here
 * reads the clock, prints or exits.
 */
#ifndef RV_REPORT_REPORT_H
#define RV_REPORT_REPORT_H

#include <stdint.h>
#include <stdio.h>
#include "prune/prune.h"
#include "util/buf.h"

/* Appends the page to out (uncapped buf: never fails; dies on OOM). */
void report_render(struct buf *out, const struct prune_plan *plan, int64_t now);

/* Writes the page to f. 0, or RV_ERROR ("cannot write the report: …")
 * when the stream reports an error (the caller still closes f). */
int report_write(FILE *f, const struct prune_plan *plan, int64_t now);

/* Writes the page to path atomically (a temp file renamed over path, so a
 * reader never sees half a page) with mode 0644: a report is meant to be
 * shared — attached to a change request, kept as a CI artifact; it holds
 * what the plan shows on a terminal (image names, tags, where they are
 * deployed), no credentials. 0, or the error of
 * fs_write_atomic() naming the path (path is then untouched). */
int report_write_file(const char *path, const struct prune_plan *plan, int64_t now);

#endif
