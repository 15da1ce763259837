#!/usr/bin/env bash
# help COMMAND, COMMAND --help, COMMAND -h and -h COMMAND are the same text.
for c in ls inspect mirror backup catalog restore deployed prune; do
	a=$(regvault help "$c") && b=$(regvault "$c" --help) && d=$(regvault "$c" -h) &&
		e=$(regvault -h "$c") || exit 1
	[[ $a == "$b" && $a == "$d" && $a == "$e" ]] || { echo "help of $c differs"; exit 1; }
done
[[ "$(regvault help)" == "$(regvault --help)" ]] || { echo "help differs"; exit 1; }
echo same
