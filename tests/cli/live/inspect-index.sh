#!/usr/bin/env bash
# An index: every child with its platform, config, created time and layers.
regvault inspect "$RV_REG_PLAIN/$RV_FX_MULTI"
