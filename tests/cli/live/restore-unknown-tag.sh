#!/usr/bin/env bash
# A name the catalog does not know is exit 2 with the names that are
# right; a digest no store holds, a missing catalog, an unknown run and a
# time before the tag's history are exit 1. Nothing is pushed.
h="$RV_REG_PLAIN/t/cli/$$/app"
skopeo copy -q --preserve-digests --policy "$RV_SKOPEO_POLICY" \
	"oci:$RV_FX_LAYOUT:image" "docker://$h:v1" --dest-tls-verify=false || exit 1
regvault backup "$h:v1" --to ./store --catalog ./cat.db >/dev/null || exit 1
regvault restore "$h:v2" --catalog ./cat.db
echo "exit $?"
regvault restore "$RV_REG_PLAIN/t/cli/$$/ap:v1" --catalog ./cat.db
echo "exit $?"
regvault -o json restore "$h:v2" --catalog ./cat.db 2>/dev/null | jq -r .error.code
regvault restore "$h@$RV_FX_CHILD_DIGEST" --catalog ./cat.db
echo "exit $?"
regvault restore "$h:v1" --catalog ./missing.db
echo "exit $?"
regvault restore --run 999 --catalog ./cat.db
echo "exit $?"
# A known tag asked for at a time before regvault first saw it: exit 1,
# saying so (not "not in the catalog" with itself as the close match).
regvault restore "$h:v1" --at 2000-01-01T00:00:00Z --catalog ./cat.db
echo "exit $?"
ls
