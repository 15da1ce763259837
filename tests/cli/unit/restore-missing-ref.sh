#!/usr/bin/env bash
# restore without REF: the usage error and its hint, exit 2.
regvault --catalog ./cat.db restore
