#!/usr/bin/env bash
# backup --metrics-file: Prometheus text for node_exporter, labelled with the
# store, mode 0644. A run with a failed image (a tag that does not exist:
# exit 1) says so and carries the last success's time over.
regvault backup "$RV_REG_PLAIN/$RV_FX_IMAGE" --to ./store --catalog ./cat.db \
	--metrics-file ./b.prom >/dev/null
echo "exit $?"
grep -v '^#' b.prom | sed -e 's/} [0-9]*\.[0-9]\{3\}$/} T/' -e 's/} 1[0-9]\{9\}$/} EPOCH/' \
	-e 's/_bytes_written{store="\.\/store"} [1-9][0-9]*$/_bytes_written{store=".\/store"} N/'
grep -c '^# TYPE regvault_backup_[a-z_]* gauge$' b.prom
stat -c %a b.prom
value() { awk -v m="regvault_backup_$1" 'index($0, m "{") == 1 { print $2 }' b.prom; }
ok=$(value last_success_timestamp_seconds)
sleep 1.1
regvault backup "$RV_REG_PLAIN/$RV_FX_IMAGE" "$RV_REG_PLAIN/fx/image:nope" --to ./store \
	--catalog ./cat.db --metrics-file ./b.prom >/dev/null 2>&1
echo "exit $?"
grep -E '_(images|last_run_success)\{' b.prom
[[ $(value last_success_timestamp_seconds) == "$ok" ]] && echo "last success carried over"
(($(value last_run_timestamp_seconds) > ok)) && echo "last run is newer"
