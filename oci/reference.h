/*
 * reference.h — image references, parsed and normalised as Docker does
 * (distribution/reference normalize.go).
 *
 *   alpine                      → docker.io/library/alpine:latest
 *   reg.example.com:5000/a/b@sha256:… → registry "reg.example.com:5000"
 *   localhost/app:1             → registry "localhost"
 *   [::1]:5000/app              → registry "[::1]:5000"
 *
 * The first path component is a registry when it is "localhost", holds a
 * '.' or ':', or starts with '['. "index.docker.io" becomes "docker.io";
 * single-component names on docker.io get "library/". (Docker also takes an
 * uppercase first component as a host; we do not, so "Foo/bar" is refused
 * with "repository must be lowercase".)
 */
#ifndef RV_OCI_REFERENCE_H
#define RV_OCI_REFERENCE_H

struct oci_ref {
	char *registry;    /* "docker.io", "reg.example.com:5000", "[::1]:5000" */
	char *repository;  /* "library/alpine"; NULL for a bare host (OCI_REF_HOST_OK) */
	char *tag;         /* NULL when absent (and OCI_REF_DEFAULT_TAG not asked) */
	char *digest;      /* NULL when absent */
};

#define OCI_REF_INIT { NULL, NULL, NULL, NULL }

enum {
	/* A string with no '/' or '@' that is clearly a host is a registry
	 * alone, repository NULL: "localhost", "[::1]" or a dotted name, each
	 * with an optional numeric port ("reg.io", "localhost:5000"). Anything
	 * else stays an image: "alpine:3.19", and also "myreg:5000" (Docker
	 * reads that as image myreg, tag 5000) -- unless OCI_REF_NO_TAG is
	 * given too: where no tag is allowed, "myreg:5000" is that registry.
	 * Used by `ls HOST`, `--to` and SOURCEs. */
	OCI_REF_HOST_OK = 1 << 0,
	/* Add tag "latest" when neither tag nor digest is given. */
	OCI_REF_DEFAULT_TAG = 1 << 1,
	/* The repository may hold glob characters (* ? [ ]), as in SOURCEs. */
	OCI_REF_GLOB_OK = 1 << 2,
	/* Neither tag nor digest may be given (HOST/REPO listings). */
	OCI_REF_NO_TAG = 1 << 3,
};

/* Parses s into out (fields owned by out). RV_EINVALID with a one-line
 * message that quotes s and says what is wrong (uppercase repository,
 * tag too long, bad digest, name over 255…). out is untouched on error. */
int oci_ref_parse(struct oci_ref *out, const char *s, unsigned flags);
/* Parses a location "HOST[:PORT][/PATH]" — a registry and an optional
 * repository path under it, as in `mirror --to` and `restore --to`. Not an
 * image name: no Docker Hub "library/" rule, no tag, and the first part
 * must look like a host (see OCI_REF_HOST_OK). *path is NULL without one.
 * RV_EINVALID with a message quoting s. Caller frees both. */
int oci_ref_parse_location(const char *s, char **registry, char **path);
/* The canonical string "registry/repository[:tag][@digest]". Caller frees. */
char *oci_ref_string(const struct oci_ref *r);
void oci_ref_release(struct oci_ref *r);

/* Validators for single parts, each 1 when valid (distribution-spec regexes). */
int oci_ref_tag_valid(const char *tag);
int oci_ref_repository_valid(const char *repo);

/* The host to talk to for a registry name: "docker.io" → "registry-1.docker.io";
 * everything else unchanged. */
const char *oci_ref_api_host(const char *registry);

/* 1 when the tag is a cosign attachment or referrers fallback tag:
 * ^(sha256|sha512)-[0-9a-f]+(\.(sig|att|sbom))?$ — never an image version. */
int oci_ref_is_attachment_tag(const char *tag);

#endif
