#!/usr/bin/env bash
# --to is required; nothing is created.
regvault --catalog ./cat.db mirror 127.0.0.1:5000/app:1
rc=$?
ls
exit $rc
