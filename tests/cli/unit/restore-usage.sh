#!/usr/bin/env bash
# Usage errors of restore, each exit 2 before the catalog is touched:
# no REF, two REFs, --run with REF/--from/--to/--at/--from-store, bad --run,
# --at and --from-store values, --from without --to or with --at, --at
# with a digest, an invalid REF or --to.
ref=127.0.0.1:5000/app:1
zero=sha256:$(printf '%064d' 0)
while IFS= read -r args; do
	eval "set -- $args"
	regvault --catalog ./cat.db restore "$@" 2>&1 | sed -n 1p
	echo "exit ${PIPESTATUS[0]}"
done <<EOF_ARGS

$ref 127.0.0.1:5000/app:2
--run 3 $ref
--run 3 --from x.tar
--run 3 --to 127.0.0.1:5000
--run 3 --at 2d
--run 3 --from-store archive
--run 0
--run abc
--at yesterday $ref
--at 0d $ref
--at '' $ref
--at 2026-13-01T00:00:00Z $ref
--from-store disk $ref
--from x.tar
--from x.tar --at 2d --to 127.0.0.1:5000/a
--at 2d 127.0.0.1:5000/app@$zero
127.0.0.1:5000/App:1
$ref --to standby/x
EOF_ARGS
ls
