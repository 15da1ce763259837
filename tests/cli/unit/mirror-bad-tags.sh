#!/usr/bin/env bash
# A tag glob may be any text but not empty.
regvault --catalog ./cat.db mirror 127.0.0.1:5000/app --to 127.0.0.1:5001 --tags "" 2>&1
echo "exit $?"
regvault --catalog ./cat.db mirror 127.0.0.1:5000/app --to 127.0.0.1:5001 \
	--tags "v*" --exclude-tags= 2>&1
echo "exit $?"
ls
