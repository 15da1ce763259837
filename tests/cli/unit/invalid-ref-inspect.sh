#!/usr/bin/env bash
# An invalid reference: exit 2, one line on stderr quoting it, no network.
regvault inspect 127.0.0.1:5000/Team/App:1.0
