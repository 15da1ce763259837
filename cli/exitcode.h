/*
 * exitcode.h — regvault's exit status, the one table (docs/regvault.1
 * "EXIT STATUS" and `regvault --help` say the same; keep all three equal).
 *
 *   0  success
 *   1  operational failure: some item failed (network, registry error,
 *      not found, digest mismatch); nothing unsafe was done
 *   2  bad usage, input or configuration: unknown option or command, bad
 *      value, invalid reference or manifest, missing or rejected
 *      credentials, access denied, untrusted certificate
 *   3  refused for safety (catalog rebuild over an existing catalog; prune's guards)
 */
#ifndef RV_CLI_EXITCODE_H
#define RV_CLI_EXITCODE_H

#include "util/error.h"

#define RV_EXIT_OK 0
#define RV_EXIT_FAILURE 1
#define RV_EXIT_USAGE 2
#define RV_EXIT_REFUSED 3

/* The exit status for a result code of the lower layers (util/error.h).
 * Problems the user fixes by changing what they typed or configured map to
 * RV_EXIT_USAGE; everything that may work on another try, or concerns one
 * item among many, is RV_EXIT_FAILURE. */
static inline int rv_exit_code(int code)
{
	switch (code) {
	case RV_OK:
		return RV_EXIT_OK;
	case RV_EINVALID:     /* bad reference, manifest or config */
	case RV_EUNSUPPORTED: /* schema1, unknown digest algorithm */
	case RV_EAUTH:        /* credentials missing or wrong */
	case RV_EDENIED:      /* credentials lack the permission */
	case RV_ETLS:         /* certificate not trusted: --ca-cert or --insecure-registry */
		return RV_EXIT_USAGE;
	default:
		return RV_EXIT_FAILURE;
	}
}

#endif
