#!/usr/bin/env bash
# A drill needs a count and a scratch registry; bad values and mixing it
# with --deep are usage errors (exit 2), found before anything is opened.
regvault catalog verify --drill 3
echo "exit $?"
regvault catalog verify --to 127.0.0.1:5000
echo "exit $?"
regvault catalog verify --drill 0 --to 127.0.0.1:5000
echo "exit $?"
regvault catalog verify --drill 2 --to 127.0.0.1:5000 --seed -1
echo "exit $?"
regvault catalog verify --deep --drill 2 --to 127.0.0.1:5000
echo "exit $?"
regvault catalog usage 127.0.0.1:5000 --drill 2
echo "exit $?"
regvault catalog usage
echo "exit $?"
regvault catalog usage 127.0.0.1:5000 --price-per-gb-month abc
echo "exit $?"
regvault catalog usage 127.0.0.1:5000 --policy ./none.yaml
echo "exit $?"
[[ ! -e $HOME/.local/share/regvault ]] && echo "no catalog created"
