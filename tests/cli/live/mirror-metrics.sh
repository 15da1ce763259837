#!/usr/bin/env bash
# --metrics-file: the Prometheus text format for node_exporter's textfile
# collector, mode 0644, replaced atomically (no temporary file left). A run
# that fails (a tag that does not exist: exit 1) says so, and carries the
# last successful run's time over from the file it replaces.
dst=$RV_REG_STANDBY/t/cli/mirror-metrics-$$
regvault mirror "$RV_REG_PLAIN/$RV_FX_IMAGE" --to "$dst" --catalog ./cat.db \
	--metrics-file ./m.prom >/dev/null
echo "exit $?"
cat m.prom
stat -c %a m.prom
value() { awk -v m="regvault_mirror_$1" 'index($0, m "{") == 1 { print $2 }' m.prom; }
ok=$(value last_success_timestamp_seconds)
[[ $ok == "$(value last_run_timestamp_seconds)" ]] && echo "success time = run time"
sleep 1.1
regvault mirror "$RV_REG_PLAIN/$RV_FX_IMAGE" "$RV_REG_PLAIN/fx/image:nope" --to "$dst" \
	--catalog ./cat.db --metrics-file ./m.prom >/dev/null 2>&1
echo "exit $?"
grep -E "_(images|last_run_success)\{" m.prom
[[ $(value last_success_timestamp_seconds) == "$ok" ]] && echo "last success carried over"
(($(value last_run_timestamp_seconds) > ok)) && echo "last run is newer"
find . -name "*tmp*" | wc -l
