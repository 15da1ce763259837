#!/usr/bin/env bash
regvault --quiet=yes ls 127.0.0.1:5000
