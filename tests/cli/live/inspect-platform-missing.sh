#!/usr/bin/env bash
regvault inspect --platform windows/amd64 "$RV_REG_PLAIN/$RV_FX_MULTI"
