#!/usr/bin/env bash
# -l: digest, manifest size and media type per tag.
regvault ls -l "$RV_REG_PLAIN/fx/multi"
regvault ls --long "$RV_REG_PLAIN/fx/image"
