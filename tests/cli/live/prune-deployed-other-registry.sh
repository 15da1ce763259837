#!/usr/bin/env bash
# Fail closed: deployed sources that name images, none of them on the
# primary (the cluster pulls through a name the policy does not use, or
# names docker.io), protect nothing here. That is a source naming nothing
# for this registry: exit 3 before any delete, not a plan that deletes the
# deployed image. A loopback alias of a loopback primary ("localhost:PORT"
# for "127.0.0.1:PORT") is the same registry and protects the image; so
# does a reference on the primary itself.
h="$RV_REG_PLAIN/t/cli/$$/app"
skopeo copy -q --preserve-digests --policy "$RV_SKOPEO_POLICY" \
	"oci:$RV_FX_LAYOUT:image" "docker://$h:v1" --dest-tls-verify=false || exit 1
printf 'version: 1\nregistry: %s\nrepositories: ["t/cli/%s/*"]\n' "$RV_REG_PLAIN" "$$" >p.yaml
printf 'safekeeping: {archive: ./vault}\ndeployed: [{refs-file: deployed.txt}]\n' >>p.yaml
printf 'keep: [{tags: ["nothing-matches"]}]\nmax_delete: 100%%\n' >>p.yaml
printf 'registry.example.com/t/cli/%s/app:v1\ndocker.io/library/app:v1\n' "$$" >deployed.txt
regvault --catalog ./cat.db prune --policy ./p.yaml --execute 2>&1 |
	sed -e "s#$PWD/##g" -e "s#${RV_REG_PLAIN#*:}#PORT#g" -e "s#/$$/#/N/#g"
echo "exit ${PIPESTATUS[0]}"
regvault ls "$h"
printf 'LOCALHOST:%s/t/cli/%s/app:v1\n' "${RV_REG_PLAIN#*:}" "$$" >>deployed.txt
regvault --catalog ./cat.db prune --policy ./p.yaml | tail -n 1
echo "exit ${PIPESTATUS[0]}"
echo "$h:v1" >>deployed.txt
regvault --catalog ./cat.db prune --policy ./p.yaml | tail -n 1
echo "exit ${PIPESTATUS[0]}"
