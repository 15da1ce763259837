#!/usr/bin/env bash
# Control characters in what was typed never reach the terminal raw.
regvault inspect "$(printf "127.0.0.1:5000/a\\033[31mred")"
