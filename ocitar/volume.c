/*
 * volume.c — tar headers in and out: the headers we write (made by
 * libarchive into memory), the checked scan of a volume's headers, and
 * re-hashing byte ranges.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>

#include "ocitar/internal.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/str.h"
#include "util/xalloc.h"
#include "util/banned.h"

/* --- Writing headers -------------------------------------------------------- */

struct hdr_out {
	struct buf *out;
	int done;
};

/* After the header, libarchive would go on to write the entry's data as
 * zeros when the archive is freed (the whole size: gigabytes); refusing
 * every later write stops it at once. */
static la_ssize_t hdr_write(struct archive *a, void *ctx, const void *data, size_t len)
{
	struct hdr_out *h = ctx;

	if (h->done || buf_add(h->out, data, len)) {
		archive_set_error(a, EIO, "header complete");
		return -1;
	}
	return (la_ssize_t)len;
}

/* pax_restricted writes plain ustar and adds a pax extended header only
 * when needed: a name over ustar's 100+155 split (sha512 blobs) or a size
 * of 8 GiB or more (ustar's 11 octal digits), which then goes in a pax
 * "size" record (POSIX.1-2001 pax format). Block size 0 hands each header
 * block to hdr_write as soon as it is made. */
int ocitar_hdr_make(struct buf *out, const char *name, int64_t size, int64_t mtime)
{
	struct hdr_out h = { out, 0 };
	struct archive *a = archive_write_new();
	struct archive_entry *e = archive_entry_new();
	size_t old_len = out->len;
	int rc = 0;

	if (!a || !e)
		xdie("out of memory (libarchive)");
	archive_entry_set_pathname(e, name);
	archive_entry_set_filetype(e, AE_IFREG);
	archive_entry_set_perm(e, 0644);
	archive_entry_set_size(e, size);
	archive_entry_set_mtime(e, mtime, 0);
	archive_entry_set_uid(e, 0);
	archive_entry_set_gid(e, 0);
	if (archive_write_set_format_pax_restricted(a) != ARCHIVE_OK ||
	    archive_write_set_bytes_per_block(a, 0) != ARCHIVE_OK ||
	    archive_write_open(a, &h, NULL, hdr_write, NULL) != ARCHIVE_OK ||
	    archive_write_header(a, e) != ARCHIVE_OK)
		rc = error_set(RV_ERROR, "tar header for \"%s\": %s", name,
		               archive_error_string(a) ? archive_error_string(a) : "failed");
	h.done = 1;
	archive_entry_free(e);
	archive_write_free(a);   /* fails on purpose: see hdr_write */
	if (!rc && (out->len == old_len || (out->len - old_len) % OCITAR_BLOCK))
		rc = error_set(RV_ERROR, "tar header for \"%s\": %zu bytes", name, out->len - old_len);
	if (rc)
		out->len = old_len;
	return rc;
}

/* --- Checking entries -------------------------------------------------------- */

enum ent_kind { ENT_SKIP, ENT_BLOB, ENT_INDEX };

static int refuse(const char *label, const char *name, const char *why)
{
	char q[256];

	return error_set(RV_EINVALID, "%s: entry \"%s\": %s", label,
	                 str_printable(q, sizeof(q), name ? name : ""), why);
}

static int all_digits(const char *s)
{
	if (!*s)
		return 0;
	for (; *s; s++)
		if (*s < '0' || *s > '9')
			return 0;
	return 1;
}

static int alg_ok(const char *s, size_t n)
{
	if (!n)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') ||
		      strchr("+._-", s[i])))
			return 0;
	return 1;
}

/* Directories carry nothing; only the ones an OCI layout has are allowed. */
static int dir_allowed(const char *name)
{
	size_t n = strlen(name);
	const char *slash;

	while (n && name[n - 1] == '/')
		n--;
	if (n == 0 || (n == 1 && name[0] == '.'))
		return 1;
	if ((n == 5 && !strncmp(name, "blobs", 5)) || (n == 7 && !strncmp(name, ".unused", 7)))
		return 1;
	if (n > 6 && !strncmp(name, "blobs/", 6)) {
		slash = memchr(name + 6, '/', n - 6);
		return !slash && alg_ok(name + 6, n - 6);
	}
	return 0;
}

/* "blobs/<alg>/<encoded>" with a digest we can verify. */
static int blob_name(const char *name, char *digest)
{
	const char *alg = name + 6, *slash;

	if (strncmp(name, "blobs/", 6) || !(slash = strchr(alg, '/')) || strchr(slash + 1, '/'))
		return 0;
	if ((size_t)(slash - alg) + strlen(slash) + 1 > OCI_DIGEST_MAX)
		return 0;
	snprintf(digest, OCI_DIGEST_MAX, "%.*s:%s", (int)(slash - alg), alg, slash + 1);
	if (oci_digest_validate(digest)) {
		error_clear();
		return 0;
	}
	return 1;
}

/* What an entry is, or RV_EINVALID naming it. Nothing is ever extracted,
 * but a volume holding what an extraction would turn into an escape or a
 * link is not one we wrote, nor one we should help anybody extract. */
static int classify(const char *label, struct archive_entry *e, enum ent_kind *kind,
                    char *digest)
{
	const char *raw = archive_entry_pathname(e), *name;
	mode_t type = archive_entry_filetype(e);

	if (!raw || !*raw)
		return refuse(label, raw, "unreadable or empty name");
	if (raw[0] == '/')
		return refuse(label, raw, "absolute path");
	if (strstr(raw, ".."))
		return refuse(label, raw, "parent directory reference");
	if (archive_entry_hardlink(e))
		return refuse(label, raw, "hard link");
	if (type == AE_IFLNK)
		return refuse(label, raw, "symbolic link");
	for (name = raw; name[0] == '.' && name[1] == '/';)
		for (name += 2; *name == '/'; name++)
			;
	*kind = ENT_SKIP;
	if (type == AE_IFDIR)
		return dir_allowed(name) ? 0 : refuse(label, raw, "unexpected directory");
	if (type != AE_IFREG)
		return refuse(label, raw, "not a regular file");
	if (archive_entry_sparse_count(e) > 0)
		return refuse(label, raw, "sparse file");
	if (!archive_entry_size_is_set(e) || archive_entry_size(e) < 0)
		return refuse(label, raw, "no size");
	if (!strcmp(name, "index.json"))
		*kind = ENT_INDEX;
	else if (!strcmp(name, "oci-layout") || !strcmp(name, "manifest.json") ||
	         !strcmp(name, "repositories"))
		*kind = ENT_SKIP;
	else if (!strncmp(name, ".unused/", 8) && all_digits(name + 8))
		*kind = ENT_SKIP;   /* a failed writer's place (write.c) */
	else if (blob_name(name, digest))
		*kind = ENT_BLOB;
	else
		return refuse(label, raw, "not an OCI layout entry (blobs/<alg>/<hex> with a valid digest)");
	return 0;
}

/* --- Scanning ---------------------------------------------------------------- */

struct scan {
	struct archive *a;
	const char *label;
	const struct ocitar_scan_cb *cb;
	int64_t file_size;
};

static int read_index(struct scan *sc, int64_t size)
{
	struct buf b = BUF_INIT;
	char chunk[16384];
	la_ssize_t n;
	int rc = 0;

	if ((uint64_t)size > OCITAR_INDEX_MAX)
		return error_set(RV_ETOOBIG, "%s: index.json: %lld bytes is over the %zu-byte limit",
		                 sc->label, (long long)size, OCITAR_INDEX_MAX);
	buf_init(&b, OCITAR_INDEX_MAX);
	while ((n = archive_read_data(sc->a, chunk, sizeof(chunk))) > 0)
		if ((rc = buf_add(&b, chunk, (size_t)n)) != 0)
			break;
	if (!rc && n < 0)
		rc = error_set(RV_EINVALID, "%s: index.json: %s", sc->label,
		               archive_error_string(sc->a));
	if (!rc)
		rc = sc->cb->index(sc->cb->ctx, buf_cstr(&b), b.len);
	buf_release(&b);
	return rc;
}

/* The data offset is where libarchive's uncompressed stream position
 * stands right after the header (archive_filter_bytes(a, 0): bytes
 * consumed by the tar reader, excluding read-ahead); tests check it
 * against pread on real tars, ustar and pax. */
static int scan_entry(struct scan *sc, struct archive_entry *e)
{
	char digest[OCI_DIGEST_MAX];
	enum ent_kind kind;
	int64_t off, len;
	int rc = classify(sc->label, e, &kind, digest);

	if (rc)
		return rc;
	off = archive_filter_bytes(sc->a, 0);
	len = archive_entry_size(e);
	if (kind != ENT_SKIP && (off < 0 || len > sc->file_size - off))
		return refuse(sc->label, archive_entry_pathname(e), "truncated");
	if (kind == ENT_BLOB && sc->cb->blob)
		return sc->cb->blob(sc->cb->ctx, digest, off, len);
	if (kind == ENT_INDEX && sc->cb->index)
		return read_index(sc, len);
	return 0;
}

static int scan_loop(struct scan *sc)
{
	struct archive_entry *e;
	int r, rc = 0;

	while (!rc) {
		r = archive_read_next_header(sc->a, &e);
		if (r == ARCHIVE_EOF)
			break;
		/* ARCHIVE_WARN too: libarchive warns when it skipped a damaged
		 * header to resynchronise, after which offsets mean nothing. */
		if (r != ARCHIVE_OK)
			return error_set(RV_EINVALID, "%s: not a valid tar: %s", sc->label,
			                 archive_error_string(sc->a) ? archive_error_string(sc->a)
			                                             : "unreadable header");
		rc = scan_entry(sc, e);
		if (!rc && archive_read_data_skip(sc->a) != ARCHIVE_OK)
			rc = error_set(RV_EINVALID, "%s: %s", sc->label, archive_error_string(sc->a));
	}
	return rc;
}

int ocitar_scan(const char *path, const char *label, const struct ocitar_scan_cb *cb)
{
	struct scan sc = { NULL, label, cb, 0 };
	struct stat st;
	int fd, rc;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return error_set(errno == ENOENT ? RV_ENOTFOUND : RV_ERROR, "%s: %s", label,
		                 strerror(errno));
	if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
		close(fd);
		return error_set(RV_EINVALID, "%s: not a regular file", label);
	}
	sc.file_size = st.st_size;
	sc.a = archive_read_new();
	if (!sc.a)
		xdie("out of memory (libarchive)");
	/* Plain tar only: offsets into a compressed stream are useless. */
	archive_read_support_format_tar(sc.a);
	if (archive_read_open_fd(sc.a, fd, 65536) != ARCHIVE_OK)
		rc = error_set(RV_EINVALID, "%s: not a tar archive: %s", label,
		               archive_error_string(sc.a));
	else
		rc = scan_loop(&sc);
	archive_read_free(sc.a);
	close(fd);
	return rc;
}

/* --- Hashing ranges ------------------------------------------------------------ */

static int hash_range(int fd, int64_t offset, int64_t length, enum oci_digest_alg alg,
                      char *out, const char *what)
{
	size_t cap = length < (int64_t)OCITAR_CHUNK ? (size_t)length : OCITAR_CHUNK;
	unsigned char *buf = xmalloc(cap ? cap : 1);
	oci_hasher *h = oci_hasher_new(alg);
	int64_t done = 0;
	ssize_t n;
	int rc = 0;

	while (done < length) {
		size_t want = length - done < (int64_t)cap ? (size_t)(length - done) : cap;

		n = pread(fd, buf, want, offset + done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			rc = n < 0 ? error_set(RV_ERROR, "%s: read: %s", what, strerror(errno))
			           : error_set(RV_ENOTFOUND, "%s: file ends at byte %lld", what,
			                       (long long)(offset + done));
			break;
		}
		oci_hasher_update(h, buf, (size_t)n);
		done += n;
	}
	if (!rc)
		oci_hasher_final(h, out);
	oci_hasher_free(h);
	free(buf);
	return rc;
}

/* --- Public: scan and verify by volume name ------------------------------------ */

/* A volume named as ocitar_volumes() or the catalog names it: relative to
 * the store directory, or absolute. */
static char *volume_path(struct ocitar *s, const char *volume)
{
	for (size_t i = 0; i < s->n_vols; i++)
		if (!strcmp(s->vols[i].rel, volume))
			return xstrdup(s->vols[i].path);
	if (volume[0] == '/' || s->kind != OCITAR_KIND_DIR)
		return xstrdup(volume);
	return fs_path_join(s->path, volume);
}

struct scan_fwd {
	ocitar_entry_fn fn;
	void *ctx;
};

static int scan_fwd_blob(void *ctx, const char *digest, int64_t offset, int64_t length)
{
	struct scan_fwd *f = ctx;
	struct ocitar_entry e;

	snprintf(e.digest, sizeof(e.digest), "%s", digest);
	e.offset = offset;
	e.length = length;
	return f->fn(&e, f->ctx);
}

int ocitar_scan_volume(struct oci_store *st, const char *volume, ocitar_entry_fn fn, void *ctx)
{
	struct ocitar *s = (struct ocitar *)st;
	struct scan_fwd f = { fn, ctx };
	struct ocitar_scan_cb cb = { scan_fwd_blob, NULL, &f };
	char *path = volume_path(s, volume);
	char *label = xasprintf("volume \"%s\"", path);
	int rc = ocitar_scan(path, label, &cb);

	free(label);
	free(path);
	return rc;
}

int ocitar_verify_range(struct oci_store *st, const char *volume, int64_t offset,
                        int64_t length, const char *digest)
{
	struct ocitar *s = (struct ocitar *)st;
	char *path = NULL, *what = NULL, got[OCI_DIGEST_MAX];
	struct stat sb;
	int fd = -1, rc;

	if ((rc = oci_digest_validate(digest)) != 0)
		return rc;
	if (offset < 0 || length < 0)
		return error_set(RV_EINVALID, "volume \"%s\": invalid range %lld+%lld", volume,
		                 (long long)offset, (long long)length);
	path = volume_path(s, volume);
	what = xasprintf("volume \"%s\"", path);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &sb)) {
		rc = error_set(errno == ENOENT ? RV_ENOTFOUND : RV_ERROR, "%s: %s", what,
		               strerror(errno));
		goto done;
	}
	if (sb.st_size < offset || sb.st_size - offset < length) {
		rc = error_set(RV_ENOTFOUND, "%s: %lld bytes, too short for %lld+%lld", what,
		               (long long)sb.st_size, (long long)offset, (long long)length);
		goto done;
	}
	/* The deep check reads the medium, not the page cache: clean cached
	 * pages of the range go first. Advice only: where it is ignored, the
	 * bytes still hash as they read. */
	posix_fadvise(fd, offset, length, POSIX_FADV_DONTNEED);
	rc = hash_range(fd, offset, length, oci_digest_alg_of(digest), got, what);
	if (!rc && strcmp(got, digest))
		rc = error_set(RV_EDIGEST, "%s: %lld bytes at offset %lld hash to \"%s\", not \"%s\"",
		               what, (long long)length, (long long)offset, got, digest);
done:
	if (fd >= 0)
		close(fd);
	free(what);
	free(path);
	return rc;
}
