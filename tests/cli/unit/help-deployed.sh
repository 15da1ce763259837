#!/usr/bin/env bash
regvault help deployed
