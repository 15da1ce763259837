#!/usr/bin/env bash
# -o json: one document on stdout, nothing on stderr; its shape.
dst=$RV_REG_STANDBY/t/cli/mirror-json-$$
regvault -o json mirror "$RV_REG_PLAIN/$RV_FX_IMAGE" "$RV_REG_PLAIN/fx/image:nope" --to "$dst" \
	--catalog ./cat.db >out.json 2>err
echo "exit $?"
jq -s length out.json
wc -c <err
jq -r --arg dst "$dst" "(.run > 0), (.to == \$dst), (.images | length),
	(.images[0] | .ref, .dst == \$dst + \"/fx/image:v1\", .digest, .status, (.bytesCopied > 0), has(\"error\")),
	(.images[1] | .ref, .status, .digest, .bytesCopied, .error.code),
	(.summary | keys | join(\",\")),
	(.summary | [.copied, .partial, .unchanged, .failed] | @csv),
	(.summary | .bytesCopied > 0 and .blobsCopied > 0 and .manifestsPut > 0 and .durationSeconds > 0)" out.json
regvault -o json mirror "$RV_REG_PLAIN/$RV_FX_IMAGE" --to "$dst" --catalog ./cat.db |
	jq -c "[.images[0].status, .summary.bytesCopied, .summary.manifestsPut, .summary.unchanged]"
