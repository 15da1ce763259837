#!/usr/bin/env bash
regvault inspect "$RV_REG_PLAIN/$RV_FX_DOCKER" | sed -n "2,3p;6p"
