#!/usr/bin/env bash
# Every repository, following _catalog pages (the registry pages at 100).
# Other live tests write under t/ while this runs: count only the fixtures.
regvault ls "$RV_REG_PLAIN" >repos || exit 1
grep -v '^t/' repos | wc -l
grep -x -e fx/image -e fx/multi -e fx/manytags repos
sort -c repos && echo sorted
