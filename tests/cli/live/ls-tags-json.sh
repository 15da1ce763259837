#!/usr/bin/env bash
regvault -o json ls "$RV_REG_PLAIN/fx/image"
