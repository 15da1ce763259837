#!/usr/bin/env bash
regvault -vx ls 127.0.0.1:5000
