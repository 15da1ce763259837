#!/usr/bin/env bash
# Bearer tokens from the token server, with the credentials of the auth file.
auth=$(printf "%s:%s" "$RV_TOKEN_USER" "$RV_TOKEN_PASS" | base64 -w0)
printf "{\"auths\":{\"%s\":{\"auth\":\"%s\"}}}\n" "$RV_REG_TOKEN" "$auth" >auth.json
regvault --authfile auth.json ls -l "$RV_REG_TOKEN/fx/image" | cut -c1-2
regvault --authfile auth.json -o json inspect "$RV_REG_TOKEN/$RV_FX_IMAGE" | jq -r .digest
regvault inspect "$RV_REG_TOKEN/$RV_FX_IMAGE" 2>/dev/null
echo "exit $?"
