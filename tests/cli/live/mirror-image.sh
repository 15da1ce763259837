#!/usr/bin/env bash
# A first mirror copies an image, an OCI index and a Docker manifest list
# to the standby under PREFIX/REPO, byte for byte: each manifest there
# hashes to the fixture's digest, and the image's cosign signature tag came
# with it. Without a terminal there is no progress line: stderr is empty.
dst=$RV_REG_STANDBY/t/cli/mirror-image-$$
regvault mirror "$RV_REG_PLAIN/$RV_FX_IMAGE" "$RV_REG_PLAIN/$RV_FX_MULTI" \
	"$RV_REG_PLAIN/$RV_FX_DOCKERLIST" --to "$dst" --catalog ./cat.db
echo "exit $?"
for r in "$RV_FX_IMAGE" "$RV_FX_MULTI" "$RV_FX_DOCKERLIST"; do
	echo "sha256:$(skopeo inspect --raw --tls-verify=false "docker://$dst/$r" | sha256sum | cut -d" " -f1)"
done
regvault ls "$dst/fx/image"
regvault --catalog ./cat.db catalog list "*/fx/*:v1" | awk "{ print \$1, \$NF == \"$dst\" }"
