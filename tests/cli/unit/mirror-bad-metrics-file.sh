#!/usr/bin/env bash
# --metrics-file must name a file in a writable directory, checked before
# anything runs (not after an hour of copying).
for f in "" ./nodir/m.prom ./; do
	regvault --catalog ./cat.db mirror 127.0.0.1:5000/app:1 --to 127.0.0.1:5001 \
		--metrics-file "$f" 2>&1 | sed -n 1p
	echo "exit ${PIPESTATUS[0]}"
done
ls
