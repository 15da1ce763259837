#!/usr/bin/env bash
# Unknown manifest: exit 1, one line naming reference and registry.
regvault inspect "$RV_REG_PLAIN/fx/image:nope"
