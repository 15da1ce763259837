/*
 * auth.h — private to registry/: the pure pieces of registry auth.
 * (Not included outside registry/; the public contract is registry.h.)
 *
 * WWW-Authenticate parsing, scopes, token responses, credential files and
 * credential helpers. No HTTP here: the client core (op.c) makes the
 * requests and asks these functions what to send and what it got.
 */
#ifndef RV_REGISTRY_AUTH_H
#define RV_REGISTRY_AUTH_H

#include <stddef.h>
#include <stdint.h>
#include "util/buf.h"

/* --- Challenges (RFC 7235, RFC 6750; distribution token auth) ---------- */

struct auth_challenge {
	char *scheme;   /* lowercased: "basic", "bearer", or another scheme */
	char *realm;    /* NULL when absent */
	char *service;  /* NULL when absent */
	char *scope;    /* NULL when absent; may hold several scopes, space-separated */
	char *error;    /* "invalid_token", "insufficient_scope", or NULL */
};

/* Parses one WWW-Authenticate header value, which may hold several
 * challenges ("Bearer realm=…,service=…, Basic realm=…"). Quoted strings may
 * contain commas, colons, spaces and backslash escapes; parameter names are
 * case-insensitive; the first of duplicate parameters wins; unknown
 * parameters and token68 are ignored; unknown schemes are returned (the
 * caller skips them). A malformed element costs only itself: parsing
 * resumes at the next comma outside quotes. Unquoted values may be bare
 * URLs (realm=https://…). *out is a new array of *n challenges (caller
 * releases each and frees the array). RV_EINVALID when no challenge at all
 * can be read (*out NULL, *n 0). */
int auth_challenge_parse(struct auth_challenge **out, size_t *n, const char *value);
void auth_challenge_release(struct auth_challenge *c);

/* --- Scopes (distribution docs/spec/auth/scope.md) ---------------------- */

/* "repository:<repo>:<actions>"; caller frees. */
char *auth_scope_repository(const char *repo, const char *actions);
/* Adds the scopes of `add` (space-separated) to the set in `set` (a buf
 * holding space-separated scopes), merging actions of the same resource
 * ("repository:a:pull" + "repository:a:push" → "repository:a:pull,push").
 * Resource names may contain ':' (host:port/…): split at the first and last
 * ':'. Result is sorted, so equal sets give equal strings (cache keys).
 * Scopes with fewer than two ':' are kept verbatim; a scope whose actions
 * are empty ("repository:a:") is dropped. RV_ETOOBIG (set unchanged) when
 * the result exceeds set's cap. */
int auth_scope_merge(struct buf *set, const char *add);

/* --- Tokens (docs/spec/auth/token.md, oauth.md) ------------------------- */

struct auth_token {
	char *token;             /* "token", else "access_token" */
	char *refresh_token;     /* NULL unless given */
	int64_t expires_in;      /* seconds as given (60 when absent or not positive), at most INT32_MAX */
};

/* Parses a token server response body. RV_EINVALID when it is not JSON,
 * holds neither token nor access_token (a non-empty string), or a token
 * holds a control character (it goes into a header); RV_ETOOBIG over
 * 1 MiB. Error messages never quote the body. */
int auth_token_parse(struct auth_token *out, const char *body, size_t len);
void auth_token_release(struct auth_token *t);
/* The GET token URL: realm + "?service=…&scope=…&scope=…" (one scope
 * parameter per scope, URL-encoded; realm's own query kept). Caller frees. */
char *auth_token_url(const char *realm, const char *service, const char *scopes);
/* The OAuth2 POST form for an identity (refresh) token:
 * grant_type=refresh_token&service=…&client_id=regvault&refresh_token=…&scope=…
 * Caller frees. */
char *auth_token_form(const char *service, const char *scopes, const char *refresh_token);

/* --- Credentials (docker config.json, containers auth.json, helpers) ---- */

struct creds {
	char *username;        /* NULL when anonymous */
	char *password;
	char *identity_token;  /* OAuth2 refresh token ("identitytoken", helper "<token>") */
	char *registry_token;  /* a bearer token to send as is ("registrytoken") */
};

#define CREDS_INIT { NULL, NULL, NULL, NULL }

/* Finds credentials for `registry` (host[:port] as the user wrote it;
 * "docker.io", "index.docker.io" and "registry-1.docker.io" are one
 * registry, which also matches "https://index.docker.io/v1/") and
 * repository `repo` (may be NULL). Search order, first hit wins:
 *   authfile if non-NULL (and only it; missing is an error, RV_ERROR), else
 *   $REGISTRY_AUTH_FILE, $XDG_RUNTIME_DIR/containers/auth.json (unset:
 *   /run/containers/$UID/auth.json, as podman),
 *   ${XDG_CONFIG_HOME:-~/.config}/containers/auth.json,
 *   $DOCKER_AUTH_CONFIG (JSON text; only "auth" is read, no helpers),
 *   ${DOCKER_CONFIG:-~/.docker}/config.json.
 * A missing or empty file is skipped; unset variables are skipped.
 * In each file, in this order:
 *   1. credHelpers[host] runs docker-credential-<name> get; its answer is
 *      final (not found there = anonymous, as docker does);
 *   2. auths: exact keys, by namespace (host/ns/repo → host/ns → host;
 *      only when repo is given -- the registry client holds one set of
 *      credentials per registry and passes NULL, so it reads host keys),
 *      then URL-form keys ("https://host/v1/") reduced to their host;
 *      "auth" is base64(user:pass) split at the first ':' (NULs around the
 *      password trimmed), else "username"+"password"; "identitytoken",
 *      "registrytoken". An entry with none of these ({}) counts as absent;
 *   3. credsStore runs its helper.
 * Helpers get the host on stdin ("https://index.docker.io/v1/" for the Hub),
 * never in argv or the environment.
 * 0 with *out filled, RV_ENOTFOUND when nothing applies (anonymous), other
 * codes when a file or helper is broken: broken JSON, a wrong type, bad
 * base64, a registrytoken holding a control character (the message names
 * the file and key, made printable, never a secret). */
int creds_lookup(struct creds *out, const char *authfile, const char *registry,
                 const char *repo);
/* Runs "docker-credential-<helper> get" (found on $PATH, empty entries
 * skipped) with server on stdin and parses its JSON {"Username","Secret"};
 * Username "<token>" makes Secret the identity token. RV_ENOTFOUND when the
 * helper says "credentials not found" or gives an empty Secret. RV_EINVALID
 * for a bad helper name or unreadable output, RV_ERROR when it is missing,
 * fails, or runs longer than $REGVAULT_CRED_HELPER_TIMEOUT_MS (default
 * 30000; then it and its process group are killed). Messages name the
 * helper and may quote its first stdout line on failure, never a secret. */
int creds_helper_get(struct creds *out, const char *helper, const char *server);
void creds_release(struct creds *c);

/* --- Trace redaction ---------------------------------------------------- */

/* A copy of one HTTP header line (or a block of lines, each handled alone)
 * safe to log: Authorization and Proxy-Authorization values become
 * "<redacted>" after the scheme word ("Authorization: Bearer <redacted>");
 * Cookie and Set-Cookie values become "<redacted>"; in Location headers and
 * request lines the values of signing query parameters (pre-signed S3/GCS/
 * Azure/CloudFront URLs: *signature*, *credential*, *token*, sig, policy,
 * key-pair-id) become "<redacted>". Caller frees. */
char *auth_redact_header(const char *line);
/* A copy of a body safe to log: the string values of the JSON members
 * token, access_token, refresh_token, password, identitytoken and Secret
 * (names compared case-insensitively, escapes decoded) become "<redacted>"
 * (works on truncated or invalid JSON too); a body that does not start
 * with '{' or '[' also has those x-www-form-urlencoded fields redacted.
 * NUL bytes become '?'. Caller frees. */
char *auth_redact_body(const char *body, size_t len);

#endif
