#!/usr/bin/env bash
# prune --metrics-file: the plan's decisions, what was deleted, whether it
# was a dry run and whether it was refused, labelled with the registry. A
# refused run (exit 3) is no success and carries the last success over.
h="$RV_REG_PLAIN/t/cli/$$/app"
for t in image:v1 multi:old; do
	skopeo copy -q --all --preserve-digests --policy "$RV_SKOPEO_POLICY" \
		"oci:$RV_FX_LAYOUT:${t%%:*}" "docker://$h:${t#*:}" --dest-tls-verify=false || exit 1
done
policy() { # KEEP_GLOB MAX_DELETE
	printf 'version: 1\nregistry: %s\nrepositories: ["t/cli/%s/*"]\n' "$RV_REG_PLAIN" "$$"
	printf 'safekeeping: {archive: ./vault}\ndeployed: none\n'
	printf 'keep: [{tags: ["%s"]}]\nmax_delete: %s\n' "$1" "$2"
}
policy v1 100% >p.yaml
show() {
	grep -E '^regvault_prune_(images|manifests_deleted|deletes_skipped|executed|refused|last_run_success)\{' m.prom |
		sed "s#registry=\"$RV_REG_PLAIN\"#registry=\"REG\"#"
}
regvault --catalog ./cat.db prune --policy ./p.yaml --metrics-file ./m.prom >/dev/null 2>&1
echo "dry run exit $?"
show
grep -c '^regvault_prune_bytes_reclaimable{.*} [1-9][0-9]*$' m.prom
regvault --catalog ./cat.db prune --policy ./p.yaml --execute --metrics-file ./m.prom >/dev/null 2>&1
echo "execute exit $?"
show
value() { awk -v m="regvault_prune_$1" 'index($0, m "{") == 1 { print $2 }' m.prom; }
ok=$(value last_success_timestamp_seconds)
policy nothing-matches 1% >p.yaml
regvault --catalog ./cat.db prune --policy ./p.yaml --execute --metrics-file ./m.prom >/dev/null 2>&1
echo "refused exit $?"
show
[[ $(value last_success_timestamp_seconds) == "$ok" ]] && echo "last success carried over"
stat -c %a m.prom
