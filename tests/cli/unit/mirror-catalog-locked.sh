#!/usr/bin/env bash
# A second run that finds the catalog's writer lock taken (here by
# flock(1), as another regvault would hold it) stops at once: one clear
# line, exit 1, nothing contacted, no metrics file written (the run that
# holds the lock writes it).
flock ./cat.db.lock regvault --catalog ./cat.db mirror 127.0.0.1:9/app:1 \
	--to 127.0.0.1:9/standby --metrics-file ./m.prom
echo "exit $?"
ls
