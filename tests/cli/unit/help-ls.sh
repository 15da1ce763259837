#!/usr/bin/env bash
regvault ls --help
