#!/usr/bin/env bash
# --max-rps takes a plain number above 0 (fractions allowed); anything else
# is a usage error (exit 2) found before the catalog is created.
for v in 0 0.0 -1 abc 1e3 inf "" . 2x 100001; do
	regvault --catalog ./cat.db mirror 127.0.0.1:5000/app:1 --to 127.0.0.1:5001 \
		--max-rps "$v" 2>&1 | sed -n 1p
	echo "exit ${PIPESTATUS[0]}"
done
regvault --max-rps 0.5 --help >/dev/null && echo "0.5 accepted"
ls
