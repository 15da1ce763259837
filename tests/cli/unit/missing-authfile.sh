#!/usr/bin/env bash
# A path given on the command line that cannot be read is a usage error.
regvault ls 127.0.0.1:5000 --authfile ./nope.json
