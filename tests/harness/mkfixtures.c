/*
 * rv-mkfixtures — write deterministic OCI image layouts for the live tests.
 *
 * Everything comes from a seeded PRNG and fixed timestamps, so the same
 * --seed and --layer-size give the same bytes (and digests) on every run and
 * every machine: layers are POSIX tar written by libarchive with fixed
 * owner/mode/mtime, gzipped by zlib (whose gzip header carries mtime 0 and no
 * file name), and JSON is written by jansson in insertion order.
 *
 * Output: OUT/layout/ (one OCI image layout holding every fixture, each
 * named by org.opencontainers.image.ref.name), OUT/dir/{docker,dockerlist}/
 * (the Docker fixtures again in skopeo's "dir:" format, see dir_write),
 * OUT/fixtures.env (KEY=VALUE, also printed on stdout) and OUT/fixtures.json.
 *
 * Manifests are written indented on purpose: a client that re-serialises
 * instead of copying bytes changes the digest, and the tests notice.
 */
#include <errno.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ocigen.h"

#define MAX_LAYERS 8

struct image {
	struct desc manifest;
	struct desc config;
	size_t nlayers;
	struct desc layers[MAX_LAYERS];
	char diff_ids[MAX_LAYERS][DIGEST_MAX];
};

struct ctx {
	struct layout lay;     /* OUT/layout */
	const char *out;       /* output directory */
	uint64_t seed;
	long long layer_size;  /* base layer size; layers are multiples of it */
	long images;           /* extra benchmark images (--images) */
	json_t *described;     /* fixtures.json object */
	FILE *env;             /* fixtures.env */
};

/* ---- images ----------------------------------------------------------------- */

struct image_spec {
	const char *label;       /* layer label prefix, unique per fixture */
	const char *created;     /* RFC 3339 */
	const char *arch, *variant;
	int docker;              /* Docker schema2 media types */
	const struct image *base; /* layers of base come first */
	const char *base_name;   /* org.opencontainers.image.base.name */
	size_t nlayers;          /* own layers */
	const int *size_factors; /* per own layer: size = factor * layer_size / 4 */
};

static json_t *image_config(const struct image_spec *s, const struct image *img)
{
	json_t *diff_ids = json_array(), *history = json_array();
	for (size_t i = 0; i < img->nlayers; i++) {
		char by[128];
		json_array_append_new(diff_ids, json_string(img->diff_ids[i]));
		snprintf(by, sizeof by, "/bin/sh -c #(nop) ADD layer %zu of %s", i, s->label);
		json_array_append_new(history, json_pack("{s:s, s:s}", "created", s->created,
							 "created_by", by));
	}
	json_t *cfg = json_pack("{s:s, s:s, s:s}", "created", s->created, "architecture",
				s->arch, "os", "linux");
	if (s->variant)
		json_object_set_new(cfg, "variant", json_string(s->variant));
	json_object_set_new(cfg, "config",
			    json_pack("{s:[s], s:[s], s:s}", "Env",
				      "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin",
				      "Cmd", "/bin/sh", "WorkingDir", "/"));
	json_object_set_new(cfg, "rootfs", json_pack("{s:s, s:o}", "type", "layers",
						     "diff_ids", diff_ids));
	json_object_set_new(cfg, "history", history);
	return cfg;
}

static void make_image(struct ctx *c, const struct image_spec *s, struct image *img)
{
	const char *layer_mt = s->docker ? MT_DOCKER_LAYER_GZ : MT_OCI_LAYER_GZ;
	json_t *m, *layers;

	memset(img, 0, sizeof *img);
	if (s->base) {
		img->nlayers = s->base->nlayers;
		memcpy(img->layers, s->base->layers, sizeof img->layers);
		memcpy(img->diff_ids, s->base->diff_ids, sizeof img->diff_ids);
	}
	if (img->nlayers + s->nlayers > MAX_LAYERS)
		die("too many layers");
	for (size_t i = 0; i < s->nlayers; i++) {
		char label[128];
		long long size = c->layer_size * s->size_factors[i] / 4;
		snprintf(label, sizeof label, "%s-%zu", s->label, i);
		make_layer(&c->lay, layer_mt, label, size < 1 ? 1 : size, &img->layers[img->nlayers],
			   img->diff_ids[img->nlayers]);
		img->nlayers++;
	}
	json_blob(&c->lay, s->docker ? MT_DOCKER_CONFIG : MT_OCI_CONFIG, image_config(s, img),
		  &img->config);

	layers = json_array();
	for (size_t i = 0; i < img->nlayers; i++)
		json_array_append_new(layers, desc_json(&img->layers[i]));
	m = json_pack("{s:i, s:s, s:o, s:o}", "schemaVersion", 2, "mediaType",
		      s->docker ? MT_DOCKER_MANIFEST : MT_OCI_MANIFEST, "config",
		      desc_json(&img->config), "layers", layers);
	if (!s->docker) {
		json_t *ann = json_pack("{s:s}", "org.opencontainers.image.created", s->created);
		if (s->base) {
			json_object_set_new(ann, "org.opencontainers.image.base.digest",
					    json_string(s->base->manifest.digest));
			json_object_set_new(ann, "org.opencontainers.image.base.name",
					    json_string(s->base_name));
		}
		json_object_set_new(m, "annotations", ann);
	}
	json_blob(&c->lay, s->docker ? MT_DOCKER_MANIFEST : MT_OCI_MANIFEST, m, &img->manifest);
}

/* An index (OCI) or manifest list (Docker) over images with platforms. */
static void make_index(struct ctx *c, int docker, const struct image *children,
		       const struct image_spec *specs, size_t n, struct desc *out)
{
	json_t *list = json_array(), *idx;
	for (size_t i = 0; i < n; i++) {
		json_t *d = desc_json(&children[i].manifest);
		json_t *plat = json_pack("{s:s, s:s}", "architecture", specs[i].arch, "os",
					 "linux");
		if (specs[i].variant)
			json_object_set_new(plat, "variant", json_string(specs[i].variant));
		json_object_set_new(d, "platform", plat);
		json_array_append_new(list, d);
	}
	idx = json_pack("{s:i, s:s, s:o}", "schemaVersion", 2, "mediaType",
			docker ? MT_DOCKER_LIST : MT_OCI_INDEX, "manifests", list);
	json_blob(&c->lay, docker ? MT_DOCKER_LIST : MT_OCI_INDEX, idx, out);
}

/* cosign's legacy "simple signing" signature manifest for `signed`. */
static void make_signature(struct ctx *c, const struct image *signed_img, struct desc *out)
{
	struct desc payload, cfg;
	unsigned char sig[64], b64[128];
	uint64_t rng = c->seed ^ 0x5157ULL;
	json_t *doc, *layer, *m;
	char *s;

	doc = json_pack("{s:{s:{s:s}, s:{s:s}, s:s}, s:n}", "critical", "identity",
			"docker-reference", "fx/image", "image", "docker-manifest-digest",
			signed_img->manifest.digest, "type", "cosign container image signature",
			"optional");
	s = json_dumps(doc, JSON_COMPACT | JSON_PRESERVE_ORDER);
	blob_put(&c->lay, MT_COSIGN_SIMPLESIGNING, s, strlen(s), &payload);
	free(s);
	json_decref(doc);

	json_blob(&c->lay, MT_OCI_CONFIG,
		  json_pack("{s:s, s:s, s:[{s:s}], s:s, s:{s:s, s:[s]}, s:{}}", "architecture", "",
			    "created", "0001-01-01T00:00:00Z", "history", "created",
			    "0001-01-01T00:00:00Z", "os", "", "rootfs", "type", "layers",
			    "diff_ids", payload.digest, "config"),
		  &cfg);

	prng_fill(&rng, sig, sizeof sig); /* not a real signature; shape only */
	EVP_EncodeBlock(b64, sig, (int)sizeof sig);
	layer = desc_json(&payload);
	json_object_set_new(layer, "annotations",
			    json_pack("{s:s}", "dev.cosignproject.cosign/signature", (char *)b64));
	m = json_pack("{s:i, s:s, s:o, s:[o]}", "schemaVersion", 2, "mediaType",
		      MT_OCI_MANIFEST, "config", desc_json(&cfg), "layers", layer);
	json_blob(&c->lay, MT_OCI_MANIFEST, m, out);
}

/* OCI 1.1 artifact: empty config, one layer, subject = the signed image. */
static void make_artifact(struct ctx *c, const struct image *subject, struct desc *out)
{
	struct desc empty, sbom;
	json_t *doc, *layer, *m;
	char *s;

	blob_put(&c->lay, MT_OCI_EMPTY, "{}", 2, &empty);
	doc = json_pack("{s:s, s:s, s:[{s:s, s:s}]}", "spdxVersion", "SPDX-2.3", "name",
			"fx/image", "packages", "name", "busybox", "versionInfo", "1.36.1");
	s = json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	blob_put(&c->lay, MT_SBOM, s, strlen(s), &sbom);
	free(s);
	json_decref(doc);

	layer = desc_json(&sbom);
	json_object_set_new(layer, "annotations",
			    json_pack("{s:s}", "org.opencontainers.image.title", "sbom.json"));
	m = json_pack("{s:i, s:s, s:s, s:o, s:[o], s:o, s:{s:s}}", "schemaVersion", 2,
		      "mediaType", MT_OCI_MANIFEST, "artifactType", MT_SBOM, "config",
		      desc_json(&empty), "layers", layer, "subject",
		      desc_json(&subject->manifest), "annotations",
		      "org.opencontainers.image.created", "2024-01-05T00:00:00Z");
	json_blob(&c->lay, MT_OCI_MANIFEST, m, out);
}

/* ---- skopeo "dir:" copies ----------------------------------------------------- */

/*
 * skopeo 1.9.3 (containers/image 5.23) only looks at OCI media types in a
 * layout's index.json, so it cannot read the Docker fixtures from the layout.
 * Its "dir:" transport can: manifest.json, "<hex>.manifest.json" per list
 * child, one file per blob named by hex, and a version file. The files are
 * hard links to the layout's blobs (the same bytes, checked by digest).
 */
static void dir_link(struct ctx *c, const char *dir, const char *digest, const char *suffix)
{
	char from[4300], to[4300];
	snprintf(from, sizeof from, "%s/%s", c->lay.blobdir, digest + 7);
	snprintf(to, sizeof to, "%s/%s%s", dir, suffix ? digest + 7 : "manifest.json",
		 suffix ? suffix : "");
	if (link(from, to) != 0 && errno != EEXIST)
		die("cannot link \"%s\": %s", to, strerror(errno));
}

static void dir_image(struct ctx *c, const char *dir, const struct image *img, int top)
{
	dir_link(c, dir, img->manifest.digest, top ? NULL : ".manifest.json");
	dir_link(c, dir, img->config.digest, "");
	for (size_t i = 0; i < img->nlayers; i++)
		dir_link(c, dir, img->layers[i].digest, "");
}

/* Write OUT/dir/NAME for an image (list == NULL) or a list over `imgs`. */
static void dir_write(struct ctx *c, const char *name, const struct desc *list,
		      const struct image *imgs, size_t n, char *out, size_t outsz)
{
	static const char version[] = "Directory Transport Version: 1.1\n";
	char path[4300];
	snprintf(out, outsz, "%s/dir/%s", c->out, name);
	mkdir_p(out);
	snprintf(path, sizeof path, "%s/version", out);
	write_file(path, version, sizeof version - 1);
	if (list)
		dir_link(c, out, list->digest, NULL);
	for (size_t i = 0; i < n; i++)
		dir_image(c, out, &imgs[i], list == NULL);
}

/* ---- description ------------------------------------------------------------- */

/* KEY=VALUE into fixtures.env and stdout; KEY gets the RV_FX_ prefix. */
static void env_put(struct ctx *c, const char *key, const char *value)
{
	fprintf(c->env, "RV_FX_%s=%s\n", key, value);
	printf("RV_FX_%s=%s\n", key, value);
	json_object_set_new(c->described, key, json_string(value));
}

static void env_layers(struct ctx *c, const char *key, const struct image *img)
{
	char v[MAX_LAYERS * DIGEST_MAX];
	size_t off = 0;
	v[0] = '\0';
	for (size_t i = 0; i < img->nlayers; i++)
		off += (size_t)snprintf(v + off, sizeof v - off, "%s%s", i ? "," : "",
					img->layers[i].digest);
	env_put(c, key, v);
}

static void env_image(struct ctx *c, const char *key, const struct image *img)
{
	char k[128], v[64];
	snprintf(k, sizeof k, "%s_DIGEST", key);
	env_put(c, k, img->manifest.digest);
	snprintf(k, sizeof k, "%s_CONFIG_DIGEST", key);
	env_put(c, k, img->config.digest);
	snprintf(k, sizeof k, "%s_LAYERS", key);
	env_layers(c, k, img);
	snprintf(k, sizeof k, "%s_MANIFEST_SIZE", key);
	snprintf(v, sizeof v, "%lld", img->manifest.size);
	env_put(c, k, v);
}

/* ---- main -------------------------------------------------------------------- */

static const int three_layers[] = {16, 4, 8}; /* 4x, 1x, 2x --layer-size */
static const int one_layer[] = {4};
static const int two_layers[] = {6, 2};

static void generate(struct ctx *c, const char *base_name)
{
	struct image image, child, multi[2], docker, dlist[2];
	struct desc multi_idx, dlist_idx, sig, artifact;
	char sig_tag[DIGEST_MAX + 8], v[64], dirpath[4200];

	const struct image_spec image_spec = {
		"image", "2024-01-01T00:00:00Z", "amd64", NULL, 0, NULL, NULL, 3, three_layers};
	make_image(c, &image_spec, &image);
	layout_add(&c->lay, "image", &image.manifest);

	const struct image_spec child_spec = {
		"child", "2024-01-02T00:00:00Z", "amd64", NULL, 0, &image, base_name, 1, one_layer};
	make_image(c, &child_spec, &child);
	layout_add(&c->lay, "child", &child.manifest);

	const struct image_spec multi_specs[2] = {
		{"multi-amd64", "2024-01-03T00:00:00Z", "amd64", NULL, 0, NULL, NULL, 2, two_layers},
		{"multi-arm64", "2024-01-03T00:00:00Z", "arm64", "v8", 0, NULL, NULL, 2, two_layers},
	};
	for (size_t i = 0; i < 2; i++)
		make_image(c, &multi_specs[i], &multi[i]);
	make_index(c, 0, multi, multi_specs, 2, &multi_idx);
	layout_add(&c->lay, "multi", &multi_idx);

	const struct image_spec docker_spec = {
		"docker", "2024-01-04T00:00:00Z", "amd64", NULL, 1, NULL, NULL, 2, two_layers};
	make_image(c, &docker_spec, &docker);
	layout_add(&c->lay, "docker", &docker.manifest);

	const struct image_spec dlist_specs[2] = {
		{"dlist-amd64", "2024-01-04T00:00:00Z", "amd64", NULL, 1, NULL, NULL, 1, one_layer},
		{"dlist-arm64", "2024-01-04T00:00:00Z", "arm64", "v8", 1, NULL, NULL, 1, one_layer},
	};
	for (size_t i = 0; i < 2; i++)
		make_image(c, &dlist_specs[i], &dlist[i]);
	make_index(c, 1, dlist, dlist_specs, 2, &dlist_idx);
	layout_add(&c->lay, "dockerlist", &dlist_idx);

	make_signature(c, &image, &sig);
	snprintf(sig_tag, sizeof sig_tag, "sha256-%.64s.sig", image.manifest.digest + 7);
	layout_add(&c->lay, "sig", &sig);

	make_artifact(c, &image, &artifact);
	layout_add(&c->lay, "artifact", &artifact);

	for (long i = 0; i < c->images; i++) {
		/* --images N: small distinct single-layer images for benchmarks */
		struct image bench;
		char label[64], created[32];
		snprintf(label, sizeof label, "bench-%05ld", i);
		snprintf(created, sizeof created, "2024-02-%02ldT%02ld:%02ld:00Z", 1 + i % 28,
			 (i / 28) % 24, (i / 672) % 60);
		const struct image_spec bs = {label, created, "amd64", NULL, 0, NULL, NULL, 1,
					      one_layer};
		make_image(c, &bs, &bench);
		layout_add(&c->lay, label, &bench.manifest);
	}

	dir_write(c, "docker", NULL, &docker, 1, dirpath, sizeof dirpath);
	env_put(c, "DOCKER_DIR", dirpath);
	dir_write(c, "dockerlist", &dlist_idx, dlist, 2, dirpath, sizeof dirpath);
	env_put(c, "DOCKERLIST_DIR", dirpath);

	env_image(c, "IMAGE", &image);
	env_image(c, "CHILD", &child);
	env_put(c, "CHILD_BASE_NAME", base_name);
	env_put(c, "MULTI_DIGEST", multi_idx.digest);
	env_put(c, "MULTI_AMD64_DIGEST", multi[0].manifest.digest);
	env_put(c, "MULTI_ARM64_DIGEST", multi[1].manifest.digest);
	env_image(c, "DOCKER", &docker);
	env_put(c, "DOCKERLIST_DIGEST", dlist_idx.digest);
	env_put(c, "DOCKERLIST_AMD64_DIGEST", dlist[0].manifest.digest);
	env_put(c, "DOCKERLIST_ARM64_DIGEST", dlist[1].manifest.digest);
	env_put(c, "SIG_TAG", sig_tag);
	env_put(c, "SIG_DIGEST", sig.digest);
	env_put(c, "ARTIFACT_DIGEST", artifact.digest);
	env_put(c, "ARTIFACT_TYPE", MT_SBOM);
	snprintf(v, sizeof v, "%ld", c->images);
	env_put(c, "BENCH_IMAGES", v);
}

static long long parse_num(const char *opt, const char *s, long long min, long long max)
{
	char *end;
	long long v;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || end == s || *end || v < min || v > max)
		die("%s: bad number \"%s\" (want %lld..%lld)", opt, s, min, max);
	return v;
}

static void usage(void)
{
	fputs("usage: rv-mkfixtures --out DIR [--seed N] [--layer-size BYTES] [--images N]\n"
	      "                     [--base-name REF]\n",
	      stderr);
	exit(2);
}

int main(int argc, char **argv)
{
	struct ctx c = {.seed = 1, .layer_size = 16384};
	const char *base_name = "fx/image:v1";
	char path[4300];
	char *s;

	og_prog = "rv-mkfixtures";
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (i + 1 >= argc)
			usage();
		if (!strcmp(a, "--out"))
			c.out = argv[++i];
		else if (!strcmp(a, "--seed"))
			c.seed = (uint64_t)parse_num(a, argv[++i], 0, INT64_MAX);
		else if (!strcmp(a, "--layer-size"))
			c.layer_size = parse_num(a, argv[++i], 1, 1LL << 32);
		else if (!strcmp(a, "--images"))
			c.images = (long)parse_num(a, argv[++i], 0, 100000);
		else if (!strcmp(a, "--base-name"))
			base_name = argv[++i];
		else
			usage();
	}
	if (!c.out)
		usage();

	snprintf(path, sizeof path, "%s/layout", c.out);
	layout_init(&c.lay, path, c.seed);
	snprintf(path, sizeof path, "%s/fixtures.env", c.out);
	c.env = fopen(path, "w");
	if (!c.env)
		die("cannot create \"%s\": %s", path, strerror(errno));
	c.described = json_object();

	snprintf(path, sizeof path, "%s/layout", c.out);
	fprintf(c.env, "RV_FX_LAYOUT=%s\n", path);
	printf("RV_FX_LAYOUT=%s\n", path);
	generate(&c, base_name);
	if (fclose(c.env) != 0)
		die("cannot write fixtures.env");

	layout_finish(&c.lay);

	s = json_dumps(c.described, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	snprintf(path, sizeof path, "%s/fixtures.json", c.out);
	write_file(path, s, strlen(s));
	free(s);
	json_decref(c.described);
	return 0;
}
