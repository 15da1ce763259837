/*
 * export.c — one self-contained OCI layout tarball (backup --to FILE.tar),
 * and any OCI layout tarball opened read-only.
 *
 * The export is written exactly like a store volume (reserved places,
 * pwrite, verify before rename) and ends with oci-layout, index.json and a
 * Docker manifest.json, following the "portable recipe" (oci-notes §6.4,
 * the layout Docker 25's `docker save` emits) with one deliberate change:
 *
 *   - index.json names each image "<repository>:<tag>" (or
 *     "<repository>@<digest>") in BOTH io.containerd.image.name and
 *     org.opencontainers.image.ref.name, as store volumes do. containerd,
 *     Docker and podman name loaded images after io.containerd.image.name;
 *     skopeo matches ref.name exactly, so users pass the full name:
 *         skopeo copy oci-archive:FILE.tar:reg.example.com/team/app:1.2 docker://…
 *     A tag-only ref.name ("1.2") would be ambiguous as soon as two
 *     repositories in one export share a tag, and skopeo would silently
 *     pick one.
 *   - manifest.json (for `docker load` on the classic graphdriver store)
 *     has one entry per image manifest, RepoTags in familiar form. An
 *     index contributes its child for the platform regvault was built for
 *     (linux/<arch>), if that child is in the file. Entries whose config is
 *     not an image config, whose layers are not tar layers (signatures,
 *     SBOMs, other artifacts) or are missing from the file are left out:
 *     moby's loader stops at the first entry it cannot load. Such images
 *     are still in index.json for the OCI loaders.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <jansson.h>

#include "ocitar/internal.h"
#include "oci/reference.h"
#include "util/error.h"
#include "util/str.h"
#include "util/xalloc.h"
#include "util/banned.h"

#if defined(__x86_64__)
#define HOST_ARCH "amd64"
#elif defined(__aarch64__)
#define HOST_ARCH "arm64"
#elif defined(__arm__)
#define HOST_ARCH "arm"
#elif defined(__i386__)
#define HOST_ARCH "386"
#elif defined(__powerpc64__) && defined(__LITTLE_ENDIAN__)
#define HOST_ARCH "ppc64le"
#elif defined(__s390x__)
#define HOST_ARCH "s390x"
#elif defined(__riscv) && __riscv_xlen == 64
#define HOST_ARCH "riscv64"
#else
#define HOST_ARCH "unknown"
#endif

int ocitar_export_open(struct oci_store **out, const char *file)
{
	*out = NULL;
	if (!file || !*file)
		return error_set(RV_EINVALID, "export: empty file name");
	*out = &ocitar_new(OCITAR_KIND_EXPORT, file, OCITAR_WRITE)->base;
	return 0;
}

int ocitar_open_file(struct oci_store **out, const char *file)
{
	struct ocitar *s;
	int rc;

	*out = NULL;
	if (!file || !*file)
		return error_set(RV_EINVALID, "archive file: empty file name");
	s = ocitar_new(OCITAR_KIND_FILE, file, 0);
	rc = ocitar_load_tar(s, ocitar_add_vol(s, file, file), 1);
	if (rc) {
		oci_store_close(&s->base);
		return rc;
	}
	*out = &s->base;
	return 0;
}

/* --- manifest.json ---------------------------------------------------------------- */

static int type_is(const char *mt, const char *prefix)
{
	return mt && !strncasecmp(mt, prefix, strlen(prefix));
}

/* "docker.io/library/alpine" → "alpine", "docker.io/u/app" → "u/app"
 * (distribution/reference FamiliarName), everything else unchanged. */
static char *familiar(const char *repo, const char *tag)
{
	const char *r = repo;

	if (str_has_prefix(r, "docker.io/")) {
		r += strlen("docker.io/");
		if (str_has_prefix(r, "library/") && !strchr(r + strlen("library/"), '/'))
			r += strlen("library/");
	}
	return xasprintf("%s:%s", r, tag);
}

static char *blob_path(const char *digest)
{
	return xasprintf("blobs/%.*s/%s", (int)(strchr(digest, ':') - digest), digest,
	                 oci_digest_hex(digest));
}

/* The image manifest docker load should get for a listed manifest: itself,
 * or an index's linux/HOST_ARCH child. NULL (no error) when there is none. */
static int pick_image(struct ocitar *s, const struct ocitar_ent *e, struct oci_manifest **out)
{
	struct oci_manifest *m = NULL;
	const struct oci_descriptor *c;
	int rc = ocitar_read_manifest(s, e->digest, e->media_type, &m);

	*out = NULL;
	if (rc || m->kind == OCI_KIND_IMAGE) {
		*out = m;
		return rc;
	}
	for (size_t i = 0; m->kind == OCI_KIND_INDEX && i < m->n_manifests; i++) {
		c = &m->manifests[i];
		if (!c->platform || strcmp(c->platform->os, "linux") ||
		    strcmp(c->platform->architecture, HOST_ARCH) ||
		    oci_media_type_kind(c->media_type) != OCI_KIND_IMAGE ||
		    !ocitar_blobs_find(&s->blobs, c->digest))
			continue;
		rc = ocitar_read_manifest(s, c->digest, c->media_type, out);
		break;
	}
	oci_manifest_free(m);
	return rc;
}

/* {"Config", "RepoTags", "Layers"} for an image moby can load, else NULL. */
static json_t *docker_entry(struct ocitar *s, const struct oci_manifest *m)
{
	json_t *d, *layers;
	char *p;

	if (!type_is(m->config.media_type, OCI_MT_IMAGE_CONFIG) &&
	    !type_is(m->config.media_type, OCI_MT_DOCKER_CONFIG))
		return NULL;
	if (!ocitar_blobs_find(&s->blobs, m->config.digest))
		return NULL;
	for (size_t i = 0; i < m->n_layers; i++)
		if ((!type_is(m->layers[i].media_type, "application/vnd.oci.image.layer.v1.tar") &&
		     !type_is(m->layers[i].media_type, "application/vnd.docker.image.rootfs.diff.tar")) ||
		    m->layers[i].n_urls || !ocitar_blobs_find(&s->blobs, m->layers[i].digest))
			return NULL;
	d = json_object();
	layers = json_array();
	p = blob_path(m->config.digest);
	json_object_set_new(d, "Config", json_string(p));
	free(p);
	json_object_set_new(d, "RepoTags", json_array());
	for (size_t i = 0; i < m->n_layers; i++) {
		p = blob_path(m->layers[i].digest);
		json_array_append_new(layers, json_string(p));
		free(p);
	}
	json_object_set_new(d, "Layers", layers);
	return d;
}

/* One listed image into the manifest.json list (by image digest, so
 * several tags of one image share an entry, as docker save writes them). */
static int add_docker(struct ocitar *s, const struct ocitar_ent *e, json_t *list, json_t *by)
{
	struct oci_manifest *m = NULL;
	json_t *d;
	char *name;
	int rc = pick_image(s, e, &m);

	if (rc || !m)
		return rc;
	d = json_object_get(by, m->digest);
	if (!d && (d = docker_entry(s, m)) != NULL) {
		json_array_append_new(list, d);
		json_object_set(by, m->digest, d);
	}
	if (d && e->tag && *e->repository && !oci_ref_is_attachment_tag(e->tag)) {
		name = familiar(e->repository, e->tag);
		json_array_append_new(json_object_get(d, "RepoTags"), json_string(name));
		free(name);
	}
	oci_manifest_free(m);
	return 0;
}

static int docker_manifest(struct ocitar *s, char **out, size_t *len)
{
	json_t *list = json_array(), *by = json_object();
	int rc = 0;

	for (size_t i = 0; !rc && i < s->refs.n; i++)
		rc = add_docker(s, &s->refs.v[i], list, by);
	if (!rc) {
		*out = json_dumps(list, JSON_COMPACT | JSON_PRESERVE_ORDER);
		if (!*out)
			xdie("out of memory (manifest.json)");
		*len = strlen(*out);
	}
	json_decref(by);
	json_decref(list);
	return rc;
}

/* --- Commit ----------------------------------------------------------------------------- */

int ocitar_export_commit(struct ocitar *s, struct ocitar_commit_info *info)
{
	char *index = NULL, *docker = NULL;
	size_t ilen = 0, dlen = 0;
	int rc = docker_manifest(s, &docker, &dlen);

	if (!rc) {
		index = ocitar_reftab_json(&s->refs, &ilen);
		rc = ocitar_append_small(s, "oci-layout", OCI_LAYOUT_FILE, strlen(OCI_LAYOUT_FILE));
	}
	if (!rc)
		rc = ocitar_append_small(s, "index.json", index, ilen);
	if (!rc)
		rc = ocitar_append_small(s, "manifest.json", docker, dlen);
	if (!rc)
		rc = ocitar_seal_temp(s, info);
	/* Replaces an older FILE only now, after the new one is verified. */
	if (!rc && rename(s->tmp_path, s->path))
		rc = error_set(RV_ERROR, "%s: rename \"%s\": %s", s->label, s->tmp_path,
		               strerror(errno));
	if (!rc)
		rc = ocitar_fsync_dir_of(s->path);
	if (!rc) {
		ocitar_adopt_temp(s, s->path, s->path);
		s->sealed = 1;
		info->volume = xstrdup(s->path);
	}
	free(index);
	free(docker);
	return rc;
}
