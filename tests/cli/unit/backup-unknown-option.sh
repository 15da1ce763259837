#!/usr/bin/env bash
regvault backup --to ./store --referrers 127.0.0.1:5000/app:1
