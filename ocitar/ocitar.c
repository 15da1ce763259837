/*
 * ocitar.c — the archive store's life: opening a store directory (lock,
 * stale temp volumes, scanning committed volumes), the digest table, and
 * closing.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ocitar/internal.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/str.h"
#include "util/strlist.h"
#include "util/timeutil.h"
#include "util/xalloc.h"
#include "util/banned.h"

static void store_close(struct oci_store *st);

const struct oci_store_ops ocitar_ops = {
	.manifest_get = ocitar_manifest_get,
	.manifest_head = ocitar_manifest_head,
	.manifest_put = ocitar_manifest_put,
	.manifest_delete = NULL,   /* archives are append-only */
	.blob_exists = ocitar_blob_exists,
	.blob_get = ocitar_blob_get,
	.blob_put = ocitar_blob_put,
	.tags = ocitar_tags,
	.repositories = ocitar_repositories,
	.referrers = ocitar_referrers,
	.close = store_close,
	.blob_writer_open = ocitar_writer_open,
	.blob_writer_close = ocitar_writer_close,
	.blob_reader_open = ocitar_reader_open,
	.blob_reader_close = ocitar_reader_close,
};

/* --- The digest table --------------------------------------------------------- */

static size_t hash_str(const char *s)
{
	size_t h = 1469598103934665603ULL;   /* FNV-1a */

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

static struct ocitar_loc *slot_for(const struct ocitar_blobtab *t, const char *digest)
{
	size_t i = hash_str(digest) & (t->cap - 1);

	while (t->slots[i].digest && strcmp(t->slots[i].digest, digest))
		i = (i + 1) & (t->cap - 1);
	return &t->slots[i];
}

const struct ocitar_loc *ocitar_blobs_find(const struct ocitar_blobtab *t, const char *digest)
{
	const struct ocitar_loc *l;

	if (!t->cap)
		return NULL;
	l = slot_for(t, digest);
	return l->digest ? l : NULL;
}

static void grow(struct ocitar_blobtab *t)
{
	struct ocitar_blobtab n = { NULL, t->cap ? t->cap * 2 : 256, 0 };

	n.slots = xcalloc(n.cap, sizeof(*n.slots));
	for (size_t i = 0; i < t->cap; i++)
		if (t->slots[i].digest) {
			*slot_for(&n, t->slots[i].digest) = t->slots[i];
			n.n++;
		}
	free(t->slots);
	*t = n;
}

int ocitar_blobs_add(struct ocitar_blobtab *t, const char *digest, int vol, int64_t off,
                     int64_t len)
{
	struct ocitar_loc *l;

	if ((t->n + 1) * 2 > t->cap)
		grow(t);
	l = slot_for(t, digest);
	if (l->digest)
		return 0;
	l->digest = xstrdup(digest);
	l->vol = vol;
	l->offset = off;
	l->length = len;
	t->n++;
	return 1;
}

void ocitar_blobs_set_vol(struct ocitar_blobtab *t, const char *digest, int vol)
{
	struct ocitar_loc *l = t->cap ? slot_for(t, digest) : NULL;

	if (l && l->digest)
		l->vol = vol;
}

void ocitar_blobs_release(struct ocitar_blobtab *t)
{
	for (size_t i = 0; i < t->cap; i++)
		free(t->slots[i].digest);
	free(t->slots);
	t->slots = NULL;
	t->cap = t->n = 0;
}

/* --- Store object --------------------------------------------------------------- */

struct ocitar *ocitar_new(enum ocitar_kind kind, const char *path, unsigned flags)
{
	struct ocitar *s = xcalloc(1, sizeof(*s));

	s->base.ops = &ocitar_ops;
	s->kind = kind;
	s->flags = flags;
	s->path = xstrdup(path);
	s->label = xasprintf("%s \"%s\"", kind == OCITAR_KIND_DIR ? "archive" :
	                     kind == OCITAR_KIND_EXPORT ? "export" : "archive file", path);
	s->base.name = s->label;
	s->lock_fd = -1;
	s->tmp_fd = -1;
	s->mtime = time_now();
	return s;
}

int ocitar_add_vol(struct ocitar *s, const char *rel, const char *path)
{
	s->vols = xgrow(s->vols, sizeof(*s->vols), s->n_vols + 1, &s->alloc_vols);
	s->vols[s->n_vols].rel = xstrdup(rel);
	s->vols[s->n_vols].path = xstrdup(path);
	s->vols[s->n_vols].fd = -1;
	return (int)s->n_vols++;
}

int ocitar_vol_fd(struct ocitar *s, int vol, int *out)
{
	struct ocitar_vol *v;

	if (vol == VOL_TEMP) {
		*out = s->tmp_fd;
		return 0;
	}
	v = &s->vols[vol];
	if (v->fd < 0) {
		v->fd = open(v->path, O_RDONLY | O_CLOEXEC);
		if (v->fd < 0)
			return error_set(errno == ENOENT ? RV_ENOTFOUND : RV_ERROR, "volume \"%s\": %s",
			                 v->path, strerror(errno));
	}
	*out = v->fd;
	return 0;
}

static int load_index_json(struct ocitar *s, const char *json, size_t len, const char *what)
{
	ocitar_reftab_release(&s->refs);
	return ocitar_reftab_parse(&s->refs, json, len, what);
}

static void store_close(struct oci_store *st)
{
	struct ocitar *s = (struct ocitar *)st;

	ocitar_discard_temp(s);
	for (size_t i = 0; i < s->n_vols; i++) {
		if (s->vols[i].fd >= 0)
			close(s->vols[i].fd);
		free(s->vols[i].rel);
		free(s->vols[i].path);
	}
	free(s->vols);
	if (s->lock_fd >= 0)
		close(s->lock_fd);   /* releases the flock */
	ocitar_blobs_release(&s->blobs);
	ocitar_reftab_release(&s->refs);
	free(s->pending);
	free(s->tmp_path);
	free(s->label);
	free(s->path);
	free(s);
}

/* --- Opening a store directory --------------------------------------------------- */

/* "NNNNNN-YYYYMMDDTHHMMSSZ.tar" (six digits or more): its number, else -1. */
static long volume_number(const char *name)
{
	size_t d = strspn(name, "0123456789");
	int64_t n;
	char num[24];

	if (d < 6 || d > 18 || name[d] != '-' || strlen(name + d) != 21 ||
	    strspn(name + d + 1, "0123456789") != 8 || name[d + 9] != 'T' ||
	    strspn(name + d + 10, "0123456789") != 6 || strcmp(name + d + 16, "Z.tar"))
		return -1;
	memcpy(num, name, d);
	num[d] = '\0';
	return str_to_int64(num, &n) ? -1 : (long)n;
}

static int cmp_volume(const void *a, const void *b)
{
	const char *x = *(const char *const *)a, *y = *(const char *const *)b;
	long nx = volume_number(x), ny = volume_number(y);

	return nx != ny ? (nx < ny ? -1 : 1) : strcmp(x, y);
}

/* Committed volume names in DIR/volumes, oldest first; with remove_temps,
 * deletes ".tmp-*" volumes (only a writer holding the lock may). */
static int list_dir(struct ocitar *s, struct strlist *out, int remove_temps)
{
	char *vdir = fs_path_join(s->path, "volumes");
	DIR *d = opendir(vdir);
	struct dirent *de;
	int rc = 0;

	if (!d) {
		rc = error_set(errno == ENOENT ? RV_ENOTFOUND : RV_ERROR, "%s: \"%s\": %s", s->label,
		               vdir, strerror(errno));
		free(vdir);
		return rc;
	}
	while ((de = readdir(d)) != NULL) {
		if (volume_number(de->d_name) >= 0)
			strlist_add(out, de->d_name);
		else if (remove_temps && str_has_prefix(de->d_name, ".tmp-") &&
		         unlinkat(dirfd(d), de->d_name, 0) && errno != ENOENT)
			rc = error_set(RV_ERROR, "%s: removing stale \"%s\": %s", s->label,
			               de->d_name, strerror(errno));
	}
	closedir(d);
	free(vdir);
	if (out->n)
		qsort(out->v, out->n, sizeof(*out->v), cmp_volume);
	return rc;
}

int ocitar_next_number(struct ocitar *s, long *out)
{
	struct strlist l = STRLIST_INIT;
	int rc = list_dir(s, &l, 0);

	*out = 1;
	if (!rc && l.n)
		*out = volume_number(l.v[l.n - 1]) + 1;
	/* Volumes this store knows of count even if the listing missed them. */
	for (size_t i = 0; !rc && i < s->n_vols; i++) {
		const char *base = strrchr(s->vols[i].rel, '/');
		long n = volume_number(base ? base + 1 : s->vols[i].rel);

		if (n >= *out)
			*out = n + 1;
	}
	strlist_release(&l);
	return rc;
}

struct load {
	struct ocitar *s;
	int vol;
	struct buf index;
	int have_index;
};

/* A blob stored twice in one tar is refused: an extraction keeps the last
 * copy, a lookup by digest the first, and when they differ one of them
 * lies. Our writer never stores a blob twice in a volume (write.c). Across
 * volumes the first location wins. */
static int load_blob(void *ctx, const char *digest, int64_t offset, int64_t length)
{
	struct load *l = ctx;
	const struct ocitar_loc *was;

	if (ocitar_blobs_add(&l->s->blobs, digest, l->vol, offset, length))
		return 0;
	was = ocitar_blobs_find(&l->s->blobs, digest);
	if (was && was->vol == l->vol)
		return error_set(RV_EINVALID, "volume \"%s\": entry \"blobs/%.*s/%s\": appears twice",
		                 l->s->vols[l->vol].path, (int)(strchr(digest, ':') - digest), digest,
		                 oci_digest_hex(digest));
	return 0;
}

static int load_index(void *ctx, const char *json, size_t len)
{
	struct load *l = ctx;

	buf_reset(&l->index);
	l->have_index = 1;
	return buf_add(&l->index, json, len);
}

/* Scans one tar into s: its blobs, and with want_index its index.json. */
int ocitar_load_tar(struct ocitar *s, int vol, int want_index)
{
	struct load l = { s, vol, BUF_INIT, 0 };
	struct ocitar_scan_cb cb = { load_blob, want_index ? load_index : NULL, &l };
	char *label = xasprintf("volume \"%s\"", s->vols[vol].path);
	int rc = ocitar_scan(s->vols[vol].path, label, &cb);

	if (!rc && want_index && !l.have_index)
		rc = error_set(RV_EINVALID, "%s: no index.json", label);
	if (!rc && want_index)
		rc = load_index_json(s, buf_cstr(&l.index), l.index.len, label);
	buf_release(&l.index);
	free(label);
	return rc;
}

static int load_volumes(struct ocitar *s)
{
	struct strlist names = STRLIST_INIT;
	int rc = list_dir(s, &names, (s->flags & OCITAR_WRITE) != 0);

	for (size_t i = 0; !rc && i < names.n; i++) {
		char *rel = xasprintf("volumes/%s", names.v[i]);
		char *path = fs_path_join(s->path, rel);
		int vol = ocitar_add_vol(s, rel, path);

		free(rel);
		free(path);
		/* The newest volume's index.json lists every image so far. */
		rc = ocitar_load_tar(s, vol, i + 1 == names.n);
	}
	if (!rc && !names.n && !(s->flags & OCITAR_WRITE))
		rc = error_set(RV_ENOTFOUND, "%s: no volumes", s->label);
	strlist_release(&names);
	return rc;
}

/* Only one run writes a store: it holds an flock on DIR/.lock until close. */
static int take_lock(struct ocitar *s)
{
	char *lock = fs_path_join(s->path, ".lock");
	int rc = 0;

	s->lock_fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (s->lock_fd < 0)
		rc = error_set(RV_ERROR, "%s: \"%s\": %s", s->label, lock, strerror(errno));
	else if (flock(s->lock_fd, LOCK_EX | LOCK_NB))
		rc = errno == EWOULDBLOCK
			? error_set(RV_EEXISTS, "%s is busy: another run holds \"%s\"", s->label, lock)
			: error_set(RV_ERROR, "%s: lock \"%s\": %s", s->label, lock, strerror(errno));
	free(lock);
	return rc;
}

static int prepare_dir(struct ocitar *s)
{
	char *vdir = fs_path_join(s->path, "volumes");
	int rc = fs_mkdir_p(s->path, 0700);

	if (!rc)
		rc = fs_mkdir_p(vdir, 0700);
	if (!rc)
		rc = take_lock(s);
	free(vdir);
	return rc;
}

int ocitar_open(struct oci_store **out, const char *dir, unsigned flags)
{
	struct ocitar *s;
	int rc = 0;

	*out = NULL;
	if (!dir || !*dir)
		return error_set(RV_EINVALID, "archive: empty directory name");
	s = ocitar_new(OCITAR_KIND_DIR, dir, flags);
	if (flags & OCITAR_WRITE)
		rc = prepare_dir(s);
	if (!rc)
		rc = load_volumes(s);
	if (rc) {
		store_close(&s->base);
		return rc;
	}
	*out = &s->base;
	return 0;
}

/* --- Small public queries ---------------------------------------------------------- */

int ocitar_volumes(struct oci_store *st, struct strlist *out)
{
	struct ocitar *s = (struct ocitar *)st;

	for (size_t i = 0; i < s->n_vols; i++)
		strlist_add(out, s->vols[i].rel);
	return 0;
}

const char *ocitar_path(struct oci_store *st)
{
	return ((struct ocitar *)st)->path;
}

int ocitar_refs(struct oci_store *st, ocitar_ref_fn fn, void *ctx)
{
	struct ocitar *s = (struct ocitar *)st;
	int rc = 0;

	for (size_t i = 0; !rc && i < s->refs.n; i++) {
		const struct ocitar_ent *e = &s->refs.v[i];
		struct ocitar_ref r = { e->name, e->repository, e->tag, e->digest, e->media_type,
		                        e->size };

		rc = fn(&r, ctx);
	}
	return rc;
}
