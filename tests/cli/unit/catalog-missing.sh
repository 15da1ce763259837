#!/usr/bin/env bash
# Reading or verifying a catalog that does not exist fails (exit 1) and
# creates nothing.
for sub in list "show 127.0.0.1:5000/app:1" "history 127.0.0.1:5000/app:1" verify; do
	# shellcheck disable=SC2086 # split on purpose
	regvault --catalog ./none.db catalog $sub
	echo "exit $?"
done
ls
