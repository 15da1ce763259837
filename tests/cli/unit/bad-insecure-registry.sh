#!/usr/bin/env bash
regvault --insecure-registry https://127.0.0.1:5000 ls 127.0.0.1:5000
