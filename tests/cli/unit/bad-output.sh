#!/usr/bin/env bash
# Global options are read after the command name too, in both forms.
regvault ls 127.0.0.1:5000 --output=xml
