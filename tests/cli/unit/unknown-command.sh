#!/usr/bin/env bash
regvault frobnicate 127.0.0.1:5000
