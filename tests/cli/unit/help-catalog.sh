#!/usr/bin/env bash
# One help for the command and its subcommands, however asked for.
regvault help catalog
for a in "catalog --help" "catalog list --help" "catalog verify -h"; do
	# shellcheck disable=SC2086 # split on purpose
	[[ $(regvault $a) == "$(regvault help catalog)" ]] || echo "regvault $a differs"
done
