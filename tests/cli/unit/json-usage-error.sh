#!/usr/bin/env bash
# In json mode a usage error is also one JSON document on stdout.
regvault -o json frobnicate
