#!/usr/bin/env bash
# A cosign signature: its config has empty os/architecture, so no platform is shown.
regvault inspect "$RV_REG_PLAIN/$RV_FX_SIG" | sed -n "2p;5,6p"
regvault -o json inspect "$RV_REG_PLAIN/$RV_FX_SIG" | jq -r "has(\"platform\"), .layers[0].mediaType"
