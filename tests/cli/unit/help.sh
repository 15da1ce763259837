#!/usr/bin/env bash
# Global help: man-page sections, every command, the exit-code table.
regvault --help
