#!/usr/bin/env bash
regvault catalog usage
echo "exit $?"
regvault catalog --deep verify
echo "exit $?"
