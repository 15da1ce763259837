#!/usr/bin/env bash
regvault backup --to ./store
