#!/bin/bash
# tests/harness/down.sh DIR — stop the servers up.sh started in DIR (only
# those PIDs, and only while they still belong to DIR) and free their storage
# (tmpfs) unless RV_HARNESS_KEEP=1. Logs and configs stay in DIR for
# post-mortems; the next up.sh wipes them.
set -euo pipefail
[[ $# -eq 1 && -n $1 ]] || {
	echo "usage: down.sh DIR" >&2
	exit 2
}
RV_DIR=$(realpath -m -- "$1")
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh
source "$HERE/lib.sh"
[[ -d $RV_DIR ]] || exit 0
rv_stop_recorded
[[ ${RV_HARNESS_KEEP:-0} == 1 ]] || rv_storage_remove
rm -f "$RV_DIR/env" # a stale env would point tests at dead ports
