#!/usr/bin/env bash
# A repositories glob that matches no repository (a typo) is said on stderr
# and is no error: the plan is only smaller, never wider. The glob that
# matches still plans its images.
h="$RV_REG_PLAIN/t/cli/$$/app"
skopeo copy -q --preserve-digests --policy "$RV_SKOPEO_POLICY" \
	"oci:$RV_FX_LAYOUT:image" "docker://$h:v1" --dest-tls-verify=false || exit 1
printf 'version: 1\nregistry: %s\nrepositories: ["t/cli/%s/*", "t/cli/%s-typo/*"]\n' \
	"$RV_REG_PLAIN" "$$" "$$" >p.yaml
printf 'safekeeping: {archive: ./vault}\ndeployed: none\nkeep: [{tags: ["v1"]}]\n' >>p.yaml
regvault --catalog ./cat.db prune --policy ./p.yaml 2>err | tail -n 1
echo "exit ${PIPESTATUS[0]}"
sed -e "s#$RV_REG_PLAIN#REG#g" -e "s#/$$#/N#g" err
