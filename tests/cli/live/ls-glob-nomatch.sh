#!/usr/bin/env bash
# No match: nothing on stdout, exit 0, a warning on stderr (silenced by -q).
regvault ls "$RV_REG_PLAIN/nothing-*"
echo "exit $?"
regvault -q ls "$RV_REG_PLAIN/nothing-*" 2>&1
echo "exit $?"
