#!/usr/bin/env bash
# verify --deep re-hashes every copy; one flipped byte inside a volume is
# found, named by digest (exit 1) and dropped, so the image no longer
# counts as held: list marks it and the next verify passes.
regvault backup "$RV_REG_PLAIN/$RV_FX_IMAGE" --to ./store --catalog ./cat.db >/dev/null || exit 1
regvault --catalog ./cat.db catalog verify --deep
echo "exit $?"
regvault --catalog ./cat.db -o json catalog show "$RV_REG_PLAIN/$RV_FX_IMAGE" >show.json || exit 1
vol=store/$(jq -r ".copies[0].volume" show.json)
off=$(jq -r ".copies[0].offset" show.json)
# The manifest is indented JSON: its second byte is a newline, never "X".
printf X | dd of="$vol" bs=1 seek=$((off + 1)) conv=notrunc status=none || exit 1
regvault --catalog ./cat.db catalog verify
echo "exit $?"
regvault --catalog ./cat.db catalog verify --deep
echo "exit $?"
regvault --catalog ./cat.db catalog verify --deep
echo "exit $?"
regvault --catalog ./cat.db catalog list "*/fx/image:v1" | grep -o "(no verified copy)"
regvault --catalog ./cat.db -o json catalog verify --deep | jq -c "[.checked > 0, .bytesHashed > 0, .failures]"
