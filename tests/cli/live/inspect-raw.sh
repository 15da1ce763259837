#!/usr/bin/env bash
# --raw prints the stored bytes exactly: they hash to the digest, no newline added.
regvault inspect --raw "$RV_REG_PLAIN/$RV_FX_MULTI" >index.raw || exit 1
echo "sha256:$(sha256sum <index.raw | cut -d" " -f1)"
regvault inspect --raw --platform linux/arm64/v8 "$RV_REG_PLAIN/$RV_FX_MULTI" >child.raw || exit 1
echo "sha256:$(sha256sum <child.raw | cut -d" " -f1)"
regvault inspect --raw "$RV_REG_PLAIN/$RV_FX_DOCKER" | sha256sum | sed "s/^/sha256:/; s/ .*//"
