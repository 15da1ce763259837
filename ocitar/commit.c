/*
 * commit.c — finishing a volume: metadata entries, end-of-archive, fsync,
 * re-read and verify through a fresh descriptor with the page cache
 * dropped, then the rename that makes it exist (ARCHITECTURE.md invariant 6:
 * written to a temporary name, flushed, verified, renamed).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "ocitar/internal.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/timeutil.h"
#include "util/xalloc.h"
#include "util/banned.h"

void ocitar_commit_info_release(struct ocitar_commit_info *info)
{
	if (!info)
		return;
	free(info->volume);
	free(info->entries);
	memset(info, 0, sizeof(*info));
}

int ocitar_fsync_dir_of(const char *path)
{
	const char *slash = strrchr(path, '/');
	char *dir = slash ? xstrndup(path, slash == path ? 1 : (size_t)(slash - path)) : xstrdup(".");
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), rc = 0;

	if (fd < 0 || fsync(fd))
		rc = error_set(RV_ERROR, "fsync \"%s\": %s", dir, strerror(errno));
	if (fd >= 0)
		close(fd);
	free(dir);
	return rc;
}

static int cmp_offset(const void *a, const void *b)
{
	const struct ocitar_entry *x = a, *y = b;

	return x->offset < y->offset ? -1 : x->offset > y->offset;
}

/* --- Verification --------------------------------------------------------------- */

struct pass {
	struct ocitar_entry *e;
	size_t n, k;           /* e[k] is the blob being hashed */
	oci_hasher *h;
	const char *label;
};

/* Feeds the part of one chunk [pos, pos+got) that belongs to blobs. */
static int feed(struct pass *p, const unsigned char *buf, int64_t pos, size_t got)
{
	int64_t lim = pos + (int64_t)got;
	char digest[OCI_DIGEST_MAX];

	while (p->k < p->n && p->e[p->k].offset <= lim) {
		const struct ocitar_entry *x = &p->e[p->k];
		int64_t from = x->offset > pos ? x->offset : pos;
		int64_t to = x->offset + x->length < lim ? x->offset + x->length : lim;

		if (!p->h)
			p->h = oci_hasher_new(oci_digest_alg_of(x->digest));
		if (to > from)
			oci_hasher_update(p->h, buf + (from - pos), (size_t)(to - from));
		if (x->offset + x->length > lim)
			break;
		oci_hasher_final(p->h, digest);
		oci_hasher_free(p->h);
		p->h = NULL;
		if (strcmp(digest, x->digest))
			return error_set(RV_EDIGEST, "%s: blob \"%s\" at offset %lld reads back as \"%s\"",
			                 p->label, x->digest, (long long)x->offset, digest);
		p->k++;
	}
	return 0;
}

/* One sequential read of the whole file, with the page cache dropped so
 * the bytes come from the disk: the file's sha256 and every blob's digest. */
static int read_back(const char *path, struct pass *p, char *sha, int64_t *size)
{
	unsigned char *buf = NULL;
	oci_hasher *whole = NULL;
	struct stat st;
	int64_t pos = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC), rc = 0;

	if (fd < 0 || fstat(fd, &st)) {
		rc = error_set(RV_ERROR, "%s: re-read: %s", p->label, strerror(errno));
		if (fd >= 0)
			close(fd);
		return rc;
	}
	posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
	buf = xmalloc(OCITAR_CHUNK);
	whole = oci_hasher_new(OCI_SHA256);
	while (!rc && pos < st.st_size) {
		ssize_t got = pread(fd, buf, OCITAR_CHUNK, pos);

		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0) {
			rc = error_set(RV_ERROR, "%s: re-read at %lld: %s", p->label, (long long)pos,
			               got < 0 ? strerror(errno) : "unexpected end");
			break;
		}
		oci_hasher_update(whole, buf, (size_t)got);
		rc = feed(p, buf, pos, (size_t)got);
		pos += got;
	}
	if (!rc && p->k < p->n)
		rc = error_set(RV_EDIGEST, "%s: blob \"%s\" lies beyond the end", p->label,
		               p->e[p->k].digest);
	if (!rc)
		oci_hasher_final(whole, sha);
	*size = st.st_size;
	oci_hasher_free(whole);
	oci_hasher_free(p->h);
	p->h = NULL;
	free(buf);
	close(fd);
	return rc;
}

static int seen_blob(void *ctx, const char *digest, int64_t offset, int64_t length)
{
	ocitar_blobs_add(ctx, digest, 0, offset, length);
	return 0;
}

/* A fresh reader must find every blob where we wrote it: this checks the
 * headers, as the read-back checks the data. */
static int check_headers(struct ocitar *s, const char *label)
{
	struct ocitar_blobtab seen = { NULL, 0, 0 };
	struct ocitar_scan_cb cb = { seen_blob, NULL, &seen };
	int rc = ocitar_scan(s->tmp_path, label, &cb);

	for (size_t i = 0; !rc && i < s->n_pending; i++) {
		const struct ocitar_entry *e = &s->pending[i];
		const struct ocitar_loc *l = ocitar_blobs_find(&seen, e->digest);

		if (!l || l->offset != e->offset || l->length != e->length)
			rc = error_set(RV_EDIGEST, "%s: blob \"%s\" is not where it was written (%lld)",
			               label, e->digest, (long long)e->offset);
	}
	ocitar_blobs_release(&seen);
	return rc;
}

int ocitar_seal_temp(struct ocitar *s, struct ocitar_commit_info *info)
{
	static const char eoa[2 * OCITAR_BLOCK];
	char *label = xasprintf("volume \"%s\"", s->tmp_path);
	struct pass p = { NULL, s->n_pending, 0, NULL, label };
	int rc;

	/* End of archive: two zero blocks (POSIX ustar), written explicitly. */
	rc = ocitar_pwrite_all(s->tmp_fd, eoa, sizeof(eoa), s->end, s->tmp_path);
	if (!rc && ftruncate(s->tmp_fd, s->end + (int64_t)sizeof(eoa)))
		rc = error_set(RV_ERROR, "%s: truncate: %s", label, strerror(errno));
	if (!rc && fsync(s->tmp_fd))
		rc = error_set(RV_ERROR, "%s: fsync: %s", label, strerror(errno));
	if (!rc)
		rc = check_headers(s, label);
	if (!rc) {
		p.e = xcalloc(s->n_pending + 1, sizeof(*p.e));
		if (s->n_pending)
			memcpy(p.e, s->pending, s->n_pending * sizeof(*p.e));
		qsort(p.e, p.n, sizeof(*p.e), cmp_offset);
		rc = read_back(s->tmp_path, &p, info->sha256, &info->size);
	}
	if (!rc) {
		info->entries = p.e;
		info->n_entries = p.n;
	} else {
		free(p.e);
	}
	free(label);
	return rc;
}

/* --- Making it exist ---------------------------------------------------------------- */

int ocitar_adopt_temp(struct ocitar *s, const char *rel, const char *final_path)
{
	int vol = ocitar_add_vol(s, rel, final_path);

	for (size_t i = 0; i < s->n_pending; i++)
		ocitar_blobs_set_vol(&s->blobs, s->pending[i].digest, vol);
	/* The same inode under its final name: keep reading through it. */
	s->vols[vol].fd = s->tmp_fd;
	s->tmp_fd = -1;
	free(s->tmp_path);
	s->tmp_path = NULL;
	s->n_pending = 0;
	s->refs_dirty = 0;
	s->end = 0;
	return 0;
}

/* Never replaces a volume: RENAME_NOREPLACE where the file system has it,
 * else a check under our lock (only the lock holder writes volumes). */
static int publish(const char *tmp, const char *final)
{
	if (renameat2(AT_FDCWD, tmp, AT_FDCWD, final, RENAME_NOREPLACE) == 0)
		return ocitar_fsync_dir_of(final);
	if (errno == EEXIST)
		return error_set(RV_EEXISTS, "volume \"%s\" already exists", final);
	if ((errno == EINVAL || errno == ENOSYS) && !fs_exists(final) && rename(tmp, final) == 0)
		return ocitar_fsync_dir_of(final);
	return error_set(RV_ERROR, "rename \"%s\" to \"%s\": %s", tmp, final, strerror(errno));
}

static int volume_rel(struct ocitar *s, char **out)
{
	char stamp[32];
	struct tm tm;
	time_t now = (time_t)time_now();
	long n;
	int rc = ocitar_next_number(s, &n);

	if (rc)
		return rc;
	gmtime_r(&now, &tm);
	strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm);
	*out = xasprintf("volumes/%06ld-%s.tar", n, stamp);
	return 0;
}

static int dir_commit(struct ocitar *s, struct ocitar_commit_info *info)
{
	char *json = NULL, *rel = NULL, *final = NULL;
	size_t len;
	int rc;

	json = ocitar_reftab_json(&s->refs, &len);
	rc = ocitar_append_small(s, "oci-layout", OCI_LAYOUT_FILE, strlen(OCI_LAYOUT_FILE));
	if (!rc)
		rc = ocitar_append_small(s, "index.json", json, len);
	if (!rc)
		rc = ocitar_seal_temp(s, info);
	if (!rc)
		rc = volume_rel(s, &rel);
	if (!rc) {
		final = fs_path_join(s->path, rel);
		rc = publish(s->tmp_path, final);
	}
	if (!rc) {
		ocitar_adopt_temp(s, rel, final);
		info->volume = rel;
		rel = NULL;
	}
	free(final);
	free(rel);
	free(json);
	return rc;
}

int ocitar_commit(struct oci_store *st, struct ocitar_commit_info *info)
{
	struct ocitar *s = (struct ocitar *)st;
	size_t open = ocitar_open_writers(s);
	int rc;

	memset(info, 0, sizeof(*info));
	if (open)
		return error_set(RV_EINVALID, "%s: %zu blob writer%s still open", s->label, open,
		                 open == 1 ? "" : "s");
	if (s->broken)
		return error_set(RV_ERROR, "%s: the volume being written is damaged", s->label);
	if (!s->n_pending && !s->refs_dirty) {
		/* Nothing kept (failed writers only, or no writes at all). */
		ocitar_discard_temp(s);
		return 0;
	}
	rc = s->kind == OCITAR_KIND_EXPORT ? ocitar_export_commit(s, info) : dir_commit(s, info);
	if (rc) {
		/* Metadata may be half appended: this volume can only be dropped
		 * (on close); the message says why. */
		s->broken = 1;
		ocitar_commit_info_release(info);
	}
	return rc;
}
