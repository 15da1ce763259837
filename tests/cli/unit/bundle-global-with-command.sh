#!/usr/bin/env bash
# -v is global, -l belongs to ls: they are written apart.
regvault ls -lv 127.0.0.1:5000/app
