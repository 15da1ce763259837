/*
 * cmd_catalog_verify.c — `regvault catalog verify [--deep]`: every copy
 * the catalog records, checked where it is kept; and `verify --drill N
 * --to SCRATCH`: images restored for real into a scratch registry,
 * pulled back and compared, then deleted there.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include "backup/backup.h"
#include "catalog/catalog.h"
#include "cli/catalog_sub.h"
#include "cli/exitcode.h"
#include "cli/output.h"
#include "drill/drill.h"
#include "mirror/mirror.h"
#include "util/error.h"
#include "util/str.h"
#include "util/banned.h"

/* --- verify ---------------------------------------------------------------- */

/* Archive copies (backup_verify) and registry copies (mirror_verify) are
 * reported as one list: the same failure shape, "ref" added where the
 * copy is an image on a standby. */
struct verify_both {
	struct verify_report archive;
	struct mirror_verify_report registry;
};

static json_t *failure_json(const char *store, const char *ref, const char *digest, int rc,
                            const char *msg)
{
	json_t *o = json_pack("{s:s,s:s,s:{s:s,s:s}}", "store", store, "digest", digest,
	                      "error", "code", error_code_name(rc), "message",
	                      msg ? msg : "failed");

	if (ref)
		json_object_set_new(o, "ref", json_string(ref));
	return o;
}

static json_t *verify_json(const struct verify_both *r)
{
	json_t *failures = json_array();
	size_t i;

	for (i = 0; i < r->archive.n_failures; i++) {
		const struct verify_failure *f = &r->archive.failures[i];

		json_array_append_new(failures, failure_json(f->store, NULL, f->digest, f->rc,
		                                             f->msg));
	}
	for (i = 0; i < r->registry.n_failures; i++) {
		const struct mirror_verify_failure *f = &r->registry.failures[i];

		json_array_append_new(failures, failure_json(f->store, f->ref, f->digest, f->rc,
		                                             f->msg));
	}
	return json_pack("{s:I,s:I,s:o}", "checked",
	                 (json_int_t)(r->archive.checked + r->registry.objects), "bytesHashed",
	                 (json_int_t)(r->archive.bytes_hashed + r->registry.bytes_hashed),
	                 "failures", failures);
}

static void verify_text(const struct verify_both *r, int deep)
{
	size_t checked = r->archive.checked + r->registry.objects;
	size_t failed = r->archive.n_failures + r->registry.n_failures;
	char sz[32], msg[1024];
	size_t i;

	for (i = 0; i < r->archive.n_failures; i++) {
		const struct verify_failure *f = &r->archive.failures[i];

		printf("FAILED  %s  %s  %s\n", f->store, f->digest,
		       str_printable(msg, sizeof(msg), f->msg ? f->msg : "failed"));
	}
	for (i = 0; i < r->registry.n_failures; i++) {
		const struct mirror_verify_failure *f = &r->registry.failures[i];

		printf("FAILED  %s  %s  %s", f->store, f->digest,
		       str_printable(msg, sizeof(msg), f->msg ? f->msg : "failed"));
		printf(f->ref ? "  (%s)\n" : "\n", str_printable(msg, sizeof(msg), f->ref ? f->ref : ""));
	}
	if (failed)
		printf("verify: %zu copies checked, %zu failed (dropped from the catalog)\n",
		       checked, failed);
	else if (deep)
		printf("verified %zu copies (%s hashed)\n", checked,
		       str_human_bytes(r->archive.bytes_hashed + r->registry.bytes_hashed, sz, sizeof(sz)));
	else
		printf("verified %zu copies (locations checked; --deep also re-hashes)\n", checked);
}

/* Both checks run (a failure in one must not hide the other's); the
 * result is RV_EDIGEST when either found failures, or the first code
 * that stopped a check from running. */
static int verify_all(catalog *cat, const struct cli_globals *g, int deep,
                      struct verify_both *r)
{
	registry_session *session = NULL;
	int arc = backup_verify(cat, deep, &r->archive), mrc;

	if (arc != 0 && !(arc == RV_EDIGEST && r->archive.n_failures > 0))
		return arc;
	mrc = cli_session_new(&session, g);
	if (mrc == 0)
		mrc = mirror_verify(cat, session, deep, &r->registry);
	registry_session_free(session);
	if (mrc != 0 && !(mrc == RV_EDIGEST && r->registry.n_failures > 0))
		return mrc;
	if (arc != 0 && mrc != 0)
		return error_set(RV_EDIGEST, "%zu archive copies and %zu mirrored copies failed "
		                 "verification", r->archive.n_failures, r->registry.n_failures);
	if (arc != 0)   /* mirror_verify succeeded after it: say it again */
		return error_set(RV_EDIGEST, "%zu of %zu archive copies failed verification",
		                 r->archive.n_failures, r->archive.checked);
	return mrc;
}

/* A whole number in [min, max] for option name. */
static int count_value(const char *name, const char *v, int64_t min, int64_t max, int64_t *out)
{
	if (str_to_int64(v, out) != 0 || *out < min || *out > max) {
		error_clear();
		return output_usage_error("catalog", "invalid value '%s' for --%s: expected a whole "
		                          "number from %lld to %lld", v, name, (long long)min,
		                          (long long)max);
	}
	return RV_EXIT_OK;
}


static int sub_drill(const struct catsub_args *a, const struct cli_globals *g);

int catsub_verify(int argc, char **argv, const struct cli_globals *g)
{
	struct verify_both rep = { { 0 }, { 0 } };
	struct catsub_args a;
	catalog *cat = NULL;
	int rc, status = catsub_parse(argc, argv, CATSUB_BIT(CATSUB_DEEP) | CATSUB_BIT(CATSUB_DRILL) |
	                           CATSUB_BIT(CATSUB_TO) | CATSUB_BIT(CATSUB_SEED), 0, &a);

	if (status != RV_EXIT_OK)
		return status;
	if (a.opt[CATSUB_DRILL] || a.opt[CATSUB_TO] || a.opt[CATSUB_SEED])
		return sub_drill(&a, g);
	if ((status = catsub_open_existing(&cat, g)) != RV_EXIT_OK)
		goto done;
	rc = verify_all(cat, g, a.opt[CATSUB_DEEP] != NULL, &rep);
	if (rc != 0 && !(rc == RV_EDIGEST &&
	                 rep.archive.n_failures + rep.registry.n_failures > 0)) {
		status = output_error(rc);
	} else if (output_is_json()) {
		status = output_json(verify_json(&rep));
		if (rc != 0)
			status = RV_EXIT_FAILURE;
	} else {
		verify_text(&rep, a.opt[CATSUB_DEEP] != NULL);
		status = rc == 0 ? RV_EXIT_OK : output_error(rc);
	}
done:
	verify_report_release(&rep.archive);
	mirror_verify_report_release(&rep.registry);
	catalog_close(cat);
	return status;
}

/* --- verify --drill -------------------------------------------------------- */

static json_t *code_json(int rc, const char *msg)
{
	if (!rc)
		return json_null();
	return json_pack("{s:s,s:o}", "code", error_code_name(rc), "message",
	                 output_json_string(msg ? msg : "failed"));
}

static json_t *drill_json(const struct drill_report *r, size_t per_location)
{
	json_t *locs = json_array();

	for (size_t i = 0; i < r->n_locations; i++) {
		const struct drill_location *l = &r->locations[i];
		json_t *ims = json_array();
		for (size_t k = 0; k < l->n_images; k++) {
			const struct drill_image *im = &l->images[k];
			json_array_append_new(ims, json_pack(
				"{s:o,s:s,s:o,s:I,s:I,s:I,s:s,s:o,s:o}", "reference",
				output_json_string(im->ref), "digest", im->digest, "restoredAs",
				output_json_string(im->scratch_ref), "bytes", (json_int_t)im->bytes,
				"objects", (json_int_t)im->objects, "durationMs",
				(json_int_t)im->duration_ms, "status", im->rc ? "failed" : "ok",
				"error", code_json(im->rc, im->msg),
				"cleanup", code_json(im->cleanup_rc, im->cleanup_msg)));
		}
		json_array_append_new(locs, json_pack(
			"{s:o,s:s,s:I,s:I,s:I,s:I,s:I,s:I,s:o}", "store", output_json_string(l->store),
			"storeKind", l->kind, "held", (json_int_t)l->held, "drilled",
			(json_int_t)l->n_images, "failed", (json_int_t)l->failed, "cleanupFailed",
			(json_int_t)l->cleanup_failed, "bytes", (json_int_t)l->bytes, "durationMs",
			(json_int_t)l->duration_ms, "images", ims));
	}
	return json_pack("{s:I,s:o,s:I,s:I,s:I,s:I,s:o}", "seed", (json_int_t)r->seed, "scratch",
	                 r->prefix ? output_json_string(r->prefix) : json_null(), "perLocation",
	                 (json_int_t)per_location, "drilled", (json_int_t)r->drilled, "failed",
	                 (json_int_t)r->failed, "cleanupFailed", (json_int_t)r->cleanup_failed,
	                 "locations", locs);
}

/* One line per image as it finishes (text mode): a long drill shows it
 * is moving, and a failure is on screen at once. */
static void drill_line(const struct drill_location *l, const struct drill_image *im, void *ctx)
{
	char sz[32], msg[1024], ref[1024];

	(void)ctx;
	if (output_is_json())
		return;
	printf("%-6s  %s %s  %s", im->rc ? "FAILED" : "ok", l->kind,
	       str_printable(msg, sizeof(msg), l->store), str_printable(ref, sizeof(ref), im->ref));
	if (im->rc)
		printf(": %s\n", str_printable(msg, sizeof(msg), im->msg ? im->msg : "failed"));
	else
		printf("  %s  %.1f s\n", str_human_bytes(im->bytes, sz, sizeof(sz)),
		       (double)im->duration_ms / 1000.0);
	if (im->cleanup_rc)
		printf("        cleanup: %s\n", str_printable(msg, sizeof(msg), im->cleanup_msg));
	fflush(stdout);
}

static void drill_text(const struct drill_report *r)
{
	char sz[32], name[1024];

	for (size_t i = 0; i < r->n_locations; i++) {
		const struct drill_location *l = &r->locations[i];
		printf("%s %s: %zu of %zu images drilled, %s pulled back in %.1f s, %zu failed\n",
		       l->kind, str_printable(name, sizeof(name), l->store), l->n_images, l->held,
		       str_human_bytes(l->bytes, sz, sizeof(sz)), (double)l->duration_ms / 1000.0, l->failed);
	}
	printf("drill: %zu images from %zu locations, %zu failed (seed %llu; replay with --seed "
	       "%llu)\n", r->drilled, r->n_locations, r->failed, (unsigned long long)r->seed,
	       (unsigned long long)r->seed);
}

#define DRILL_MAX 100000

static int sub_drill(const struct catsub_args *a, const struct cli_globals *g)
{
	struct drill_options o = { 0 };
	struct drill_report rep = { 0 };
	int64_t n = 0, seed = 0;
	int rc, status;

	if (a->opt[CATSUB_DEEP])
		return output_usage_error("catalog", "--deep and --drill are separate checks: run "
		                          "'catalog verify --deep' on its own");
	if (!a->opt[CATSUB_DRILL] || !a->opt[CATSUB_TO] || !*a->opt[CATSUB_TO])
		return output_usage_error("catalog", "a drill needs --drill N and --to HOST[:PORT] "
		                          "(the scratch registry)");
	if ((status = count_value("drill", a->opt[CATSUB_DRILL], 1, DRILL_MAX, &n)) != RV_EXIT_OK ||
	    (a->opt[CATSUB_SEED] &&
	     (status = count_value("seed", a->opt[CATSUB_SEED], 0, INT64_MAX, &seed)) != RV_EXIT_OK))
		return status;
	o.seed = a->opt[CATSUB_SEED] ? (uint64_t)seed : drill_seed_new();
	/* Before anything can fail: a crash mid-drill must still say how to
	 * replay it. */
	if (!g->quiet)
		fprintf(stderr, "regvault: drill seed %llu\n", (unsigned long long)o.seed);
	if ((status = catsub_open(&o.cat, g, CATALOG_READ)) != RV_EXIT_OK)
		return status;
	if ((rc = cli_session_new(&o.session, g)) != 0) {
		status = output_error(rc);
		goto done;
	}
	o.scratch = a->opt[CATSUB_TO];
	o.per_location = (size_t)n;
	o.xfer = (struct xfer_options)XFER_OPTIONS_INIT;
	o.xfer.jobs = g->jobs;
	o.on_image = drill_line;
	rc = drill_run(&o, &rep);
	if (rep.n_locations == 0 && rc != 0) {
		status = output_error(rc);
		goto done;
	}
	if (output_is_json())
		status = output_json(drill_json(&rep, o.per_location));
	else
		drill_text(&rep);
	if (!g->quiet && rep.drilled)
		fprintf(stderr, "regvault: note: the drilled manifests were deleted from %s; their "
		        "blobs stay there until its garbage collection runs\n", o.scratch);
	if (rc != 0) {
		char msg[1024];
		fprintf(stderr, "regvault: error: %s\n", str_printable(msg, sizeof(msg), error_msg()));
		status = RV_EXIT_FAILURE;
	}
done:
	drill_report_release(&rep);
	registry_session_free(o.session);
	catalog_close(o.cat);
	return status;
}
