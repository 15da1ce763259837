#!/usr/bin/env bash
# An artifact: its artifactType and the subject it refers to.
regvault -o json inspect "$RV_REG_PLAIN/$RV_FX_ARTIFACT" | jq -r ".artifactType, .subject.digest, has(\"platform\")"
regvault inspect "$RV_REG_PLAIN/$RV_FX_ARTIFACT" | grep -e ^Artifact: -e ^Subject:
