#!/usr/bin/env bash
regvault -o json inspect --raw 127.0.0.1:5000/app:1
