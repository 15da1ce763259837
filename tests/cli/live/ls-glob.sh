#!/usr/bin/env bash
# A pattern in the repository part lists the repositories it matches.
regvault ls "$RV_REG_PLAIN/fx/m*"
regvault ls "$RV_REG_PLAIN/fx/bulk/r00?" | wc -l
