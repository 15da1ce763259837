/* helpers.c — see helpers.h. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include <archive.h>
#include <archive_entry.h>

#include "helpers.h"
#include "oci/digest.h"
#include "util/error.h"
#include "util/xalloc.h"
#include "util/banned.h"

static ssize_t mem_read(void *ctx, void *buf, size_t cap)
{
	struct th_mem *m = ctx;
	size_t n = m->len - m->pos;

	if (n > cap)
		n = cap;
	if (m->chunk && n > m->chunk)
		n = m->chunk;
	memcpy(buf, m->p + m->pos, n);
	m->pos += n;
	return (ssize_t)n;
}

static int mem_rewind(void *ctx)
{
	((struct th_mem *)ctx)->pos = 0;
	return 0;
}

struct oci_source th_mem_source(struct th_mem *m, const void *p, size_t len, size_t chunk)
{
	struct oci_source s = { mem_read, mem_rewind, m };

	m->p = p;
	m->len = len;
	m->pos = 0;
	m->chunk = chunk;
	return s;
}

void th_desc(struct oci_descriptor *d, const void *data, size_t len)
{
	memset(d, 0, sizeof(*d));
	oci_digest_compute(d->digest, OCI_SHA256, data, len);
	d->size = (int64_t)len;
}

unsigned char *th_random(unsigned seed, size_t len)
{
	unsigned char *p = xmalloc(len ? len : 1);
	uint64_t x = 0x9e3779b97f4a7c15ULL * (seed + 1);

	for (size_t i = 0; i < len; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		p[i] = (unsigned char)(x >> 24);
	}
	return p;
}

int th_put(struct oci_store *s, const void *data, size_t len)
{
	struct oci_descriptor d;
	struct th_mem m;
	struct oci_source src = th_mem_source(&m, data, len, 0);

	th_desc(&d, data, len);
	return oci_store_blob_put(s, "any", &d, &src);
}

static int buf_sink(void *ctx, const void *data, size_t len)
{
	return buf_add(ctx, data, len);
}

int th_get(struct oci_store *s, const char *digest, int64_t size, struct buf *out)
{
	struct oci_descriptor d;
	struct oci_sink sink = { buf_sink, out };

	memset(&d, 0, sizeof(d));
	snprintf(d.digest, sizeof(d.digest), "%s", digest);
	d.size = size;
	buf_reset(out);
	return oci_store_blob_get(s, "any", &d, &sink);
}

/* Indented JSON on purpose: a store that re-serialised would change it. */
void th_image_make(struct th_image *img, unsigned seed, size_t n_layers, const char *arch,
                   const char *subject, const char *artifact_type)
{
	char cfgd[OCI_DIGEST_MAX], ld[OCI_DIGEST_MAX];
	struct buf j = BUF_INIT;

	memset(img, 0, sizeof(*img));
	snprintf(img->arch, sizeof(img->arch), "%s", arch ? arch : "amd64");
	img->n_layers = n_layers;
	img->config = xasprintf("{\n  \"architecture\": \"%s\",\n  \"os\": \"linux\",\n"
	                        "  \"rootfs\": {\"type\": \"layers\", \"diff_ids\": []},\n"
	                        "  \"seed\": %u\n}\n", img->arch, seed);
	oci_digest_compute(cfgd, OCI_SHA256, img->config, strlen(img->config));
	buf_addf(&j, "{\n  \"schemaVersion\": 2,\n  \"mediaType\": \"%s\",\n", OCI_MT_IMAGE_MANIFEST);
	if (artifact_type)
		buf_addf(&j, "  \"artifactType\": \"%s\",\n", artifact_type);
	buf_addf(&j, "  \"config\": {\"mediaType\": \"%s\", \"digest\": \"%s\", \"size\": %zu},\n"
	         "  \"layers\": [", OCI_MT_IMAGE_CONFIG, cfgd, strlen(img->config));
	for (size_t i = 0; i < n_layers; i++) {
		img->layer_len[i] = 1000 + seed * 37 + i * 513;
		img->layer[i] = th_random(seed * 10 + (unsigned)i, img->layer_len[i]);
		oci_digest_compute(ld, OCI_SHA256, img->layer[i], img->layer_len[i]);
		buf_addf(&j, "%s\n    {\"mediaType\": \"application/vnd.oci.image.layer.v1.tar+gzip\", "
		         "\"digest\": \"%s\", \"size\": %zu}", i ? "," : "", ld, img->layer_len[i]);
	}
	buf_addf(&j, "\n  ]");
	if (subject)
		buf_addf(&j, ",\n  \"subject\": {\"mediaType\": \"%s\", \"digest\": \"%s\", \"size\": 1}",
		         OCI_MT_IMAGE_MANIFEST, subject);
	buf_addf(&j, ",\n  \"annotations\": {\"t.seed\": \"%u\"}\n}\n", seed);
	assert_int_equal(oci_manifest_parse(&img->m, j.ptr, j.len, NULL), 0);
	buf_release(&j);
}

void th_image_put(struct oci_store *s, const struct th_image *img, const char *repo,
                  const char *ref, unsigned flags)
{
	int rc = th_put(s, img->config, strlen(img->config));

	if (rc)
		fail_msg("config: %s", error_msg());
	for (size_t i = 0; i < img->n_layers; i++)
		if ((rc = th_put(s, img->layer[i], img->layer_len[i])) != 0)
			fail_msg("layer: %s", error_msg());
	if ((rc = oci_store_manifest_put(s, repo, ref ? ref : img->m->digest, img->m, flags)) != 0)
		fail_msg("manifest_put: %s", error_msg());
}

void th_image_free(struct th_image *img)
{
	for (size_t i = 0; i < img->n_layers; i++)
		free(img->layer[i]);
	free(img->config);
	oci_manifest_free(img->m);
	memset(img, 0, sizeof(*img));
}

struct oci_manifest *th_index_make(struct th_image *imgs, size_t n)
{
	struct buf j = BUF_INIT;
	struct oci_manifest *m = NULL;

	buf_addf(&j, "{\n  \"schemaVersion\": 2,\n  \"mediaType\": \"%s\",\n  \"manifests\": [",
	         OCI_MT_IMAGE_INDEX);
	for (size_t i = 0; i < n; i++)
		buf_addf(&j, "%s\n    {\"mediaType\": \"%s\", \"digest\": \"%s\", \"size\": %zu, "
		         "\"platform\": {\"os\": \"linux\", \"architecture\": \"%s\"}}",
		         i ? "," : "", OCI_MT_IMAGE_MANIFEST, imgs[i].m->digest, imgs[i].m->raw_len,
		         imgs[i].arch);
	buf_addf(&j, "\n  ]\n}\n");
	assert_int_equal(oci_manifest_parse(&m, j.ptr, j.len, NULL), 0);
	buf_release(&j);
	return m;
}

int th_tar_names(const char *path, struct strlist *out)
{
	struct archive *a = archive_read_new();
	struct archive_entry *e;
	int r, rc = 0;

	archive_read_support_format_tar(a);
	if (archive_read_open_filename(a, path, 10240) != ARCHIVE_OK) {
		archive_read_free(a);
		return -1;
	}
	while ((r = archive_read_next_header(a, &e)) == ARCHIVE_OK) {
		strlist_add(out, archive_entry_pathname(e));
		if (archive_read_data_skip(a) != ARCHIVE_OK) {
			rc = -1;
			break;
		}
	}
	if (r != ARCHIVE_EOF)
		rc = -1;
	archive_read_free(a);
	return rc;
}

void th_file_sha256(const char *path, char out[80])
{
	oci_hasher *h = oci_hasher_new(OCI_SHA256);
	unsigned char buf[65536];
	ssize_t n;
	int fd = open(path, O_RDONLY);

	assert_true(fd >= 0);
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		oci_hasher_update(h, buf, (size_t)n);
	close(fd);
	oci_hasher_final(h, out);
	oci_hasher_free(h);
}

int th_mode(const char *path)
{
	struct stat st;

	return stat(path, &st) ? -1 : (int)(st.st_mode & 07777);
}

size_t th_count_prefix(const char *dir, const char *prefix)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	size_t n = 0;

	if (!d)
		return 0;
	while ((de = readdir(d)) != NULL)
		if (!strncmp(de->d_name, prefix, strlen(prefix)))
			n++;
	closedir(d);
	return n;
}

int th_contains(const char *s, const char *sub)
{
	return s && strstr(s, sub) != NULL;
}
