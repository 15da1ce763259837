#!/usr/bin/env bash
regvault --catalog ./cat.db catalog rebuild
rc=$?
ls
exit $rc
