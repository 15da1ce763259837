#!/usr/bin/env bash
for p in linux linux/ /amd64 linux/arm/v7/x; do
	regvault --catalog ./cat.db mirror --platform "$p" 127.0.0.1:5000/app:1 \
		--to 127.0.0.1:5001 2>&1 | sed -n 1p
	echo "exit ${PIPESTATUS[0]}"
done
ls
