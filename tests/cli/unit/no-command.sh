#!/usr/bin/env bash
# No command: usage error, nothing on stdout.
regvault
