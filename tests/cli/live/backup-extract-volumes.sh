#!/usr/bin/env bash
# The way out without regvault: extract every volume of the store, oldest
# first, into one folder; skopeo and umoci read it as an OCI layout, each
# image named by its full original reference, and pushing from it
# recreates the identical digests.
regvault backup "$RV_REG_PLAIN/$RV_FX_IMAGE" --to ./store --catalog ./cat.db >/dev/null || exit 1
regvault backup "$RV_REG_PLAIN/$RV_FX_MULTI" --to ./store --catalog ./cat.db >/dev/null || exit 1
ls store/volumes | wc -l
mkdir layout
for v in store/volumes/*.tar; do tar -xf "$v" -C layout || exit 1; done
jq -r ".manifests[].annotations[\"org.opencontainers.image.ref.name\"]" layout/index.json | sort
push() { # NAME-IN-LAYOUT REPO
	skopeo copy -q --all --preserve-digests --policy "$RV_SKOPEO_POLICY" \
		"oci:layout:$1" "docker://$RV_REG_STANDBY/t/cli/$$/$2" --dest-tls-verify=false &&
	skopeo inspect --raw --tls-verify=false "docker://$RV_REG_STANDBY/t/cli/$$/$2" |
		sha256sum | cut -d" " -f1 | sed "s/^/sha256:/"
}
push "$RV_REG_PLAIN/$RV_FX_IMAGE" image:v1
push "$RV_REG_PLAIN/$RV_FX_MULTI" multi:v1
umoci stat --image "layout:$RV_REG_PLAIN/$RV_FX_IMAGE" | sed -n 1p | cut -c1-5
