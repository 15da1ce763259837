#!/usr/bin/env bash
# backup and prune check --metrics-file as mirror does: a file name in a
# writable directory, before anything runs (no catalog, no registry).
printf 'version: 1\nregistry: 127.0.0.1:5000\nrepositories: ["*"]\n' >p.yaml
printf 'safekeeping: {archive: ./vault}\ndeployed: none\nkeep: [{tags: ["*"]}]\n' >>p.yaml
for f in "" ./nodir/m.prom; do
	regvault --catalog ./cat.db backup 127.0.0.1:5000/app:1 --to ./store \
		--metrics-file "$f" 2>&1 | sed -n 1p
	echo "backup exit ${PIPESTATUS[0]}"
	regvault --catalog ./cat.db prune --policy ./p.yaml --metrics-file "$f" 2>&1 | sed -n 1p
	echo "prune exit ${PIPESTATUS[0]}"
done
ls
