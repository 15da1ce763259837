#!/usr/bin/env bash
regvault help backup
