#!/usr/bin/env bash
# After "--" nothing is an option: "--bogus" is a (bad) reference.
regvault ls -- --bogus
