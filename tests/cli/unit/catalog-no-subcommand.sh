#!/usr/bin/env bash
regvault catalog
