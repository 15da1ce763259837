#!/usr/bin/env bash
# rebuild recreates, from the volumes alone, a catalog that lists the same
# images at the same digests; it will not overwrite an existing catalog.
regvault backup "$RV_REG_PLAIN/$RV_FX_IMAGE" --to ./store --catalog ./cat.db >/dev/null || exit 1
regvault backup "$RV_REG_PLAIN/$RV_FX_MULTI" --to ./store --catalog ./cat.db >/dev/null || exit 1
regvault --catalog ./new.db catalog rebuild --from ./store
echo "exit $?"
list() { regvault --catalog "$1" -o json catalog list | jq -r ".[] | \"\(.reference) \(.digest)\""; }
diff <(list ./cat.db) <(list ./new.db) && echo same
list ./new.db
regvault --catalog ./new.db catalog verify --deep | cut -d"(" -f1
regvault --catalog ./new.db catalog rebuild --from ./store 2>/dev/null
echo "exit $?"
regvault --catalog ./bad.db catalog rebuild --from ./nothing-here 2>/dev/null
echo "exit $?"
# A failed rebuild leaves no catalog behind.
ls bad.db* 2>/dev/null | wc -l
