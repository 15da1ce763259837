#!/usr/bin/env bash
# -o json: one document on stdout, nothing on stderr, the run recorded.
regvault -o json backup "$RV_REG_PLAIN/$RV_FX_IMAGE" --to ./store --catalog ./cat.db >out.json 2>err
echo "exit $?"
jq -s length out.json
wc -c <err
jq -r "(.run > 0), .to, (.volume | test(\"^volumes/000001-[0-9]{8}T[0-9]{6}Z[.]tar$\")),
	(.volumeSize >= .bytesWritten), (.bytesWritten > 0), (.images | length),
	(.images[0] | .ref, .digest, .status, (.bytesWritten > 0), has(\"error\")),
	(.summary | [.copied, .listed, .unchanged, .failed] | @csv)" out.json
regvault -o json backup "$RV_REG_PLAIN/$RV_FX_IMAGE" --to ./store --catalog ./cat.db |
	jq -c "[.volume, .bytesWritten, .images[0].status]"
