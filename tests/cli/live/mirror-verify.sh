#!/usr/bin/env bash
# catalog verify checks registry copies too: after a mirror it passes;
# once a layer's link is gone from the standby's storage (the registry
# answers 404 for it) quick and deep verify name it (exit 1), drop the
# copy, and the next mirror puts it back.
prefix=t/cli/mirror-verify-$$
dst=$RV_REG_STANDBY/$prefix
regvault mirror "$RV_REG_PLAIN/$RV_FX_IMAGE" --to "$dst" --catalog ./cat.db >/dev/null || exit 1
regvault --catalog ./cat.db catalog verify
echo "exit $?"
regvault --catalog ./cat.db catalog verify --deep
echo "exit $?"
layer=${RV_FX_IMAGE_LAYERS%%,*}
rm "$RV_REG_STANDBY_ROOT/docker/registry/v2/repositories/$prefix/fx/image/_layers/sha256/${layer#sha256:}/link" || exit 1
regvault --catalog ./cat.db -o json catalog verify --deep >out.json
echo "exit $?"
jq -r --arg dst "$dst" --arg layer "$layer" ".failures[] |
	[.store == \$dst, .ref == \$dst + \"/fx/image:v1\", .digest == \$layer, .error.code] | @tsv" out.json |
	sort -u
regvault --catalog ./cat.db catalog list "*/fx/image:v1" | grep -o "(no verified copy)"
regvault mirror "$RV_REG_PLAIN/$RV_FX_IMAGE" --to "$dst" --catalog ./cat.db | awk "{ print \$1 }"
regvault --catalog ./cat.db catalog verify
echo "exit $?"
rm "$RV_REG_STANDBY_ROOT/docker/registry/v2/repositories/$prefix/fx/image/_layers/sha256/${layer#sha256:}/link" || exit 1
regvault --catalog ./cat.db catalog verify
echo "exit $?"
