#!/usr/bin/env bash
regvault inspect --raw
