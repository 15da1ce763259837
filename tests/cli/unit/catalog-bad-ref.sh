#!/usr/bin/env bash
# show and history take a reference; history follows a tag, not a digest.
regvault --catalog ./cat.db catalog show "127.0.0.1:5000/Bad:1" 2>&1 | sed -n 1p
echo "exit ${PIPESTATUS[0]}"
regvault --catalog ./cat.db catalog history "127.0.0.1:5000/app@sha256:$(printf "%064d" 0)"
echo "exit $?"
ls
