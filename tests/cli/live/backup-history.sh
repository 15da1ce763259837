#!/usr/bin/env bash
# A tag that moved between two backups has two digests in its history,
# oldest first; the image it named before stays in the store by digest.
h="$RV_REG_PLAIN/t/cli/$$/app"
push() {
	skopeo copy -q --preserve-digests --policy "$RV_SKOPEO_POLICY" \
		"oci:$RV_FX_LAYOUT:$1" "docker://$h:v1" --dest-tls-verify=false
}
push image && regvault backup "$h:v1" --to ./store --catalog ./cat.db >/dev/null || exit 1
push child && regvault backup "$h" --to ./store --catalog ./cat.db >/dev/null || exit 1
regvault --catalog ./cat.db catalog history "$h:v1"
regvault --catalog ./cat.db -o json catalog history "$h:v1" |
	jq -r ".[] | \"\(.digest) \(.firstSeen <= .lastSeen)\""
regvault --catalog ./cat.db catalog list "$h*" | cut -d" " -f1 | sed "s|/$$/|/PID/|"
regvault --catalog ./cat.db catalog show "$h:v1" | sed -n 2p
regvault --catalog ./cat.db catalog history "$h:v2"
echo "exit $?"
