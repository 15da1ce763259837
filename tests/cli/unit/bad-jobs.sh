#!/usr/bin/env bash
# --jobs takes 1..64; each bad value is a usage error (exit 2).
for v in 0 65 -1 abc 4x "" 99999999999999999999; do
	regvault --jobs "$v" ls 127.0.0.1:5000
	echo "exit $?"
done 2>&1
