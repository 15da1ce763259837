/*
 * reference.c — image references, normalised the way Docker does
 * (distribution/reference normalize.go splitDockerDomain; grammar in
 * regexp.go and distribution-spec "Pulling manifests").
 *
 * One deliberate difference: Docker also treats an uppercase first
 * component as a registry ("Foo/bar" → host "Foo"). We do not, so that
 * "Foo/bar" fails with "repository must be lowercase", which is what the
 * user almost certainly got wrong.
 */
#include <stdlib.h>
#include <string.h>

#include "oci/digest.h"
#include "oci/reference.h"
#include "util/error.h"
#include "util/str.h"
#include "util/xalloc.h"
#include "util/banned.h"

#define DEFAULT_REGISTRY "docker.io"
#define LEGACY_REGISTRY "index.docker.io"
#define OFFICIAL_PREFIX "library/"
/* distribution/reference v0.6.0+: the path alone (not the host) ≤ 255. */
#define PATH_MAX_LEN 255
#define TAG_MAX_LEN 128

static int bad(const char *s, const char *why)
{
	char q[256];

	return error_set(RV_EINVALID, "invalid reference \"%s\": %s",
	                 str_printable(q, sizeof(q), s), why);
}

static int is_alnum_lower(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

static int is_alnum(char c)
{
	return is_alnum_lower(c) || (c >= 'A' && c <= 'Z');
}

static int is_hex64(const char *s)
{
	size_t n = 0;

	for (; s[n]; n++)
		if (!(s[n] >= '0' && s[n] <= '9') && !(s[n] >= 'a' && s[n] <= 'f'))
			return 0;
	return n == 64;
}

/* splitDockerDomain: the first component names a registry when it is
 * "localhost", holds '.' or ':', or is a bracketed IPv6 address. */
static int looks_like_host(const char *c, size_t len)
{
	return (len == 9 && memcmp(c, "localhost", 9) == 0) || memchr(c, '.', len) ||
	       memchr(c, ':', len) || (len && c[0] == '[');
}

/* domain-component := [a-zA-Z0-9] | [a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9] */
static int domain_name_valid(const char *s, size_t len)
{
	size_t start = 0;

	for (size_t i = 0; i <= len; i++) {
		if (i < len && s[i] != '.') {
			if (!is_alnum(s[i]) && s[i] != '-')
				return 0;
			continue;
		}
		if (i == start || s[start] == '-' || s[i - 1] == '-')
			return 0;
		start = i + 1;
	}
	return 1;
}

static int port_valid(const char *p)
{
	if (!*p)
		return 0;
	for (; *p; p++)
		if (*p < '0' || *p > '9')
			return 0;
	return 1;
}

/* domain := host [':' port]; host := domain-name | '[' IPv6 ']'. */
static int host_valid(const char *h)
{
	const char *end;

	if (h[0] == '[') {
		end = strchr(h, ']');
		if (!end || end == h + 1 || strspn(h + 1, "0123456789abcdefABCDEF:") != (size_t)(end - h - 1))
			return 0;
		end++;
	} else {
		end = strchr(h, ':');
		if (!end)
			end = h + strlen(h);
		if (!domain_name_valid(h, (size_t)(end - h)))
			return 0;
	}
	return !*end || (*end == ':' && port_valid(end + 1));
}

/* path-component := [a-z0-9]+ ((\.|_|__|-+) [a-z0-9]+)* */
static int component_valid(const char *c, size_t len)
{
	size_t i = 0;

	while (i < len) {
		size_t run = 0;

		if (!is_alnum_lower(c[i]))
			return 0;
		while (i < len && is_alnum_lower(c[i]))
			i++;
		if (i == len)
			return 1;
		while (i + run < len && c[i + run] == c[i] && !is_alnum_lower(c[i]))
			run++;
		if (!(c[i] == '.' && run == 1) && !(c[i] == '_' && run <= 2) && c[i] != '-')
			return 0;
		i += run;
		if (i == len)
			return 0;
	}
	return len > 0;
}

/* A component holding * ? [ ] (OCI_REF_GLOB_OK): name characters plus
 * the glob ones, with every '[' closed by a later ']' and no empty "[]".
 * fnmatch does the matching; this only keeps nonsense out. */
static int glob_component_valid(const char *c, size_t len)
{
	int open = 0;

	for (size_t i = 0; i < len; i++) {
		if (c[i] == '[') {
			if (open || i + 1 >= len || c[i + 1] == ']')
				return 0;
			open = 1;
		} else if (c[i] == ']') {
			if (!open)
				return 0;
			open = 0;
		} else if (!is_alnum_lower(c[i]) && !strchr("._-*?", c[i])) {
			return 0;
		}
	}
	return len > 0 && !open;
}

static int has_glob_char(const char *c, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (strchr("*?[]", c[i]))
			return 1;
	return 0;
}

/* Why path is not a repository path, or NULL when it is one. */
static const char *path_problem(const char *path, unsigned flags)
{
	const char *p = path;

	for (const char *q = path; *q; q++)
		if (*q >= 'A' && *q <= 'Z')
			return "repository must be lowercase";
	if (!(flags & OCI_REF_GLOB_OK) && strpbrk(path, "*?[]"))
		return "glob characters are not allowed here";
	for (;;) {
		const char *end = strchr(p, '/');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		int glob = (flags & OCI_REF_GLOB_OK) && has_glob_char(p, len);

		if (glob ? !glob_component_valid(p, len) : !component_valid(p, len))
			return "invalid repository path";
		if (!end)
			break;
		p = end + 1;
	}
	return NULL;
}

int oci_ref_tag_valid(const char *tag)
{
	size_t n = strlen(tag);

	if (n == 0 || n > TAG_MAX_LEN || !(is_alnum(tag[0]) || tag[0] == '_'))
		return 0;
	for (size_t i = 1; i < n; i++)
		if (!is_alnum(tag[i]) && !strchr("_.-", tag[i]))
			return 0;
	return 1;
}

int oci_ref_repository_valid(const char *repo)
{
	return strlen(repo) <= PATH_MAX_LEN && !path_problem(repo, 0);
}

/* 1 when s is "name:PORT" with a numeric port. */
static int has_numeric_port(const char *s)
{
	const char *colon = strrchr(s, ':');

	if (!colon || colon == s || !colon[1])
		return 0;
	for (const char *p = colon + 1; *p; p++)
		if (*p < '0' || *p > '9')
			return 0;
	return 1;
}

/* With OCI_REF_HOST_OK a string without '/' or '@' is a registry alone when
 * it is clearly a host: localhost[:port], [IPv6][:port], or a dotted name
 * with an optional numeric port. "alpine:3.19" and "myreg:5000" stay
 * images, as Docker reads them -- except where no tag may be given
 * (OCI_REF_NO_TAG): there "myreg:5000" can only be a registry with its
 * port (a Compose service name, a single-label host), so it is one. */
static int is_bare_host(const char *s, unsigned flags)
{
	size_t hostlen = strcspn(s, ":");

	if (strpbrk(s, "/@"))
		return 0;
	if (!(s[0] == '[' || (hostlen == 9 && memcmp(s, "localhost", 9) == 0) ||
	      memchr(s, '.', hostlen) || ((flags & OCI_REF_NO_TAG) && has_numeric_port(s))))
		return 0;
	return host_valid(s);
}

/* Splits "name[:tag]" (name without host) and checks both parts. */
static int parse_name_tag(struct oci_ref *r, const char *s, char *rest, unsigned flags)
{
	char *colon = strchr(rest, ':');
	const char *why;

	if (colon) {
		*colon = '\0';
		if (flags & OCI_REF_NO_TAG)
			return bad(s, "a tag or digest is not allowed here");
		if (strlen(colon + 1) > TAG_MAX_LEN)
			return bad(s, "tag longer than 128 characters");
		if (!oci_ref_tag_valid(colon + 1))
			return bad(s, "invalid tag");
		r->tag = xstrdup(colon + 1);
	}
	why = path_problem(rest, flags);
	if (why)
		return bad(s, why);
	/* Official images: a one-component path on Docker Hub is library/x. */
	if (strcmp(r->registry, DEFAULT_REGISTRY) == 0 && !strchr(rest, '/'))
		r->repository = xasprintf(OFFICIAL_PREFIX "%s", rest);
	else
		r->repository = xstrdup(rest);
	if (strlen(r->repository) > PATH_MAX_LEN)
		return bad(s, "repository path longer than 255 characters");
	return 0;
}

static int parse_digest(struct oci_ref *r, const char *s, const char *digest, unsigned flags)
{
	int rc;

	if (flags & OCI_REF_NO_TAG)
		return bad(s, "a tag or digest is not allowed here");
	rc = oci_digest_validate(digest);
	if (rc == RV_EUNSUPPORTED)
		return bad(s, "unsupported digest algorithm");
	if (rc)
		return bad(s, "invalid digest");
	r->digest = xstrdup(digest);
	return 0;
}

/* Registry part of "host/rest", or docker.io when the first component is
 * not a host; returns the rest. */
static char *split_registry(struct oci_ref *r, char *name)
{
	char *slash = strchr(name, '/');

	if (!slash || !looks_like_host(name, (size_t)(slash - name))) {
		r->registry = xstrdup(DEFAULT_REGISTRY);
		return name;
	}
	*slash = '\0';
	r->registry = strcmp(name, LEGACY_REGISTRY) == 0 ? xstrdup(DEFAULT_REGISTRY) : xstrdup(name);
	return slash + 1;
}

static int parse_full(struct oci_ref *r, const char *s, char *work, unsigned flags)
{
	char *at = strchr(work, '@'), *rest;
	int rc;

	if (at) {
		*at = '\0';
		rc = parse_digest(r, s, at + 1, flags);
		if (rc)
			return rc;
	}
	rest = split_registry(r, work);
	if (rest != work && !host_valid(r->registry))
		return bad(s, "invalid registry host");
	rc = parse_name_tag(r, s, rest, flags);
	if (rc)
		return rc;
	if ((flags & OCI_REF_DEFAULT_TAG) && !(flags & OCI_REF_NO_TAG) && !r->tag && !r->digest)
		r->tag = xstrdup("latest");
	return 0;
}

int oci_ref_parse(struct oci_ref *out, const char *s, unsigned flags)
{
	struct oci_ref r = OCI_REF_INIT;
	char *work;
	int rc;

	if (!s || !*s)
		return bad(s ? s : "", "empty reference");
	/* distribution/reference anchoredIdentifierRegexp: a bare image ID
	 * is refused so it is never mistaken for docker.io/library/<hex>. */
	if (is_hex64(s))
		return bad(s, "cannot be a 64-character hexadecimal string");
	if ((flags & OCI_REF_HOST_OK) && is_bare_host(s, flags)) {
		r.registry = xstrdup(strcmp(s, LEGACY_REGISTRY) == 0 ? DEFAULT_REGISTRY : s);
		*out = r;
		return 0;
	}
	work = xstrdup(s);
	rc = parse_full(&r, s, work, flags);
	free(work);
	if (rc) {
		oci_ref_release(&r);
		return rc;
	}
	*out = r;
	return 0;
}

char *oci_ref_string(const struct oci_ref *r)
{
	if (!r->repository)
		return xstrdup(r->registry);
	return xasprintf("%s/%s%s%s%s%s", r->registry, r->repository, r->tag ? ":" : "",
	                 r->tag ? r->tag : "", r->digest ? "@" : "", r->digest ? r->digest : "");
}

void oci_ref_release(struct oci_ref *r)
{
	free(r->registry);
	free(r->repository);
	free(r->tag);
	free(r->digest);
	r->registry = r->repository = r->tag = r->digest = NULL;
}

const char *oci_ref_api_host(const char *registry)
{
	/* Docker Hub's API is not served on docker.io itself (containers/image
	 * docker_client.go maps it the same way). */
	return strcmp(registry, DEFAULT_REGISTRY) == 0 ? "registry-1.docker.io" : registry;
}

/* cosign <alg>-<hex>.sig/.att/.sbom tags and the referrers fallback tag
 * <alg>-<hex> (distribution-spec "Referrers Tag Schema"). */
int oci_ref_is_attachment_tag(const char *tag)
{
	const char *p, *dot;
	size_t n;

	if (!str_has_prefix(tag, "sha256-") && !str_has_prefix(tag, "sha512-"))
		return 0;
	p = tag + 7;
	n = strspn(p, "0123456789abcdef");
	if (n == 0)
		return 0;
	dot = p + n;
	return !*dot || strcmp(dot, ".sig") == 0 || strcmp(dot, ".att") == 0 ||
	       strcmp(dot, ".sbom") == 0;
}

int oci_ref_parse_location(const char *s, char **registry, char **path)
{
	const char *slash = strchr(s, '/');
	char *h;
	struct oci_ref host = OCI_REF_INIT;
	char q[160];
	int rc;

	*registry = *path = NULL;
	/* "http://reg:5000" would otherwise fail as the tag-bearing "http:". */
	if (strstr(s, "://"))
		return error_set(RV_EINVALID, "location \"%s\": write it without a scheme, as "
		                 "HOST[:PORT][/PATH] (--insecure-registry HOST[:PORT] allows plain "
		                 "HTTP)", str_printable(q, sizeof(q), s));
	h = slash ? xstrndup(s, (size_t)(slash - s)) : xstrdup(s);
	rc = oci_ref_parse(&host, h, OCI_REF_HOST_OK | OCI_REF_NO_TAG);
	if (rc < 0)
		rc = error_wrap(rc, "location \"%s\"", str_printable(q, sizeof(q), s));
	else if (host.repository)
		rc = error_set(RV_EINVALID, "location \"%s\": \"%s\" is not a registry host",
		               str_printable(q, sizeof(q), s), h);
	else if (slash && !oci_ref_repository_valid(slash + 1))
		rc = error_set(RV_EINVALID, "location \"%s\": invalid repository path \"%s\"",
		               str_printable(q, sizeof(q), s), slash + 1);
	if (rc == 0) {
		*registry = xstrdup(host.registry);
		*path = slash ? xstrdup(slash + 1) : NULL;
	}
	oci_ref_release(&host);
	free(h);
	return rc;
}
