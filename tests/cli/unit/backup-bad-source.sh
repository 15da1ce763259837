#!/usr/bin/env bash
# An invalid SOURCE is a usage error found before the catalog or the
# store is touched: neither is created.
regvault --catalog ./cat.db backup 127.0.0.1:5000/ok:1 "127.0.0.1:5000/Bad" --to ./store
echo "exit $?"
ls
