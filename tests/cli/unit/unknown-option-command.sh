#!/usr/bin/env bash
# After the command name its own help is suggested.
regvault ls --bogus=1 127.0.0.1:5000
