#!/usr/bin/env bash
# The progress line of mirror, as backup's (REGVAULT_PROGRESS=force stands
# in for a terminal): labelled mirror, complete at the end; never with -q.
dst=$RV_REG_STANDBY/t/cli/mirror-progress-$$
REGVAULT_PROGRESS=force regvault mirror "$RV_REG_PLAIN/$RV_FX_CHILD" --to "$dst" \
	--catalog ./cat.db >/dev/null 2>err || exit 1
tr "\r" "\n" <err | grep -v "^ *$" | tail -n 1
REGVAULT_PROGRESS=force regvault -q mirror "$RV_REG_PLAIN/$RV_FX_IMAGE" --to "$dst" \
	--catalog ./cat.db >/dev/null 2>err2
wc -c <err2
