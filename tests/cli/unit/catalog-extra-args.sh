#!/usr/bin/env bash
# Each subcommand takes only its own options and arguments.
for args in "verify extra" "verify --from ./store" "list a b" "show" "show a b" \
	"history" "rebuild --deep --from ./store" "rebuild --from ./store extra"; do
	# shellcheck disable=SC2086 # split on purpose
	regvault --catalog ./cat.db catalog $args 2>&1 | sed -n 1p
	echo "exit ${PIPESTATUS[0]}"
done
ls
