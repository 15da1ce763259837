#!/usr/bin/env bash
# In json mode the error is also a document on stdout, code "invalid".
regvault inspect -o json "127.0.0.1:5000/a b"
