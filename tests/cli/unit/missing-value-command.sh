#!/usr/bin/env bash
regvault inspect 127.0.0.1:5000/app --platform
