#!/usr/bin/env bash
regvault --ca-cert=./nope.pem inspect 127.0.0.1:5000/app
