#!/usr/bin/env bash
regvault inspect --output=json "$RV_REG_PLAIN/$RV_FX_DOCKERLIST" >out.json || exit 1
jq -r ".kind, .mediaType, (.manifests | length),
	(.manifests[] | \"\(.platform.os)/\(.platform.architecture) \(.digest) \(.kind) \(.layers | length) \(.layersSize > 0) \(.config.mediaType)\")" out.json
