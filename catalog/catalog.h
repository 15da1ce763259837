/*
 * catalog.h — the SQLite catalog: what the primary had, and where verified
 * copies of it live.
 *
 * It answers three questions, each from rows written in transactions:
 *   - what did HOST/REPO:TAG point to, and when (tag history);
 *   - what is manifest D: its exact bytes and what it references;
 *   - where is a verified copy of digest D (which store; for archives,
 *     which volume, byte offset and length).
 *
 * The catalog is written only after the fact it records is true: a copy
 * row means the bytes were read back from that store and hashed to the
 * digest. A top-level manifest's copy row is written last, after every
 * child, config, layer and referrer it needs, so "the manifest has a copy
 * in store S" means "the whole image is restorable from S".
 *
 * Files: created 0600 (directory 0700), WAL journal, busy timeout. Writers
 * take an exclusive lock file "<path>.lock" (flock) for their whole life,
 * so two runs cannot interleave; the second gets RV_EEXISTS naming the
 * lock. Readers take no lock. Every function returns 0 or an RV_E* code
 * with the error message set (util/error.h).
 */
#ifndef RV_CATALOG_CATALOG_H
#define RV_CATALOG_CATALOG_H

#include <stddef.h>
#include <stdint.h>
#include "oci/digest.h"
#include "oci/manifest.h"
#include "util/strlist.h"

typedef struct catalog catalog;

enum {
	CATALOG_READ = 0,       /* open existing, read only; RV_ENOTFOUND when missing */
	CATALOG_WRITE = 1 << 0, /* create if missing, migrate, take the writer lock */
};

/* Opens (and with CATALOG_WRITE creates and migrates) the catalog at path.
 * Migrations are numbered and each runs in one transaction; a catalog newer
 * than this binary is refused (RV_EUNSUPPORTED). A reader cannot migrate:
 * an older schema is RV_EUNSUPPORTED for it, a file no writer has
 * initialised RV_ENOTFOUND. A SQLite file that is not a regvault catalog is
 * RV_EINVALID. Writes on a catalog opened CATALOG_READ fail (RV_ERROR).
 * A reader whose directory is read-only (no -shm can be made) opens the
 * file as immutable when no -wal holds commits; else RV_ERROR saying so. */
int catalog_open(catalog **out, const char *path, unsigned flags);
/* NULL is a no-op. Releases the writer lock. */
void catalog_close(catalog *c);
/* "$REGVAULT_CATALOG", else "$XDG_DATA_HOME/regvault/catalog.db", else
 * "~/.local/share/regvault/catalog.db". Caller frees. */
char *catalog_default_path(void);

/* Explicit transactions for batches (one commit per image is far faster
 * than one per row). Nested begin is an error. Inside a batch, a function
 * that fails undoes only its own writes (a savepoint) and the batch stays
 * open; outside one, every function is its own transaction. A failed
 * commit is rolled back (catalog_rollback() after it is a no-op). */
int catalog_begin(catalog *c);
int catalog_commit(catalog *c);
void catalog_rollback(catalog *c);

/* --- Runs ------------------------------------------------------------------ */

/* Records a run (command name and its arguments without secrets, as JSON
 * text). *out_id identifies it in other rows. */
int catalog_run_start(catalog *c, const char *command, const char *args_json,
                      int64_t *out_id);
/* outcome: "ok", "partial" (some items failed), "failed". summary: JSON text or NULL. */
int catalog_run_finish(catalog *c, int64_t run_id, const char *outcome, const char *summary_json);

/* One run as recorded. */
struct catalog_run {
	int64_t id;
	char command[32];            /* "backup", "mirror", "prune", "restore", "rebuild" */
	char outcome[16];            /* "ok", "partial", "failed"; "" while running or killed */
	int64_t started;             /* epoch seconds */
	int64_t finished;            /* 0 while running, or when it was killed */
	int64_t undone_at;           /* 0 unless restore --run undid it */
};
/* The run id. RV_ENOTFOUND when the catalog has no such run; RV_ERROR (a
 * damaged catalog) when its command does not fit out->command. */
int catalog_run_get(catalog *c, int64_t id, struct catalog_run *out);

/* --- Stores: places that hold copies ------------------------------------- */

enum catalog_store_kind { CATALOG_STORE_ARCHIVE = 1, CATALOG_STORE_REGISTRY = 2 };

/* The id of the store (archive: absolute directory path; registry:
 * "host[:port][/prefix]"), created on first use (a reader gets
 * RV_ENOTFOUND for a store no writer has recorded). */
int catalog_store_id(catalog *c, enum catalog_store_kind kind, const char *location,
                     int64_t *out_id);

/* --- What the primary had -------------------------------------------------- */

/* Records that registry/repo:tag pointed to digest at time `when` (epoch
 * seconds) during run_id: extends the current history row when the digest
 * is unchanged (last_seen = when), else opens a new row. */
int catalog_tag_seen(catalog *c, const char *registry, const char *repo, const char *tag,
                     const char *digest, int64_t when, int64_t run_id);
/* What registry/repo:tag pointed to at time `at` (0 = most recently seen):
 * the row with first_seen <= at, latest first. RV_ENOTFOUND when unknown
 * (or first seen after `at`). */
int catalog_tag_resolve(catalog *c, const char *registry, const char *repo, const char *tag,
                        int64_t at, char out_digest[OCI_DIGEST_MAX]);

struct catalog_tag_event {
	char digest[OCI_DIGEST_MAX];
	int64_t first_seen;
	int64_t last_seen;
};
/* Every digest the tag pointed to, oldest first. *out is a new array (caller
 * frees). RV_ENOTFOUND when the tag has no history. */
int catalog_tag_history(catalog *c, const char *registry, const char *repo, const char *tag,
                        struct catalog_tag_event **out, size_t *n);

/* --- Manifests and blobs (immutable by digest) ----------------------------- */

/* Stores a manifest's exact bytes, media type, size and created time (epoch
 * seconds, 0 when unknown), the repository it was seen in, and every
 * digest it references (role child / config / layer / subject, in order),
 * with the referenced blobs' sizes. A second put of the same digest only
 * adds the repository (and sets created if it was unknown). RV_EDIGEST when
 * m->raw does not hash to m->digest. */
int catalog_manifest_put(catalog *c, const char *registry, const char *repo,
                         const struct oci_manifest *m, int64_t created);
/* The manifest parsed from its stored bytes (which hash to digest).
 * RV_ENOTFOUND when the catalog does not have it, RV_EDIGEST when the
 * stored bytes no longer hash to digest (a damaged catalog). */
int catalog_manifest_get(catalog *c, const char *digest, struct oci_manifest **out);
/* The created time stored with the manifest (0 when unknown).
 * RV_ENOTFOUND when the catalog does not have the manifest. */
int catalog_manifest_created(catalog *c, const char *digest, int64_t *out);
/* The same, and when the catalog first saw the manifest (epoch seconds):
 * the "created" of last resort for images that do not say (cosign
 * signatures say 0001-01-01). first_seen may be NULL. */
int catalog_manifest_times(catalog *c, const char *digest, int64_t *created,
                           int64_t *first_seen);

/* --- Copies ---------------------------------------------------------------- */

/* Records that store_id holds a verified copy of digest (manifest or blob):
 * verified_at epoch seconds, how = "read-back", "deep", "rebuild", "head". */
int catalog_copy_put(catalog *c, int64_t store_id, const char *digest, int64_t verified_at,
                     const char *how, int64_t run_id);
/* 0 when store_id has a verified copy of digest, RV_ENOTFOUND otherwise. */
int catalog_copy_has(catalog *c, int64_t store_id, const char *digest);
/* Forgets a copy that failed verification (and its blob locations in
 * store_id's volumes). Forgetting a copy the catalog lacks succeeds. */
int catalog_copy_drop(catalog *c, int64_t store_id, const char *digest);

/* Records a top-level reference the store holds: registry/repo:tag (tag may
 * be NULL for an image stored by digest) → digest, stored during run_id.
 * A store lists a tag once: when it moves, the image it named stays listed
 * by digest (as an archive's index.json keeps "<repo>@<digest>"). An image
 * a tag names in that store and repository is not also listed by digest. */
int catalog_store_ref_put(catalog *c, int64_t store_id, const char *registry,
                          const char *repo, const char *tag, const char *digest,
                          int64_t run_id);

/* The digest store_id holds under registry/repo:tag. RV_ENOTFOUND when it
 * holds nothing under that name. */
int catalog_store_ref_get(catalog *c, int64_t store_id, const char *registry, const char *repo,
                          const char *tag, char out_digest[OCI_DIGEST_MAX]);

/* --- Recording a whole image ------------------------------------------------ */

struct catalog_image_manifest {
	const struct oci_manifest *m;
	int top;                 /* listed on its own (image, referrer, tagged attachment) */
	const char *tag;         /* the tag a top is held under, NULL = by digest */
	int64_t created;
};

struct catalog_image_object {
	const char *digest;      /* a manifest or blob the store now holds */
	const char *how;         /* how it was verified: "read-back", "head", … */
};

struct catalog_image {
	int64_t store_id;
	const char *registry, *repo, *tag;   /* the image as known on the primary */
	const char *digest;                  /* its own manifest */
	const struct catalog_image_manifest *manifests;
	size_t n_manifests;
	const struct catalog_image_object *objects;   /* the image's own digest may be among them */
	size_t n_objects;
	int64_t verified_at, run_id;
	/* 0 when the store does not hold the image's own manifest (an index
	 * --platform left incomplete on a registry): no reference to it and no
	 * copy row for it are written, only its parts. */
	int held;
};

/* Records that a store holds an image, in one atomic step: every manifest
 * (bytes and references), a copy row per object, the store references of
 * every top (the image's own last), and then — only when the catalog can
 * walk the image's whole closure and finds a copy of each part in this
 * store — the image's own copy row, which is the promise that the image can
 * be restored from the store as a whole. *complete says whether that last
 * row was written (0: e.g. --platform left children out). */
int catalog_record_image(catalog *c, const struct catalog_image *img, int *complete);

/* A copy that failed verification, for catalog_copies_drop(). */
struct catalog_copy_ref {
	int64_t store_id;
	char digest[OCI_DIGEST_MAX];
};
/* Drops every listed copy in one transaction (nothing dropped on failure). */
int catalog_copies_drop(catalog *c, const struct catalog_copy_ref *v, size_t n);

/* --- Who holds what, and names for "did you mean" ------------------------ */

struct catalog_holder {
	int64_t store_id;
	const char *store_kind;      /* "archive" / "registry" */
	const char *store;           /* its location */
	const char *registry;        /* the primary's names the image is held under */
	const char *repository;
	const char *tag;             /* NULL for a by-digest reference */
	int64_t verified_at;
};
typedef int (*catalog_holder_fn)(const struct catalog_holder *h, void *ctx);
/* Every top-level reference to digest in a store that holds a verified copy
 * of it, oldest verification first. fn's non-zero return stops the walk. */
int catalog_holders(catalog *c, const char *digest, catalog_holder_fn fn, void *ctx);
/* The same for a manifest held only as an index's child (no top-level
 * reference of its own): every top-level reference to an index listing
 * digest as a child, in a store holding verified copies of both; the
 * holder's repository is the index's, where the child sits in that store. */
int catalog_child_holders(catalog *c, const char *digest, catalog_holder_fn fn, void *ctx);

/* Every tag the catalog has seen in registry/repo, and every repository it
 * knows in registry (sorted), for suggestions when a name is not found. */
int catalog_known_tags(catalog *c, const char *registry, const char *repo, struct strlist *out);
int catalog_known_repositories(catalog *c, const char *registry, struct strlist *out);
/* Every digest the catalog knows in registry/repo — a tag pointed to it
 * once (tag history), or it was recorded there (a backup by digest, a
 * plan, an index's child) — sorted: prune's way to find untagged
 * manifests on registries that cannot list them. */
int catalog_known_digests(catalog *c, const char *registry, const char *repo,
                          struct strlist *out);

/* --- The deletion journal (prune writes, restore --run reads) ------------- */

/* Records, before the DELETE is sent, that run_id is about to delete
 * registry/repo@digest which has these tags. *out_id names the row. */
int catalog_deletion_record(catalog *c, int64_t run_id, const char *registry, const char *repo,
                            const char *digest, const char *const *tags, size_t n_tags,
                            const char *reason, int64_t *out_id);
/* The registry confirmed the delete at `when`. */
int catalog_deletion_confirm(catalog *c, int64_t id, int64_t when);
/* restore --run brought it back at `when`. */
int catalog_deletion_undone(catalog *c, int64_t id, int64_t when);

struct catalog_deletion {
	int64_t id, run_id;
	const char *registry, *repository, *digest, *reason;
	const char *const *tags;
	size_t n_tags;
	int64_t recorded_at, deleted_at, undone_at;   /* 0 when not (yet) */
};
typedef int (*catalog_deletion_fn)(const struct catalog_deletion *d, void *ctx);
/* Every deletion of run_id, in the order recorded. RV_ENOTFOUND when no
 * such run exists. */
int catalog_deletions(catalog *c, int64_t run_id, catalog_deletion_fn fn, void *ctx);
/* Marks a whole run undone. */
int catalog_run_undone(catalog *c, int64_t run_id, int64_t when);

/* --- Archive volumes and blob locations ------------------------------------- */

/* A finished volume of an archive store: path relative to the store
 * directory ("volumes/000003-20261123T190000Z.tar"; shorter than
 * catalog_location.volume, never absolute or with ".."), size and sha256
 * of the whole file. RV_EEXISTS when the store has that path already. */
int catalog_volume_add(catalog *c, int64_t store_id, const char *path, int64_t size,
                       const char *sha256, int64_t run_id, int64_t *out_id);
/* Where a blob's bytes start in a volume, and how many there are. */
int catalog_location_put(catalog *c, int64_t volume_id, const char *digest, int64_t offset,
                         int64_t length);

struct catalog_location {
	char volume[512];       /* path relative to the store directory */
	int64_t offset;
	int64_t length;
};
/* Where store_id keeps digest (its oldest volume holding it). RV_ENOTFOUND
 * when it has no location. */
int catalog_location_get(catalog *c, int64_t store_id, const char *digest,
                         struct catalog_location *out);

/* --- Listing, for `catalog list/show/verify` ------------------------------- */

/* One top-level reference held by a store. Strings valid during the callback. */
struct catalog_entry {
	const char *store_kind;     /* "archive" / "registry" */
	const char *store;          /* its location */
	int64_t store_id;
	const char *registry;
	const char *repository;
	const char *tag;            /* NULL for a by-digest entry */
	const char *digest;
	const char *media_type;
	int64_t size;               /* manifest bytes */
	int64_t total_size;         /* manifest + every blob it references, transitively */
	int64_t created;
	int64_t stored_at;
	int64_t verified_at;        /* of the top-level manifest's copy */
};
typedef int (*catalog_entry_fn)(const struct catalog_entry *e, void *ctx);
/* Every entry whose "registry/repository:tag" matches glob (NULL = all),
 * sorted by registry, repository, tag. A non-zero return from fn stops the
 * walk and is returned. */
int catalog_entries(catalog *c, const char *glob, catalog_entry_fn fn, void *ctx);

/* One copy row with its location (for verify). */
struct catalog_copy {
	int64_t store_id;
	const char *store_kind;
	const char *store;
	const char *digest;
	int64_t size;                /* from the blobs/manifests table; -1 when unknown */
	int is_manifest;
	const struct catalog_location *location;   /* NULL when none */
};
typedef int (*catalog_copy_fn)(const struct catalog_copy *cp, void *ctx);
/* Every copy (of store_id, or of all stores when store_id is 0), by digest.
 * The location is the one catalog_location_get() gives. */
int catalog_copies(catalog *c, int64_t store_id, catalog_copy_fn fn, void *ctx);

/* Every digest the manifest references, transitively (children, their
 * configs and layers, subjects excluded), each once, in no particular
 * order. fn's return stops the walk. RV_ENOTFOUND, naming it, when the
 * manifest or any child manifest is not in the catalog — checked before fn
 * is called at all, so an incomplete closure never looks complete. */
typedef int (*catalog_digest_fn)(const char *digest, int64_t size, int is_manifest, void *ctx);
int catalog_closure(catalog *c, const char *digest, catalog_digest_fn fn, void *ctx);

#endif
