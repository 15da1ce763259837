#!/usr/bin/env bash
# Other live tests write under t/ while this runs: count only the fixtures.
regvault ls "$RV_REG_PLAIN" --output json |
	jq -r '.registry, ([.repositories[] | select(startswith("t/") | not)] | length), (.repositories | index("fx/multi") != null)'
