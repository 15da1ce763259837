/*
 * write.c — filling the volume being written.
 *
 * Blob sizes are known before their bytes, so a writer reserves its whole
 * place at once — [tar header][data][zero padding to 512] at the end of
 * the reserved space — writes the header immediately, and then pwrites the
 * data into its place as it arrives, hashing on the way. Several writers
 * fill their places in any interleaving; nothing is spooled and every byte
 * is written once. A writer that fails leaves a place that must stay a
 * valid tar entry: its header is rewritten as ".unused/<n>", a regular
 * file spanning the whole place (or, when it is the last place, the
 * reservation is simply taken back).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ocitar/internal.h"
#include "oci/reference.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/xalloc.h"
#include "util/banned.h"

struct ocitar_writer {
	struct ocitar *s;
	struct ocitar_writer *next;
	char digest[OCI_DIGEST_MAX];
	int64_t size;
	int64_t written;
	int64_t hdr_off;       /* the place: [hdr_off, end) */
	int64_t data_off;
	int64_t end;
	oci_hasher *h;
	int failed;            /* the code of a failed write; 0 while all is well */
};

static const char zeros[2 * OCITAR_BLOCK];

static int64_t padded(int64_t n)
{
	return (n + OCITAR_BLOCK - 1) / OCITAR_BLOCK * OCITAR_BLOCK;
}

int ocitar_pwrite_all(int fd, const void *data, size_t len, int64_t off, const char *path)
{
	const char *p = data;

	while (len) {
		ssize_t n = pwrite(fd, p, len, off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return error_set(RV_ERROR, "\"%s\": write at %lld: %s", path, (long long)off,
			                 n < 0 ? strerror(errno) : "no progress");
		p += n;
		len -= (size_t)n;
		off += n;
	}
	return 0;
}

static int writable(struct ocitar *s)
{
	if (s->sealed)
		return error_set(RV_EUNSUPPORTED, "%s: already committed", s->label);
	if (s->kind == OCITAR_KIND_FILE || (s->kind == OCITAR_KIND_DIR && !(s->flags & OCITAR_WRITE)))
		return error_set(RV_EUNSUPPORTED, "%s: opened read-only", s->label);
	if (s->broken)
		return error_set(RV_ERROR, "%s: the volume being written is damaged", s->label);
	return 0;
}

/* The volume being written is created on the first reservation. */
static int temp_open(struct ocitar *s)
{
	static unsigned seq;
	int flags = O_RDWR | O_CREAT | O_CLOEXEC;
	int rc = writable(s);

	if (rc || s->tmp_path)
		return rc;
	if (s->kind == OCITAR_KIND_DIR) {
		s->tmp_path = xasprintf("%s/volumes/.tmp-%ld-%u.tar", s->path, (long)getpid(), ++seq);
		flags |= O_EXCL;
	} else {
		/* A leftover with our pid is from a dead process: replace it. */
		s->tmp_path = xasprintf("%s.tmp-%ld", s->path, (long)getpid());
		flags |= O_TRUNC;
	}
	s->tmp_fd = open(s->tmp_path, flags, 0600);
	if (s->tmp_fd < 0 || fchmod(s->tmp_fd, 0600)) {
		rc = error_set(RV_ERROR, "%s: \"%s\": %s", s->label, s->tmp_path, strerror(errno));
		if (s->tmp_fd >= 0) {
			close(s->tmp_fd);
			unlink(s->tmp_path);
		}
		s->tmp_fd = -1;
		free(s->tmp_path);
		s->tmp_path = NULL;
		return rc;
	}
	s->end = 0;
	return 0;
}

/* Reserves [header][size bytes][padding] at the end and writes the header. */
static int reserve(struct ocitar *s, const char *name, int64_t size, int64_t *hdr_off,
                   int64_t *data_off)
{
	struct buf h = BUF_INIT;
	int rc = temp_open(s);

	if (!rc)
		rc = ocitar_hdr_make(&h, name, size, s->mtime);
	if (!rc)
		rc = ocitar_pwrite_all(s->tmp_fd, h.ptr, h.len, s->end, s->tmp_path);
	if (!rc) {
		*hdr_off = s->end;
		*data_off = s->end + (int64_t)h.len;
		s->end = *data_off + padded(size);
	}
	buf_release(&h);
	return rc;
}

size_t ocitar_open_writers(const struct ocitar *s)
{
	size_t n = 0;

	for (const struct ocitar_writer *w = s->writers; w; w = w->next)
		n++;
	return n;
}

void ocitar_discard_temp(struct ocitar *s)
{
	while (s->writers) {
		struct ocitar_writer *w = s->writers;

		s->writers = w->next;
		oci_hasher_free(w->h);
		free(w);
	}
	if (s->tmp_fd >= 0)
		close(s->tmp_fd);
	if (s->tmp_path)
		unlink(s->tmp_path);
	s->tmp_fd = -1;
	free(s->tmp_path);
	s->tmp_path = NULL;
	s->n_pending = 0;
}

int ocitar_append_small(struct ocitar *s, const char *name, const void *data, size_t len)
{
	int64_t hdr_off, data_off;
	int rc = reserve(s, name, (int64_t)len, &hdr_off, &data_off);

	if (!rc)
		rc = ocitar_pwrite_all(s->tmp_fd, data, len, data_off, s->tmp_path);
	if (!rc && padded((int64_t)len) > (int64_t)len)
		rc = ocitar_pwrite_all(s->tmp_fd, zeros, (size_t)(padded((int64_t)len) - (int64_t)len),
		                       data_off + (int64_t)len, s->tmp_path);
	if (rc)
		s->broken = 1;
	return rc;
}

/* --- Failed places ------------------------------------------------------------- */

/* Rewrites a failed writer's place as ".unused/<n>", a regular file whose
 * header and data cover the place exactly, so the tar stays valid and
 * nothing after it moves. The header's length depends on the size (a pax
 * record from 8 GiB on), hence the fixed-point loop. The data is then
 * punched out to give the space back where the file system can. */
static int kill_place(struct ocitar *s, struct ocitar_writer *w)
{
	int64_t place = w->end - w->hdr_off, hlen = OCITAR_BLOCK;
	struct buf h = BUF_INIT;
	char name[32];
	int rc = 0;

	if (w->end == s->end) {
		/* The last place: take the reservation back. Should the truncate
		 * fail, the next place overwrites it and the commit writes its
		 * end-of-archive blocks and final size explicitly. */
		s->end = w->hdr_off;
		if (ftruncate(s->tmp_fd, s->end))
			errno = 0;
		return 0;
	}
	snprintf(name, sizeof(name), ".unused/%u", ++s->dead_seq);
	for (int i = 0; i < 4; i++) {
		buf_reset(&h);
		if ((rc = ocitar_hdr_make(&h, name, place - hlen, s->mtime)) != 0)
			break;
		if ((int64_t)h.len == hlen)
			break;
		hlen = (int64_t)h.len;
		rc = error_set(RV_ERROR, "%s: no stable header for \"%s\"", s->label, name);
	}
	if (!rc)
		rc = ocitar_pwrite_all(s->tmp_fd, h.ptr, h.len, w->hdr_off, s->tmp_path);
	if (!rc && place > hlen)
		fallocate(s->tmp_fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, w->hdr_off + hlen,
		          place - hlen);   /* best effort: zeros or old bytes are both fine */
	if (rc)
		s->broken = 1;
	buf_release(&h);
	return rc;
}

/* --- Writers --------------------------------------------------------------------- */

static int writer_write(void *ctx, const void *data, size_t len)
{
	struct ocitar_writer *w = ctx;
	int rc;

	if (w->failed)
		return error_set(w->failed, "blob \"%s\": an earlier write failed", w->digest);
	if (len > (uint64_t)(w->size - w->written)) {
		w->failed = RV_EDIGEST;
		return error_set(RV_EDIGEST, "blob \"%s\": more than the %lld bytes announced",
		                 w->digest, (long long)w->size);
	}
	rc = ocitar_pwrite_all(w->s->tmp_fd, data, len, w->data_off + w->written, w->s->tmp_path);
	if (rc) {
		w->failed = rc;
		return rc;
	}
	oci_hasher_update(w->h, data, len);
	w->written += (int64_t)len;
	return 0;
}

static int check_new(struct ocitar *s, const struct oci_descriptor *d)
{
	int rc = oci_digest_validate(d->digest);

	if (rc)
		return rc;
	/* Far beyond any disk; keeps offset arithmetic clear of overflow. */
	if (d->size < 0 || d->size > ((int64_t)1 << 56))
		return error_set(RV_EINVALID, "blob \"%s\": invalid size %lld", d->digest,
		                 (long long)d->size);
	if (ocitar_blobs_find(&s->blobs, d->digest))
		return error_set(RV_EEXISTS, "blob \"%s\" is already in %s", d->digest, s->label);
	for (struct ocitar_writer *w = s->writers; w; w = w->next)
		if (!strcmp(w->digest, d->digest))
			return error_set(RV_EEXISTS, "blob \"%s\" is already being written to %s",
			                 d->digest, s->label);
	return 0;
}

int ocitar_writer_open(struct oci_store *st, const struct oci_descriptor *d,
                       struct oci_sink *out, void **handle)
{
	struct ocitar *s = (struct ocitar *)st;
	struct ocitar_writer *w;
	char *name;
	int rc = writable(s);

	if (!rc)
		rc = check_new(s, d);
	if (rc)
		return rc;
	w = xcalloc(1, sizeof(*w));
	w->s = s;
	snprintf(w->digest, sizeof(w->digest), "%s", d->digest);
	w->size = d->size;
	name = xasprintf("blobs/%.*s/%s", (int)(strchr(d->digest, ':') - d->digest), d->digest,
	                 oci_digest_hex(d->digest));
	rc = reserve(s, name, d->size, &w->hdr_off, &w->data_off);
	free(name);
	if (rc) {
		free(w);
		return rc;
	}
	w->end = s->end;
	w->h = oci_hasher_new(oci_digest_alg_of(d->digest));
	w->next = s->writers;
	s->writers = w;
	out->write = writer_write;
	out->ctx = w;
	*handle = w;
	return 0;
}

static int writer_check(struct ocitar_writer *w)
{
	char got[OCI_DIGEST_MAX];

	if (w->failed)
		return error_set(w->failed, "blob \"%s\": not stored: a write failed", w->digest);
	if (w->written != w->size)
		return error_set(RV_EDIGEST, "blob \"%s\": got %lld of %lld bytes", w->digest,
		                 (long long)w->written, (long long)w->size);
	oci_hasher_final(w->h, got);
	if (strcmp(got, w->digest))
		return error_set(RV_EDIGEST, "blob \"%s\": bytes hash to \"%s\"", w->digest, got);
	return ocitar_pwrite_all(w->s->tmp_fd, zeros, (size_t)(w->end - w->data_off - w->size),
	                         w->data_off + w->size, w->s->tmp_path);
}

static void unlink_writer(struct ocitar *s, struct ocitar_writer *w)
{
	for (struct ocitar_writer **p = &s->writers; *p; p = &(*p)->next)
		if (*p == w) {
			*p = w->next;
			return;
		}
}

int ocitar_writer_close(struct oci_store *st, void *handle, int commit)
{
	struct ocitar *s = (struct ocitar *)st;
	struct ocitar_writer *w = handle;
	struct ocitar_entry *e;
	int rc = 0;

	if (!w)
		return 0;
	unlink_writer(s, w);
	if (commit)
		rc = writer_check(w);
	if (commit && !rc) {
		ocitar_blobs_add(&s->blobs, w->digest, VOL_TEMP, w->data_off, w->size);
		s->pending = xgrow(s->pending, sizeof(*s->pending), s->n_pending + 1,
		                   &s->alloc_pending);
		e = &s->pending[s->n_pending++];
		snprintf(e->digest, sizeof(e->digest), "%s", w->digest);
		e->offset = w->data_off;
		e->length = w->size;
	} else {
		int krc = kill_place(s, w);

		if (!rc && commit)
			rc = krc;
	}
	oci_hasher_free(w->h);
	free(w);
	return commit ? rc : 0;
}

/* --- blob_put and manifest_put ------------------------------------------------------- */

static int copy_from(const struct oci_source *src, const struct oci_sink *sink, const char *digest)
{
	unsigned char *buf = xmalloc(OCITAR_CHUNK);
	ssize_t n;
	int rc = 0;

	while (!rc && (n = src->read(src->ctx, buf, OCITAR_CHUNK)) != 0) {
		if (n == OCI_IO_AGAIN)
			rc = error_set(RV_EUNSUPPORTED, "blob \"%s\": the source is not ready "
			               "(asynchronous sources need the blob writer)", digest);
		else if (n < 0)
			rc = (int)n;
		else
			rc = sink->write(sink->ctx, buf, (size_t)n);
	}
	free(buf);
	return rc;
}

/* Idempotent like a registry's upload: a blob already stored (with that
 * size) is success without reading src. */
int ocitar_blob_put(struct oci_store *st, const char *repo, const struct oci_descriptor *d,
                    const struct oci_source *src)
{
	struct ocitar *s = (struct ocitar *)st;
	const struct ocitar_loc *l = ocitar_blobs_find(&s->blobs, d->digest);
	struct oci_sink sink;
	void *w;
	int rc;

	(void)repo;   /* one blob namespace per archive */
	if (l && l->length == d->size)
		return 0;
	rc = ocitar_writer_open(st, d, &sink, &w);
	if (rc)
		return rc;
	rc = copy_from(src, &sink, d->digest);
	if (rc) {
		ocitar_writer_close(st, w, 0);
		return rc;
	}
	return ocitar_writer_close(st, w, 1);
}

/* A repository as a ref.name component may hold (image-spec
 * annotations.md ref.name grammar), plus the brackets of IPv6 hosts. */
static int repo_ok(const char *repo)
{
	if (!repo || !*repo || strlen(repo) > 512)
		return 0;
	for (const char *p = repo; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || strchr("._-/:+[]", *p)))
			return 0;
	return 1;
}

static int store_manifest_bytes(struct ocitar *s, const struct oci_manifest *m)
{
	struct oci_descriptor d = { 0 };
	struct oci_sink sink;
	void *w;
	int rc;

	if (ocitar_blobs_find(&s->blobs, m->digest))
		return 0;
	snprintf(d.digest, sizeof(d.digest), "%s", m->digest);
	d.size = (int64_t)m->raw_len;
	rc = ocitar_writer_open(&s->base, &d, &sink, &w);
	if (rc)
		return rc;
	rc = sink.write(sink.ctx, m->raw, m->raw_len);
	if (rc) {
		ocitar_writer_close(&s->base, w, 0);
		return rc;
	}
	return ocitar_writer_close(&s->base, w, 1);
}

int ocitar_manifest_put(struct oci_store *st, const char *repo, const char *ref,
                        const struct oci_manifest *m, unsigned flags)
{
	struct ocitar *s = (struct ocitar *)st;
	const char *tag = NULL;
	char what[OCI_DIGEST_MAX + 16];
	int rc = writable(s);

	if (rc)
		return rc;
	if (!repo_ok(repo))
		return error_set(RV_EINVALID, "%s: invalid repository name \"%s\"", s->label,
		                 repo ? repo : "");
	if (!m->media_type || !*m->media_type)
		return error_set(RV_EINVALID, "manifest \"%s\": no media type", m->digest);
	if (ref && strchr(ref, ':')) {
		if (strcmp(ref, m->digest))
			return error_set(RV_EINVALID, "manifest \"%s\" put under digest \"%s\"",
			                 m->digest, ref);
	} else if (ref && oci_ref_tag_valid(ref)) {
		tag = ref;
	} else {
		return error_set(RV_EINVALID, "%s: invalid tag \"%s\"", s->label, ref ? ref : "");
	}
	snprintf(what, sizeof(what), "manifest \"%s\"", m->digest);
	if ((rc = oci_digest_verify(m->digest, m->raw, m->raw_len, what)) != 0)
		return rc;
	if ((rc = store_manifest_bytes(s, m)) != 0)
		return rc;
	if (!(flags & OCI_PUT_CHILD) &&
	    ocitar_reftab_put(&s->refs, repo, tag, m->digest, m->media_type, (int64_t)m->raw_len))
		s->refs_dirty = 1;
	return 0;
}
