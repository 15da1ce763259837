#!/usr/bin/env bash
# An invalid SOURCE is a usage error found before the catalog is created.
regvault --catalog ./cat.db mirror 127.0.0.1:5000/ok:1 "127.0.0.1:5000/Bad" --to 127.0.0.1:5001
echo "exit $?"
ls
