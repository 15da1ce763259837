#!/usr/bin/env bash
# The JSON form holds the same facts, sizes as integers.
regvault -o json inspect "$RV_REG_PLAIN/$RV_FX_IMAGE" >out.json || exit 1
jq -r "
	.reference, .registry, .kind, .digest, .mediaType, .size, .config.digest, .created,
	(.platform | \"\(.os)/\(.architecture)\"),
	([.layers[].digest] | join(\",\")),
	(.layersSize == ([.layers[].size] | add)),
	(.layers | all(.size | type == \"number\"))" out.json
