#!/usr/bin/env bash
regvault help frobnicate
