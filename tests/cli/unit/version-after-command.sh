#!/usr/bin/env bash
regvault ls --version
