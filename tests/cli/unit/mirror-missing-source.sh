#!/usr/bin/env bash
# At least one SOURCE; nothing is created.
regvault --catalog ./cat.db mirror --to 127.0.0.1:5001/standby
rc=$?
ls
exit $rc
