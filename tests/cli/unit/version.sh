#!/usr/bin/env bash
regvault --version
