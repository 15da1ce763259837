#!/usr/bin/env bash
# Two runs on one catalog: the second, started while the first holds the
# catalog's lock (slowed down by --max-rps), stops at once with one line
# and exit 1, writing no metrics; the first finishes undisturbed.
dst=$RV_REG_STANDBY/t/cli/mirror-locked-$$
regvault mirror "$RV_REG_PLAIN/$RV_FX_IMAGE" --to "$dst" --catalog ./cat.db >/dev/null || exit 1
regvault mirror "$RV_REG_PLAIN/$RV_FX_IMAGE" --to "$dst" --catalog ./cat.db --max-rps 0.5 \
	--metrics-file ./first.prom >first.out 2>first.err &
pid=$!
# Until the first holds the lock (bounded): /proc/locks names the locked
# file by MAJOR:MINOR:INODE. Looking there takes no lock that could race it.
dev=$(stat -c %d cat.db.lock) ino=$(stat -c %i cat.db.lock)
id=$(printf '%02x:%02x:%d' $(((dev >> 8) & 0xfff)) $(((dev & 0xff) | ((dev >> 12) & 0xfff00))) "$ino")
for ((i = 0; i < 200; i++)); do
	grep -q " $id " /proc/locks && break
	sleep 0.05
done
regvault mirror "$RV_REG_PLAIN/$RV_FX_IMAGE" --to "$dst" --catalog ./cat.db --metrics-file ./second.prom
echo "exit $?"
[[ -e second.prom ]] || echo "no metrics from the refused run"
wait "$pid"
echo "first: exit $?"
awk "{ print \$1 }" first.out
cat first.err
grep -c "^regvault_mirror_last_run_success{.*} 1$" first.prom
