#!/usr/bin/env bash
# Usage errors of deployed, each exit 2 before anything is read: no
# --deployed, an unknown or empty source, an argument, a bad --rollback.
# --check and --restore together are fine (here the catalog is missing).
while IFS= read -r args; do
	eval "set -- $args"
	regvault --catalog ./cat.db deployed "$@" 2>&1 | sed -n 1p
	echo "exit ${PIPESTATUS[0]}"
done <<EOF_ARGS

--check
--deployed nope:x
--deployed refs-file:
--deployed kubectl: --check
--deployed refs-file:r.txt 127.0.0.1:5000/app:1
--deployed refs-file:r.txt --rollback -1
--deployed refs-file:r.txt --rollback x
EOF_ARGS
echo 127.0.0.1:9/app:1 >r.txt
regvault --catalog ./cat.db deployed --deployed refs-file:./r.txt --check --restore
echo "exit $?"
ls
