#!/usr/bin/env bash
# A source that fails is an error, never "nothing deployed": an invalid
# reference in a refs file (exit 2, FILE:LINE), a file that is not JSON
# (exit 2), kubectl's JSON naming no image (exit 2, with the hint to
# declare an empty cluster), a missing file (exit 1). The first failing
# source stops the command; nothing is contacted.
printf '# ok\n127.0.0.1:9/app:1\n\nNot/A:Ref:x\n' >refs.txt
echo '{"apiVersion": "v1", "kind": "List", "items": [' >broken.json
echo '{"apiVersion": "v1", "kind": "List", "items": [{"kind": "Service"}]}' >empty.json
for src in refs-file:./refs.txt kubernetes-json:./broken.json kubernetes-json:./empty.json \
	refs-file:./missing.txt; do
	regvault deployed --deployed "$src" --check
	echo "exit $?"
done 2>&1
regvault -o json deployed --deployed kubernetes-json:./empty.json 2>/dev/null | jq -r .error.code
