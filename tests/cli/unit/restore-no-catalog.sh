#!/usr/bin/env bash
# A catalog that does not exist is not created (it would know nothing):
# exit 1 naming it, for restore and for --run. Nothing is contacted.
regvault --catalog ./cat.db restore 127.0.0.1:9/app:1
echo "exit $?"
regvault --catalog ./cat.db restore --run 1
echo "exit $?"
ls
