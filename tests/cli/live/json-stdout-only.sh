#!/usr/bin/env bash
# With -o json stdout holds exactly one JSON document and stderr nothing.
regvault -o json inspect "$RV_REG_PLAIN/$RV_FX_MULTI" >out 2>err || exit 1
jq -e . out >/dev/null && echo valid
jq -s length out
wc -c <err
