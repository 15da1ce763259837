/*
 * Unit tests for deployed/kubernetes.c: kubectl's JSON, read from fixtures
 * in data/ written as `kubectl get … -A -o json` prints them.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <jansson.h>

#include "tests/deployed/fixture.h"
#include "deployed/deployed.h"
#include "oci/reference.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/xalloc.h"
#include "util/banned.h"

#define POD "pod api/user-svc-7d8f9c5b4-x2k9p"
#define USER_SVC "reg.example.com/api/user-svc"
#define D_USER_SVC "sha256:446f092635e5d058d2a5dbe98797ba15a086ed006e3341fd617d84503db6db7c"
#define D_ENVOY "sha256:f414c0b309badb4000ac0f837b622b6a9096d22529f70d518e61b662acf9e68e"
#define D_BUSYBOX "sha256:3c26c8e5e75a2132ce9abb95283e5c64be547749decb3106a6a1ed32fe64d43f"
#define D_AGENT "sha256:2f1f5d11e5f12232019524a2e52b9b016ca0c9a26fcb192bbd023a75328d886f"
#define HEX64 "55d9e7ada18da74921b638f1b9f1517cca564d0f7e7595d56b71e0dd66556c7b"

static int parse(struct deployed_set *s, const char *json, int rollback)
{
	return deployed_parse_kubernetes(s, json, strlen(json), "test.json", rollback);
}

/* Every reference in the fixture, where it is and why it counts. */
static void test_cluster_everything(void **state)
{
	struct deployed_set s = DEPLOYED_SET_INIT;

	(void)state;
	assert_int_equal(fx_parse_kubernetes(&s, "cluster.json", 1), 0);
	/* A pod: containers, init, ephemeral, an image volume, statuses. */
	fx_expect(&s, POD " container app", USER_SVC ":2.4.1", DEPLOYED_RUNNING);
	fx_expect(&s, POD " container envoy", "docker.io/envoyproxy/envoy:v1.30.1", DEPLOYED_RUNNING);
	fx_expect(&s, POD " initContainer migrate", "docker.io/library/busybox:1.36",
	          DEPLOYED_RUNNING);
	fx_expect(&s, POD " ephemeralContainer debugger-x7k2q",
	          "docker.io/nicolaka/netshoot:latest", DEPLOYED_RUNNING);
	fx_expect(&s, POD " volume model", "reg.example.com/ml/model-weights:v3", DEPLOYED_RUNNING);
	fx_expect(&s, POD " status app", USER_SVC "@" D_USER_SVC, DEPLOYED_RUNNING);
	fx_expect(&s, POD " status envoy", "docker.io/envoyproxy/envoy@" D_ENVOY, DEPLOYED_RUNNING);
	fx_expect(&s, POD " status migrate", "docker.io/library/busybox@" D_BUSYBOX,
	          DEPLOYED_RUNNING);
	/* The debugger's imageID is a bare config digest: not a reference. */
	assert_null(fx_find(&s, POD " status debugger-x7k2q", "docker.io/library/sha256:" HEX64));
	for (size_t i = 0; i < s.n; i++)
		assert_null(strstr(s.refs[i].text, HEX64));
	/* Digest-pinned, on a dockershim node: docker-pullable:// stripped. */
	fx_expect(&s, "pod ops/log-agent container agent", "reg.example.com/ops/agent@" D_AGENT,
	          DEPLOYED_RUNNING);
	fx_expect(&s, "pod ops/log-agent status agent", "reg.example.com/ops/agent@" D_AGENT,
	          DEPLOYED_RUNNING);
	assert_string_equal(fx_find(&s, "pod ops/log-agent status agent",
	                            "reg.example.com/ops/agent@" D_AGENT)->text,
	                    "reg.example.com/ops/agent@" D_AGENT);
	/* Still pulling: imageID "" adds nothing. */
	fx_expect(&s, "pod data/postgres-0 container postgres", "docker.io/library/postgres:16.2",
	          DEPLOYED_RUNNING);
	assert_null(fx_find(&s, "pod data/postgres-0 status postgres",
	                    "docker.io/library/postgres:16.2"));
	/* Workload templates. */
	fx_expect(&s, "deployment api/user-svc", USER_SVC ":2.4.1", DEPLOYED_TEMPLATE);
	fx_expect(&s, "deployment api/user-svc", "docker.io/envoyproxy/envoy:v1.30.1",
	          DEPLOYED_TEMPLATE);
	fx_expect(&s, "deployment batch/legacy-importer",
	          "reg.example.com/batch/legacy-importer:1.9.0", DEPLOYED_TEMPLATE);
	fx_expect(&s, "replicaset batch/legacy-importer-59d7b8c6f (revision 1)",
	          "reg.example.com/batch/legacy-importer:1.9.0", DEPLOYED_TEMPLATE);
	fx_expect(&s, "statefulset data/postgres", "docker.io/library/postgres:16.2",
	          DEPLOYED_TEMPLATE);
	fx_expect(&s, "statefulset data/postgres", "docker.io/library/busybox:1.36",
	          DEPLOYED_TEMPLATE);
	fx_expect(&s, "daemonset kube-system/node-exporter",
	          "quay.io/prometheus/node-exporter:v1.7.0", DEPLOYED_TEMPLATE);
	fx_expect(&s, "job ops/nightly-report-28598400", "reg.example.com/ops/report:2024.05",
	          DEPLOYED_TEMPLATE);
	fx_expect(&s, "job ops/db-migrate-v42", "reg.example.com/ops/db-migrate:1.0.3",
	          DEPLOYED_TEMPLATE);
	fx_expect(&s, "cronjob ops/nightly-report", "reg.example.com/ops/report:2024.05",
	          DEPLOYED_TEMPLATE);
	/* A ReplicaSet no Deployment owns is a template like any other. */
	fx_expect(&s, "replicaset legacy/old-frontend", "reg.example.com/web/frontend:0.9.1",
	          DEPLOYED_TEMPLATE);
	/* The current revision and one rollback target, two containers each. */
	fx_expect(&s, "replicaset api/user-svc-7d8f9c5b4 (revision 5)", USER_SVC ":2.4.1",
	          DEPLOYED_TEMPLATE);
	fx_expect(&s, "replicaset api/user-svc-84f6d7c9b5 (revision 4, rollback)",
	          USER_SVC ":2.3.0", DEPLOYED_ROLLBACK);
	fx_expect(&s, "replicaset api/user-svc-84f6d7c9b5 (revision 4, rollback)",
	          "docker.io/envoyproxy/envoy:v1.30.1", DEPLOYED_ROLLBACK);
	/* Service and ConfigMap ("image" keys in data) count for nothing. */
	assert_int_equal(fx_count_ref(&s, "docker.io/library/ignored:because-configmap"), 0);
	assert_int_equal(s.n, 26);
	assert_int_equal(fx_count_why(&s, DEPLOYED_ROLLBACK), 2);
	assert_int_equal(fx_count_why(&s, DEPLOYED_LISTED), 0);
	assert_int_equal(fx_count_why(&s, DEPLOYED_RUNNING), 11);
	deployed_set_release(&s);
}

/* Which user-svc revisions (1..5, current 5) count, and how. */
static void check_revisions(const struct deployed_set *s, int rollback)
{
	static const char *const tags[] = { NULL, "2.0.0", "2.1.0", "2.2.3", "2.3.0", "2.4.1" };

	for (int r = 1; r <= 4; r++) {
		char ref[128];
		int want = 5 - r <= rollback;

		snprintf(ref, sizeof(ref), USER_SVC ":%s", tags[r]);
		assert_int_equal(fx_count_ref(s, ref), want);
		if (want)
			assert_int_equal(fx_find(s, NULL, ref)->why, DEPLOYED_ROLLBACK);
	}
	assert_non_null(fx_find(s, "replicaset api/user-svc-7d8f9c5b4 (revision 5)",
	                        USER_SVC ":2.4.1"));
	assert_int_equal(fx_count_why(s, DEPLOYED_ROLLBACK), 2 * (size_t)rollback);
}

static void test_rollback_picks_newest_older_revisions(void **state)
{
	(void)state;
	for (int rollback = 0; rollback <= 4; rollback++) {
		struct deployed_set s = DEPLOYED_SET_INIT;

		assert_int_equal(fx_parse_kubernetes(&s, "cluster.json", rollback), 0);
		check_revisions(&s, rollback);
		assert_int_equal(s.n, 24 + 2 * (size_t)rollback);
		deployed_set_release(&s);
	}
	{
		struct deployed_set s = DEPLOYED_SET_INIT;

		/* More than the history holds: all of it, nothing twice. */
		assert_int_equal(fx_parse_kubernetes(&s, "cluster.json", 10), 0);
		assert_int_equal(fx_count_why(&s, DEPLOYED_ROLLBACK), 8);
		assert_int_equal(s.n, 32);
		deployed_set_release(&s);
		/* A negative count is none, not "all". */
		assert_int_equal(fx_parse_kubernetes(&s, "cluster.json", -3), 0);
		assert_int_equal(fx_count_why(&s, DEPLOYED_ROLLBACK), 0);
		deployed_set_release(&s);
	}
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorted "why where ref" lines, to compare two sets as multisets. */
static char *fingerprint(const struct deployed_set *s)
{
	struct buf b = BUF_INIT;
	char **lines = xcalloc(s->n + 1, sizeof(*lines));

	for (size_t i = 0; i < s->n; i++) {
		char *ref = oci_ref_string(&s->refs[i].ref);

		lines[i] = xasprintf("%d %s %s\n", (int)s->refs[i].why, s->refs[i].where, ref);
		free(ref);
	}
	qsort(lines, s->n, sizeof(*lines), cmp_str);
	for (size_t i = 0; i < s->n; i++) {
		buf_addstr(&b, lines[i]);
		free(lines[i]);
	}
	free(lines);
	return buf_detach(&b, NULL);
}

/* Items in reverse: ReplicaSets after their Deployment, pods last. */
static char *reversed_list(const char *name)
{
	struct buf b = BUF_INIT;
	json_t *root, *items, *rev = json_array();
	char *out;

	fx_read(&b, name);
	root = json_loadb(b.ptr, b.len, 0, NULL);
	assert_non_null(root);
	items = json_object_get(root, "items");
	for (size_t i = json_array_size(items); i > 0; i--)
		json_array_append(rev, json_array_get(items, i - 1));
	json_object_set_new(root, "items", rev);
	out = json_dumps(root, JSON_INDENT(2));
	json_decref(root);
	buf_release(&b);
	return out;
}

static void test_order_does_not_matter(void **state)
{
	(void)state;
	for (int rollback = 0; rollback <= 2; rollback++) {
		struct deployed_set a = DEPLOYED_SET_INIT, b = DEPLOYED_SET_INIT;
		char *rev = reversed_list("cluster.json"), *fa, *fb;

		assert_int_equal(fx_parse_kubernetes(&a, "cluster.json", rollback), 0);
		assert_int_equal(parse(&b, rev, rollback), 0);
		fa = fingerprint(&a);
		fb = fingerprint(&b);
		assert_string_equal(fa, fb);
		check_revisions(&b, rollback);
		free(fa);
		free(fb);
		free(rev);
		deployed_set_release(&a);
		deployed_set_release(&b);
	}
}

/* `kubectl get rs -n web -o json`: the owner Deployment is not listed. The
 * newest revision is taken as current, rollback more behind it. */
static void test_deployment_missing(void **state)
{
	struct deployed_set s = DEPLOYED_SET_INIT;
	const char *w10 = "replicaset web/shop-4a44dc153 (revision 10)";
	const char *w9 = "replicaset web/shop-19581e27d (revision 9, rollback)";

	(void)state;
	assert_int_equal(fx_parse_kubernetes(&s, "replicasets-only.json", 0), 0);
	assert_int_equal(s.n, 1);
	fx_expect(&s, w10, "reg.example.com/web/shop:3.2.0", DEPLOYED_TEMPLATE);
	deployed_set_release(&s);

	assert_int_equal(fx_parse_kubernetes(&s, "replicasets-only.json", 1), 0);
	assert_int_equal(s.n, 2);
	fx_expect(&s, w10, "reg.example.com/web/shop:3.2.0", DEPLOYED_TEMPLATE);
	fx_expect(&s, w9, "reg.example.com/web/shop:3.1.1", DEPLOYED_ROLLBACK);
	deployed_set_release(&s);

	assert_int_equal(fx_parse_kubernetes(&s, "replicasets-only.json", 2), 0);
	assert_int_equal(s.n, 3);
	assert_int_equal(fx_count_ref(&s, "reg.example.com/web/shop:3.1.0"), 1);
	assert_int_equal(fx_count_ref(&s, "reg.example.com/web/shop:3.0.0"), 0);
	deployed_set_release(&s);
}

#define RS(name, rev, replicas, image)                                                      \
	"{\"kind\":\"ReplicaSet\",\"metadata\":{\"name\":\"" name "\",\"namespace\":\"n\","     \
	"\"annotations\":{\"deployment.kubernetes.io/revision\":\"" rev "\"},"                     \
	"\"ownerReferences\":[{\"apiVersion\":\"apps/v1\",\"kind\":\"Deployment\",\"name\":\"d\"," \
	"\"controller\":true}]},\"spec\":{\"replicas\":" replicas ",\"template\":{\"spec\":"         \
	"{\"containers\":[{\"name\":\"c\",\"image\":\"" image "\"}]}}}}"
#define DEPLOY(rev_annotation)                                                              \
	"{\"kind\":\"Deployment\",\"metadata\":{\"name\":\"d\",\"namespace\":\"n\""           \
	rev_annotation "},\"spec\":{\"replicas\":0,\"template\":{\"spec\":{\"containers\":"      \
	"[{\"name\":\"c\",\"image\":\"\"}]}}}}"

/* Mid-rollout: revision 3 still runs pods, so it counts whatever the
 * rollback setting, and it is the rollback target (rank 1) too. */
static void test_rollout_in_progress(void **state)
{
	struct deployed_set s = DEPLOYED_SET_INIT;
	const char *json = "{\"kind\":\"List\",\"items\":["
		DEPLOY(",\"annotations\":{\"deployment.kubernetes.io/revision\":\"4\"}") ","
		RS("d-1", "1", "0", "app:1") "," RS("d-2", "2", "0", "app:2") ","
		RS("d-3", "3", "2", "app:3") "," RS("d-4", "4", "1", "app:4") "]}";

	(void)state;
	assert_int_equal(parse(&s, json, 0), 0);
	assert_int_equal(s.n, 2);
	fx_expect(&s, "replicaset n/d-4 (revision 4)", "docker.io/library/app:4", DEPLOYED_TEMPLATE);
	fx_expect(&s, "replicaset n/d-3 (revision 3)", "docker.io/library/app:3", DEPLOYED_TEMPLATE);
	deployed_set_release(&s);
	assert_int_equal(parse(&s, json, 2), 0);
	assert_int_equal(s.n, 3);
	fx_expect(&s, "replicaset n/d-2 (revision 2, rollback)", "docker.io/library/app:2",
	          DEPLOYED_ROLLBACK);
	deployed_set_release(&s);
}

/* A Deployment without a revision yet, and a ReplicaSet without a readable
 * revision: keep more, never less. */
static void test_revisions_unknown(void **state)
{
	struct deployed_set s = DEPLOYED_SET_INIT;
	const char *json = "{\"kind\":\"List\",\"items\":[" DEPLOY("") ","
		RS("d-1", "1", "0", "app:1") "," RS("d-2", "2", "0", "app:2") ","
		RS("d-x", "x", "0", "app:x") "]}";

	(void)state;
	assert_int_equal(parse(&s, json, 0), 0);
	assert_int_equal(s.n, 2);
	fx_expect(&s, "replicaset n/d-2 (revision 2)", "docker.io/library/app:2", DEPLOYED_TEMPLATE);
	fx_expect(&s, "replicaset n/d-x", "docker.io/library/app:x", DEPLOYED_TEMPLATE);
	deployed_set_release(&s);
}

static void test_single_object(void **state)
{
	struct deployed_set s = DEPLOYED_SET_INIT;

	(void)state;
	assert_int_equal(fx_parse_kubernetes(&s, "deployment.json", 1), 0);
	assert_int_equal(s.n, 2);
	fx_expect(&s, "deployment api/user-svc", USER_SVC ":2.4.1", DEPLOYED_TEMPLATE);
	deployed_set_release(&s);
	/* The API server's own list kinds, and a bare Pod with its path. */
	assert_int_equal(parse(&s, "{\"kind\":\"PodList\",\"items\":[{\"kind\":\"Pod\","
	                           "\"metadata\":{\"name\":\"p\"},\"spec\":{\"containers\":"
	                           "[{\"name\":\"c\",\"image\":\"alpine\"}]}}]}", 0), 0);
	fx_expect(&s, "pod p container c", "docker.io/library/alpine:latest", DEPLOYED_RUNNING);
	deployed_set_release(&s);
	assert_int_equal(parse(&s, "{\"kind\":\"Pod\",\"spec\":{\"containers\":"
	                           "[{\"name\":\"c\",\"image\":\"Alpine\"}]}}", 0), RV_EINVALID);
	assert_string_equal(error_msg(), "test.json: spec.containers[0].image: invalid reference "
	                                 "\"Alpine\": repository must be lowercase");
	assert_int_equal(s.n, 0);
}

/* Empty images (allowed in templates) are skipped; image IDs too, but a
 * git-commit tag that looks like hex is an image. */
static void test_empty_and_id_images(void **state)
{
	struct deployed_set s = DEPLOYED_SET_INIT;
	const char *json = "{\"kind\":\"Deployment\",\"metadata\":{\"name\":\"d\"},"
		"\"spec\":{\"template\":{\"spec\":{\"containers\":["
		"{\"name\":\"a\",\"image\":\"\"},{\"name\":\"b\"},"
		"{\"name\":\"c\",\"image\":null},"
		"{\"name\":\"d\",\"image\":\"sha256:" HEX64 "\"},"
		"{\"name\":\"e\",\"image\":\"" HEX64 "\"},"
		"{\"name\":\"f\",\"image\":\"app:0123456789abcdef0123456789abcdef01234567\"}]}}}}";

	(void)state;
	assert_int_equal(parse(&s, json, 0), 0);
	assert_int_equal(s.n, 1);
	fx_expect(&s, "deployment d", "docker.io/library/app:0123456789abcdef0123456789abcdef01234567",
	          DEPLOYED_TEMPLATE);
	deployed_set_release(&s);
}

static void test_invalid_json(void **state)
{
	struct deployed_set s = DEPLOYED_SET_INIT;
	struct buf b = BUF_INIT;

	(void)state;
	fx_read(&b, "cluster.json");
	/* kubectl killed mid-write: half a document. */
	assert_int_equal(deployed_parse_kubernetes(&s, b.ptr, b.len / 2, "cluster.json", 1),
	                 RV_EINVALID);
	assert_true(!strncmp(error_msg(), "cluster.json: invalid JSON at line ", 35));
	assert_int_equal(s.n, 0);
	assert_int_equal(parse(&s, "error: You must be logged in to the server", 0), RV_EINVALID);
	assert_true(!strncmp(error_msg(), "test.json: invalid JSON", 23));
	assert_int_equal(parse(&s, "", 0), RV_EINVALID);
	assert_int_equal(parse(&s, "[]", 0), RV_EINVALID);
	assert_string_equal(error_msg(), "test.json: expected a Kubernetes object or List");
	assert_null(strchr(error_msg(), '\n'));
	buf_release(&b);
}

static void test_no_images(void **state)
{
	struct deployed_set s = DEPLOYED_SET_INIT;

	(void)state;
	assert_int_equal(fx_parse_kubernetes(&s, "empty-list.json", 1), RV_EINVALID);
	assert_string_equal(error_msg(), "empty-list.json lists no images: an empty cluster must be "
	                                 "declared with \"deployed: none\"");
	assert_int_equal(fx_parse_kubernetes(&s, "no-images.json", 1), RV_EINVALID);
	assert_string_equal(error_msg(), "no-images.json lists no images: an empty cluster must be "
	                                 "declared with \"deployed: none\"");
	/* Only image IDs and empty images: still nothing. */
	assert_int_equal(parse(&s, "{\"kind\":\"Pod\",\"spec\":{\"containers\":[{\"name\":\"c\","
	                           "\"image\":\"\"}]},\"status\":{\"containerStatuses\":[{\"name\":"
	                           "\"c\",\"imageID\":\"docker://sha256:" HEX64 "\"}]}}", 0),
	                 RV_EINVALID);
	assert_non_null(strstr(error_msg(), "lists no images"));
	assert_int_equal(s.n, 0);
}

static void test_invalid_image_names_path(void **state)
{
	struct deployed_set s = DEPLOYED_SET_INIT;

	(void)state;
	/* What is already in the set stays; nothing of the failed source does. */
	assert_int_equal(deployed_parse_refs(&s, "app:1\n", 6, "kept"), 0);
	assert_int_equal(fx_parse_kubernetes(&s, "bad-image.json", 1), RV_EINVALID);
	assert_string_equal(error_msg(), "bad-image.json: items[3].spec.containers[0].image: "
	                                 "invalid reference \"Foo:bar\": repository must be lowercase");
	assert_int_equal(s.n, 1);
	assert_string_equal(s.refs[0].where, "kept:1");
	deployed_set_release(&s);
}

/* Shapes we cannot read where images live are errors, never "nothing". */
static void test_bad_shapes(void **state)
{
	static const char *const cases[][2] = {
		{ "{\"kind\":\"List\",\"items\":[{\"kind\":\"Pod\",\"spec\":{\"containers\":{}}}]}",
		  "test.json: items[0].spec.containers: expected an array" },
		{ "{\"kind\":\"List\",\"items\":[{\"kind\":\"Pod\",\"spec\":{\"containers\":[7]}}]}",
		  "test.json: items[0].spec.containers[0]: expected an object" },
		{ "{\"kind\":\"List\",\"items\":[{\"kind\":\"Pod\",\"spec\":{\"containers\":"
		  "[{\"image\":7}]}}]}", "test.json: items[0].spec.containers[0].image: expected a string" },
		{ "{\"kind\":\"List\",\"items\":[{\"kind\":\"Pod\",\"spec\":{\"volumes\":"
		  "[{\"name\":\"v\",\"image\":{\"reference\":[]}}]}}]}",
		  "test.json: items[0].spec.volumes[0].image.reference: expected a string" },
		{ "{\"kind\":\"List\",\"items\":[{\"kind\":\"Deployment\",\"metadata\":"
		  "{\"name\":\"d\",\"namespace\":\"n\"},\"spec\":{\"replicas\":1}}]}",
		  "test.json: items[0].spec.template: missing in deployment n/d" },
		{ "{\"kind\":\"List\",\"items\":[{\"kind\":\"CronJob\",\"metadata\":{\"name\":\"c\"},"
		  "\"spec\":{\"jobTemplate\":{\"spec\":{\"template\":\"x\"}}}}]}",
		  "test.json: items[0].spec.jobTemplate.spec.template: expected an object" },
		{ "{\"kind\":\"List\",\"items\":[{\"metadata\":{}}]}",
		  "test.json: items[0].kind: missing" },
		{ "{\"kind\":\"List\",\"items\":[null]}", "test.json: items[0]: expected an object" },
		{ "{\"kind\":\"List\",\"items\":{}}", "test.json: items: expected an array" },
		{ "{\"kind\":\"List\"}", "test.json: items: missing" },
		{ "{\"kind\":\"Pod\",\"spec\":{\"containers\":[{\"image\":\"a\"}]},\"status\":"
		  "{\"containerStatuses\":[{\"imageID\":\"rkt://x@y\"}]}}",
		  "test.json: status.containerStatuses[0].imageID: invalid reference \"rkt://x@y\": " },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct deployed_set s = DEPLOYED_SET_INIT;

		assert_int_equal(parse(&s, cases[i][0], 1), RV_EINVALID);
		if (strncmp(error_msg(), cases[i][1], strlen(cases[i][1])))
			fail_msg("case %zu: got \"%s\"", i, error_msg());
		assert_int_equal(s.n, 0);
		deployed_set_release(&s);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cluster_everything),
		cmocka_unit_test(test_rollback_picks_newest_older_revisions),
		cmocka_unit_test(test_order_does_not_matter),
		cmocka_unit_test(test_deployment_missing),
		cmocka_unit_test(test_rollout_in_progress),
		cmocka_unit_test(test_revisions_unknown),
		cmocka_unit_test(test_single_object),
		cmocka_unit_test(test_empty_and_id_images),
		cmocka_unit_test(test_invalid_json),
		cmocka_unit_test(test_no_images),
		cmocka_unit_test(test_invalid_image_names_path),
		cmocka_unit_test(test_bad_shapes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
