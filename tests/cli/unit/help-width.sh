#!/usr/bin/env bash
# Every help text has the man-page sections and fits 80 columns.
for c in "" ls inspect mirror backup catalog restore deployed prune; do
	text=$(regvault help $c) || exit 1
	for s in NAME SYNOPSIS DESCRIPTION "EXIT STATUS" EXAMPLES; do
		grep -qx "$s" <<<"$text" || echo "help ${c:-regvault}: no $s section"
	done
	awk -v c="${c:-regvault}" "length > 79 { print \"help \" c \": line \" NR \" is \" length \" columns\" }" <<<"$text"
done
