#!/usr/bin/env bash
# A second mirror finds everything unchanged in the catalog: no bytes move,
# no manifest is put. A tag that moves on the source moves on the standby.
src=$RV_REG_PLAIN/t/cli/mirror-unchanged-$$
dst=$RV_REG_STANDBY/t/cli/mirror-unchanged-$$
skopeo copy --quiet --all --preserve-digests --src-tls-verify=false --dest-tls-verify=false \
	--policy "$RV_SKOPEO_POLICY" "docker://$RV_REG_PLAIN/$RV_FX_IMAGE" "docker://$src/app:1" || exit 1
regvault mirror "$src/app" "$RV_REG_PLAIN/$RV_FX_MULTI" --to "$dst" --catalog ./cat.db >/dev/null || exit 1
regvault mirror "$src/app" "$RV_REG_PLAIN/$RV_FX_MULTI" --to "$dst" --catalog ./cat.db
echo "exit $?"
# The tag moves: the same name now names the Docker image.
skopeo copy --quiet --all --preserve-digests --src-tls-verify=false --dest-tls-verify=false \
	--policy "$RV_SKOPEO_POLICY" "docker://$RV_REG_PLAIN/$RV_FX_DOCKER" "docker://$src/app:1" || exit 1
regvault mirror -o json "$src/app" --to "$dst" --catalog ./cat.db |
	jq -r ".images[] | .status + \" \" + .digest"
regvault inspect -o json "$dst/t/cli/mirror-unchanged-$$/app:1" | jq -r .digest
