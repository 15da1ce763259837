#!/usr/bin/env bash
# 5,000 tags come back whole, through the tags/list Link pages.
regvault ls "$RV_REG_PLAIN/$RV_FX_MANYTAGS_REPO" >tags || exit 1
wc -l <tags
head -n 1 tags
tail -n 1 tags
