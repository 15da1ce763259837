#!/usr/bin/env bash
regvault ls
