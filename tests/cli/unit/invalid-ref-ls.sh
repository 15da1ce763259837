#!/usr/bin/env bash
regvault ls "127.0.0.1:5000/app:1.0"
