#!/usr/bin/env bash
regvault inspect "$RV_REG_PLAIN/$RV_FX_IMAGE"
