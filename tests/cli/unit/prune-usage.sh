#!/usr/bin/env bash
# Usage errors of prune, each exit 2 before the policy is read or anything
# is contacted: no --policy, an unknown option, an argument, --plan-out
# with --apply, empty values, a --plan-out whose directory is missing, a
# bad --now. No catalog is created.
while IFS= read -r args; do
	eval "set -- $args"
	regvault --catalog ./cat.db prune "$@" 2>&1 | sed -n 1p
	echo "exit ${PIPESTATUS[0]}"
done <<EOF_ARGS

--execute
--policy p.yaml --bogus
--policy p.yaml 127.0.0.1:5000/app
--policy p.yaml --apply plan.json --plan-out out.json
--policy p.yaml --plan-out ''
--policy p.yaml --apply ''
--policy p.yaml --kubectl ''
--policy p.yaml --plan-out no/such/dir/plan.json
--policy p.yaml --now yesterday
--policy p.yaml --now 0
--policy
EOF_ARGS
ls
