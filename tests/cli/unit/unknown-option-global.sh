#!/usr/bin/env bash
# Before the command name only global options are known.
regvault --bogus ls 127.0.0.1:5000
