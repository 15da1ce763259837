#!/usr/bin/env bash
# --to FILE.tar writes one OCI layout tarball that skopeo reads without
# regvault; the image pushed from it has the digest of the source.
ref="$RV_REG_PLAIN/$RV_FX_IMAGE"
dst="$RV_REG_STANDBY/t/cli/$$/tarball:v1"
regvault backup "$ref" --to ./out.tar --catalog ./cat.db || exit 1
ls
skopeo copy -q --policy "$RV_SKOPEO_POLICY" --preserve-digests \
	"oci-archive:./out.tar:$ref" "docker://$dst" --dest-tls-verify=false || exit 1
skopeo inspect --raw --tls-verify=false "docker://$dst" | sha256sum | cut -d" " -f1 |
	sed "s/^/sha256:/"
