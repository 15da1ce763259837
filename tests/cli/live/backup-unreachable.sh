#!/usr/bin/env bash
# A registry that cannot be reached fails its images (exit 1).
regvault backup 127.0.0.1:1/app:1 --to ./store --catalog ./cat.db
echo "exit $?"
