#!/usr/bin/env bash
regvault catalog sizes
echo "exit $?"
regvault catalog --deep verify
echo "exit $?"
