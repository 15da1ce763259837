/*
 * fuzz_tar.c — libFuzzer target for tar files as `restore --from FILE.tar`
 * and `catalog rebuild --from DIR` read them: ocitar's checked header scan
 * (libarchive underneath), index.json, manifests and blobs read back by
 * offset, and backup_rebuild's catalog from the volume.
 *
 * Each input is written to one file, a volume of an archive directory
 * (DIR/volumes/000001-20260101T000000Z.tar, on /dev/shm when it exists),
 * then opened both ways:
 *   - as a tarball (ocitar_open_file): every listed image's manifest is
 *     read and its blobs streamed through a sink that hashes them again;
 *   - as an archive directory (ocitar_open), scanned entry by entry,
 *     every range re-hashed, and when it opens, rebuilt into a fresh
 *     catalog that `catalog verify --deep` (backup_verify) then checks.
 *
 * Beyond "no crash, no leak": both opens agree; a refusal leaves no store
 * and says one line; listed names are sorted, unique and well formed;
 * scanned entries are block-aligned, inside the file, in order and apart,
 * and ocitar_verify_range agrees with a hash of the input's own bytes at
 * that place; a blob handed to a sink is exactly its descriptor's size and
 * digest; the rebuild's counts match the scan, and everything it records
 * as a verified copy passes a deep verify.
 */
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "backup/backup.h"
#include "catalog/catalog.h"
#include "oci/digest.h"
#include "oci/manifest.h"
#include "oci/store.h"
#include "ocitar/ocitar.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/xalloc.h"
#include "util/banned.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define VOLUME "volumes/000001-20260101T000000Z.tar"
#define MAX_IMAGES 8    /* bound the work one input can ask for */
#define MAX_BLOBS 16

static char dir[64];
static char *vdir, *volume, *catalog_path;
static struct buf empty_catalog;   /* a freshly migrated catalog file */

static void remove_catalog(void)
{
	static const char *const ext[] = { "", "-wal", "-shm", "-journal", ".lock" };

	for (size_t i = 0; i < sizeof(ext) / sizeof(ext[0]); i++) {
		char *p = xasprintf("%s%s", catalog_path, ext[i]);
		unlink(p);
		free(p);
	}
}

static void cleanup(void)
{
	remove_catalog();
	unlink(volume);
	rmdir(vdir);
	rmdir(dir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";

	(void)argc;
	(void)argv;
	snprintf(dir, sizeof(dir), "%s/rv-fuzz-tar.XXXXXX", base);
	if (!mkdtemp(dir))
		abort();
	vdir = fs_path_join(dir, "volumes");
	volume = fs_path_join(dir, VOLUME);
	catalog_path = fs_path_join(dir, "catalog.db");
	if (mkdir(vdir, 0700))
		abort();
	atexit(cleanup);
	/* Creating a catalog runs every migration (tens of ms); a copy of a
	 * new one opens in about one. */
	{
		catalog *cat = NULL;

		if (catalog_open(&cat, catalog_path, CATALOG_WRITE))
			abort();
		catalog_close(cat);
		if (fs_read_file(&empty_catalog, catalog_path, (size_t)64 << 20))
			abort();
	}
	return 0;
}

static void write_input(const uint8_t *data, size_t size)
{
	int fd = open(volume, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	if (fd < 0 || (size && write(fd, data, size) != (ssize_t)size) || close(fd))
		abort();
}

static void check_refusal(int rc)
{
	if (rc >= 0 || !*error_msg() || strchr(error_msg(), '\n'))
		abort();
}

/* --- Listed images ---------------------------------------------------------- */

struct refs {
	char *last;
	char *repo[MAX_IMAGES], *digest[MAX_IMAGES];
	size_t n;
};

static int one_ref(const struct ocitar_ref *r, void *ctx)
{
	struct refs *l = ctx;
	size_t nl = strlen(r->name), rl = strlen(r->repository);

	if (!nl || oci_digest_validate(r->digest) != 0 || !r->media_type || r->size < 0)
		abort();
	if (l->last && strcmp(l->last, r->name) >= 0)
		abort();   /* sorted, unique */
	if (r->tag && !rl) {
		if (strcmp(r->tag, r->name))
			abort();   /* a bare name ("latest", other tools): found by itself */
	} else if (r->tag) {
		size_t tl = strlen(r->tag);
		if (!tl || nl != rl + 1 + tl || strcmp(r->name + nl - tl, r->tag) || r->name[rl] != ':')
			abort();
	} else if (!strchr(r->name, '@') || strcmp(strchr(r->name, '@') + 1, r->digest)) {
		abort();
	}
	if (rl && strncmp(r->name, r->repository, rl))
		abort();
	free(l->last);
	l->last = xstrdup(r->name);
	if (l->n < MAX_IMAGES) {
		l->repo[l->n] = xstrdup(r->repository);
		l->digest[l->n] = xstrdup(r->digest);
		l->n++;
	}
	return 0;
}

static void refs_release(struct refs *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->repo[i]);
		free(l->digest[i]);
	}
	free(l->last);
}

/* --- Blobs read back ---------------------------------------------------------- */

struct count {
	oci_hasher *h;
	int64_t n;
};

static int count_write(void *ctx, const void *data, size_t len)
{
	struct count *c = ctx;

	oci_hasher_update(c->h, data, len);
	c->n += (int64_t)len;
	return 0;
}

static void read_blob(struct oci_store *s, const char *repo, const struct oci_descriptor *d)
{
	struct count c = { oci_hasher_new(oci_digest_alg_of(d->digest)), 0 };
	struct oci_sink sink = { count_write, &c };
	char got[OCI_DIGEST_MAX];
	int rc = oci_store_blob_get(s, repo, d, &sink);

	oci_hasher_final(c.h, got);
	oci_hasher_free(c.h);
	if (rc == 0 && (c.n != d->size || strcmp(got, d->digest)))
		abort();   /* handed on bytes that are not the blob */
	if (rc)
		check_refusal(rc);
	error_clear();
}

static void read_image(struct oci_store *s, const char *repo, const char *digest, int depth,
                       size_t *budget)
{
	struct oci_manifest *m = NULL;
	int rc = oci_store_manifest_get(s, repo, digest, &m);

	if (rc) {
		if (m)
			abort();
		check_refusal(rc);
		error_clear();
		return;
	}
	if (strcmp(m->digest, digest))
		abort();
	if (m->kind == OCI_KIND_IMAGE && *budget) {
		(*budget)--;
		read_blob(s, repo, &m->config);
	}
	for (size_t i = 0; i < m->n_layers && *budget; i++, (*budget)--)
		read_blob(s, repo, &m->layers[i]);
	for (size_t i = 0; depth < 2 && i < m->n_manifests && *budget; i++, (*budget)--)
		read_image(s, repo, m->manifests[i].digest, depth + 1, budget);
	oci_manifest_free(m);
}

static int restore_from(void)
{
	struct oci_store *s = (struct oci_store *)&s;
	struct refs l = { 0 };
	size_t budget = MAX_BLOBS;
	int rc = ocitar_open_file(&s, volume);

	if (rc) {
		if (s)
			abort();
		check_refusal(rc);
		return rc;
	}
	if (ocitar_refs(s, one_ref, &l) != 0)
		abort();
	for (size_t i = 0; i < l.n; i++)
		read_image(s, l.repo[i], l.digest[i], 0, &budget);
	refs_release(&l);
	oci_store_close(s);
	return 0;
}

/* --- The archive directory ---------------------------------------------------- */

struct scan {
	struct oci_store *s;
	const uint8_t *data;
	int64_t size, end;
	size_t n, bad;
};

static int one_entry(const struct ocitar_entry *e, void *ctx)
{
	struct scan *sc = ctx;
	char want[OCI_DIGEST_MAX];
	int rc;

	if (oci_digest_validate(e->digest) || e->offset % 512 || e->offset < 512 || e->length < 0 ||
	    e->offset < sc->end || e->length > sc->size - e->offset)
		abort();
	sc->end = e->offset + e->length;
	sc->n++;
	oci_digest_compute(want, oci_digest_alg_of(e->digest), sc->data + e->offset,
	                   (size_t)e->length);
	rc = ocitar_verify_range(sc->s, VOLUME, e->offset, e->length, e->digest);
	if (rc != (strcmp(want, e->digest) ? RV_EDIGEST : 0))
		abort();
	sc->bad += rc != 0;
	error_clear();
	return 0;
}

static void rebuild(const struct scan *sc)
{
	struct rebuild_report rr;
	struct verify_report vr = { 0 };
	catalog *cat = NULL;
	int rc;

	remove_catalog();   /* a fresh one each time */
	if (fs_write_atomic(catalog_path, empty_catalog.ptr, empty_catalog.len, 0600) ||
	    catalog_open(&cat, catalog_path, CATALOG_WRITE))
		abort();
	rc = backup_rebuild(cat, dir, &rr);
	if (rc == 0) {
		if (rr.volumes != 1 || rr.blobs + rr.bad != sc->n || rr.bad != sc->bad)
			abort();
		/* What rebuild recorded as verified copies must verify. */
		if (backup_verify(cat, 1, &vr) != 0 || vr.n_failures)
			abort();
		verify_report_release(&vr);
	} else {
		check_refusal(rc);
	}
	catalog_close(cat);
}

static int open_dir(const uint8_t *data, size_t size)
{
	struct oci_store *s = (struct oci_store *)&s;
	struct strlist vols = STRLIST_INIT;
	struct scan sc = { NULL, data, (int64_t)size, 0, 0, 0 };
	int rc = ocitar_open(&s, dir, OCITAR_READ);

	if (rc) {
		if (s)
			abort();
		check_refusal(rc);
		return rc;
	}
	if (ocitar_volumes(s, &vols) || vols.n != 1 || strcmp(vols.v[0], VOLUME))
		abort();
	strlist_release(&vols);
	sc.s = s;
	if (ocitar_scan_volume(s, VOLUME, one_entry, &sc) != 0)
		abort();   /* it opened: the same scan cannot fail now */
	oci_store_close(s);
	rebuild(&sc);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int file_rc, dir_rc;

	write_input(data, size);
	file_rc = restore_from();
	dir_rc = open_dir(data, size);
	if (file_rc != dir_rc)
		abort();   /* one file, one scan: the same verdict */
	return 0;
}
