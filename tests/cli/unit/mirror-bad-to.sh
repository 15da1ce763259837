#!/usr/bin/env bash
# --to is HOST[:PORT][/PREFIX] with an explicit host: no tag, digest, glob
# or uppercase, and a bare name is not taken to mean docker.io. Each is a
# usage error found before the catalog is created.
for to in standby standby/mirror "" 127.0.0.1:5001/p:1 127.0.0.1:5001/Mirror \
	"127.0.0.1:5001/p@sha256:$(printf '%064d' 0)" "127.0.0.1:5001/p*" reg.example.com//x; do
	regvault --catalog ./cat.db mirror 127.0.0.1:5000/app:1 --to "$to" 2>&1 | sed -n 1p
	echo "exit ${PIPESTATUS[0]}"
done
ls
