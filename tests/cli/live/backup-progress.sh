#!/usr/bin/env bash
# The progress line, drawn on stderr with \r (REGVAULT_PROGRESS=force stands
# in for a terminal): images and bytes done of the total, a bar and the
# speed; its last state is complete, then the line is blanked. Never with
# -q or -o json.
REGVAULT_PROGRESS=force regvault backup "$RV_REG_PLAIN/$RV_FX_MULTI" "$RV_REG_PLAIN/$RV_FX_CHILD" \
	--to ./store --catalog ./cat.db >/dev/null 2>err || exit 1
tr "\r" "\n" <err | grep -v "^ *$" | sed -n "1p;\$p"
tr "\r" "\n" <err | tail -n 1 | tr -d " " | wc -c
tr "\r" "\n" <err | grep -v "^ *$" | tail -n 1 |
	awk "{ print (\$4 \$5 == \$7 \$8) ? \"all bytes\" : \"not done: \" \$0 }"
REGVAULT_PROGRESS=force regvault -q backup "$RV_REG_PLAIN/$RV_FX_IMAGE" --to ./store2 --catalog ./cat.db >/dev/null 2>err2
wc -c <err2
REGVAULT_PROGRESS=force regvault -o json backup "$RV_REG_PLAIN/$RV_FX_IMAGE" --to ./store3 --catalog ./cat.db >/dev/null 2>err3
wc -c <err3
