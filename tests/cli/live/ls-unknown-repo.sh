#!/usr/bin/env bash
regvault ls "$RV_REG_PLAIN/fx/nope"
