#!/usr/bin/env bash
regvault ls -l 127.0.0.1:5000
