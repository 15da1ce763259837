/*
 * ocigen.c — deterministic OCI building blocks shared by rv-mkfixtures and
 * rv-mkscenario; see ocigen.h.
 */
#include "ocigen.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <openssl/evp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

const char *og_prog = "rv-ocigen";

void die(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "%s: ", og_prog);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(1);
}

void *xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);
	if (!q)
		die("out of memory");
	return q;
}

void buf_add(struct buf *b, const void *data, size_t n)
{
	if (b->len + n > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;
		while (cap < b->len + n)
			cap *= 2;
		b->p = xrealloc(b->p, cap);
		b->cap = cap;
	}
	memcpy(b->p + b->len, data, n);
	b->len += n;
}

uint64_t prng_next(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

void prng_fill(uint64_t *state, unsigned char *p, size_t n)
{
	while (n) {
		uint64_t v = prng_next(state);
		size_t k = n < 8 ? n : 8;
		memcpy(p, &v, k);
		p += k;
		n -= k;
	}
}

void sha256_digest(const void *data, size_t n, char out[DIGEST_MAX])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	static const char hex[] = "0123456789abcdef";
	if (!EVP_Digest(data, n, md, &mdlen, EVP_sha256(), NULL) || mdlen != 32)
		die("sha256 failed");
	memcpy(out, "sha256:", 7);
	for (unsigned int i = 0; i < mdlen; i++) {
		out[7 + 2 * i] = hex[md[i] >> 4];
		out[8 + 2 * i] = hex[md[i] & 15];
	}
	out[7 + 2 * mdlen] = '\0';
}

void write_file(const char *path, const void *data, size_t n)
{
	char tmp[4200];
	FILE *f;
	if ((size_t)snprintf(tmp, sizeof tmp, "%s.tmp", path) >= sizeof tmp)
		die("path too long: %s", path);
	f = fopen(tmp, "wb");
	if (!f)
		die("cannot create \"%s\": %s", tmp, strerror(errno));
	if (n && fwrite(data, 1, n, f) != n)
		die("cannot write \"%s\"", tmp);
	if (fclose(f) != 0)
		die("cannot write \"%s\": %s", tmp, strerror(errno));
	if (rename(tmp, path) != 0)
		die("cannot rename \"%s\": %s", tmp, strerror(errno));
}

void mkdir_p(const char *path)
{
	char p[4096];
	size_t n = strlen(path);
	if (n >= sizeof p)
		die("path too long: %s", path);
	memcpy(p, path, n + 1);
	for (size_t i = 1; i <= n; i++) {
		if (p[i] == '/' || p[i] == '\0') {
			char c = p[i];
			p[i] = '\0';
			if (mkdir(p, 0755) != 0 && errno != EEXIST)
				die("cannot create \"%s\": %s", p, strerror(errno));
			p[i] = c;
		}
	}
}

void blob_put(struct layout *c, const char *media_type, const void *data, size_t n,
		     struct desc *out)
{
	char path[4300];
	out->media_type = media_type;
	sha256_digest(data, n, out->digest);
	out->size = (long long)n;
	snprintf(path, sizeof path, "%s/%s", c->blobdir, out->digest + 7);
	write_file(path, data, n);
}

json_t *desc_json(const struct desc *d)
{
	return json_pack("{s:s, s:s, s:I}", "mediaType", d->media_type, "digest", d->digest,
			 "size", (json_int_t)d->size);
}

void json_blob(struct layout *c, const char *media_type, json_t *doc, struct desc *out)
{
	char *s = json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	if (!s)
		die("json_dumps failed");
	blob_put(c, media_type, s, strlen(s), out);
	free(s);
	json_decref(doc);
}

/* ---- layers ---------------------------------------------------------------- */

static la_ssize_t tar_write_cb(struct archive *a, void *ud, const void *data, size_t n)
{
	(void)a;
	buf_add(ud, data, n);
	return (la_ssize_t)n;
}

static void tar_entry(struct archive *a, const char *name, int type, const void *data,
		      size_t n)
{
	struct archive_entry *e = archive_entry_new();
	if (!e)
		die("out of memory");
	archive_entry_set_pathname(e, name);
	archive_entry_set_filetype(e, (unsigned int)type);
	archive_entry_set_perm(e, type == AE_IFDIR ? 0755 : 0644);
	archive_entry_set_uid(e, 0);
	archive_entry_set_gid(e, 0);
	archive_entry_set_uname(e, "root");
	archive_entry_set_gname(e, "root");
	archive_entry_set_mtime(e, FIXED_MTIME, 0);
	archive_entry_set_size(e, type == AE_IFDIR ? 0 : (la_int64_t)n);
	if (archive_write_header(a, e) != ARCHIVE_OK)
		die("tar header: %s", archive_error_string(a));
	if (n && archive_write_data(a, data, n) != (la_ssize_t)n)
		die("tar data: %s", archive_error_string(a));
	archive_entry_free(e);
}

/*
 * A layer: a directory, one small text file and random files adding up to
 * about `size` bytes. Random data does not compress, so the gzip blob's size
 * tracks `size`, which keeps size-based tests meaningful.
 */
static void make_tar(uint64_t *rng, const char *label, long long size, struct buf *tar)
{
	struct archive *a = archive_write_new();
	char name[256], text[256];
	unsigned char *chunk;
	long long left = size;
	int file = 0;

	if (!a)
		die("out of memory");
	/* ustar unless a field overflows: stable headers, no pax time records */
	if (archive_write_set_format_pax_restricted(a) != ARCHIVE_OK ||
	    archive_write_set_bytes_in_last_block(a, 1) != ARCHIVE_OK ||
	    archive_write_open2(a, tar, NULL, tar_write_cb, NULL, NULL) != ARCHIVE_OK)
		die("tar open: %s", archive_error_string(a));
	snprintf(name, sizeof name, "%s/", label);
	tar_entry(a, name, AE_IFDIR, NULL, 0);
	snprintf(name, sizeof name, "%s/README", label);
	int tn = snprintf(text, sizeof text, "regvault test fixture layer %s\n", label);
	tar_entry(a, name, AE_IFREG, text, (size_t)tn);
	chunk = xrealloc(NULL, 1 << 16);
	while (left > 0) {
		size_t n = left > (1 << 16) ? (size_t)1 << 16 : (size_t)left;
		prng_fill(rng, chunk, n);
		snprintf(name, sizeof name, "%s/data-%03d.bin", label, file++);
		tar_entry(a, name, AE_IFREG, chunk, n);
		left -= (long long)n;
	}
	free(chunk);
	if (archive_write_close(a) != ARCHIVE_OK)
		die("tar close: %s", archive_error_string(a));
	archive_write_free(a);
}

static void gzip_buf(const struct buf *in, struct buf *out)
{
	z_stream z;
	unsigned char tmp[1 << 15];
	int rc;

	memset(&z, 0, sizeof z);
	/* windowBits 15+16 = gzip wrapper; zlib writes mtime 0, no name */
	if (deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
		die("deflateInit2 failed");
	z.next_in = in->p;
	z.avail_in = (uInt)in->len;
	do {
		z.next_out = tmp;
		z.avail_out = sizeof tmp;
		rc = deflate(&z, Z_FINISH);
		if (rc == Z_STREAM_ERROR)
			die("deflate failed");
		buf_add(out, tmp, sizeof tmp - z.avail_out);
	} while (rc != Z_STREAM_END);
	deflateEnd(&z);
}

void make_layer(struct layout *c, const char *media_type, const char *label,
		       long long size, struct desc *out, char diff_id[DIGEST_MAX])
{
	struct buf tar = {0}, gz = {0};
	uint64_t rng = c->seed;
	for (const char *p = label; *p; p++)
		rng = rng * 1099511628211ULL ^ (unsigned char)*p;
	make_tar(&rng, label, size, &tar);
	sha256_digest(tar.p, tar.len, diff_id);
	gzip_buf(&tar, &gz);
	blob_put(c, media_type, gz.p, gz.len, out);
	free(tar.p);
	free(gz.p);
}

/* ---- the layout ------------------------------------------------------------ */

void layout_init(struct layout *l, const char *dir, uint64_t seed)
{
	memset(l, 0, sizeof *l);
	if ((size_t)snprintf(l->dir, sizeof l->dir, "%s", dir) >= sizeof l->dir ||
	    (size_t)snprintf(l->blobdir, sizeof l->blobdir, "%s/blobs/sha256", dir) >=
		    sizeof l->blobdir)
		die("path too long: %s", dir);
	mkdir_p(l->blobdir);
	l->seed = seed;
	l->index = json_array();
}

void layout_add(struct layout *l, const char *ref_name, const struct desc *d)
{
	json_t *e = desc_json(d);
	json_object_set_new(e, "annotations",
			    json_pack("{s:s}", "org.opencontainers.image.ref.name", ref_name));
	json_array_append_new(l->index, e);
}

void layout_finish(struct layout *l)
{
	char path[4300];
	json_t *index;
	char *s;

	snprintf(path, sizeof path, "%s/oci-layout", l->dir);
	write_file(path, "{\"imageLayoutVersion\":\"1.0.0\"}", 30);
	index = json_pack("{s:i, s:s, s:o}", "schemaVersion", 2, "mediaType", MT_OCI_INDEX,
			  "manifests", l->index);
	l->index = NULL;
	s = json_dumps(index, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	if (!s)
		die("json_dumps failed");
	snprintf(path, sizeof path, "%s/index.json", l->dir);
	write_file(path, s, strlen(s));
	free(s);
	json_decref(index);
}
