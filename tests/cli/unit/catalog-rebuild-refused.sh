#!/usr/bin/env bash
# rebuild never writes into a catalog that exists (exit 3), whatever it
# holds; the file is left as it was.
mkdir -p store/volumes
printf "keep" >cat.db
regvault --catalog ./cat.db catalog rebuild --from ./store
echo "exit $?"
regvault --catalog ./cat.db -o json catalog rebuild --from ./store 2>/dev/null
echo "exit $?"
cat cat.db; echo
ls
