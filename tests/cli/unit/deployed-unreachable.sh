#!/usr/bin/env bash
# A registry that cannot be asked is not "missing": --check says FAILED
# with the reason for each reference (a tag shows '-'), counts them as
# not checked, and exits 1.
printf '127.0.0.1:9/app:1\n127.0.0.1:9/app@sha256:%064d\n' 0 >refs.txt
regvault deployed --deployed refs-file:./refs.txt --check
