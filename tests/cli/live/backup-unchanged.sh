#!/usr/bin/env bash
# A second backup of the same image writes nothing and adds no volume; the
# same digest under another name is listed from the catalog, no blob bytes.
regvault backup "$RV_REG_PLAIN/$RV_FX_IMAGE" --to ./store --catalog ./cat.db >/dev/null || exit 1
regvault backup "$RV_REG_PLAIN/$RV_FX_IMAGE" --to ./store --catalog ./cat.db
echo "exit $?"
ls store/volumes | wc -l
regvault backup "$RV_REG_PLAIN/$RV_FX_MANYTAGS_REPO:t00001" --to ./store --catalog ./cat.db
echo "exit $?"
regvault --catalog ./cat.db catalog list "*:t00001" | cut -d" " -f1
