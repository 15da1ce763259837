#!/usr/bin/env bash
# Credentials come from --authfile, REGISTRY_AUTH_FILE or the Docker config;
# without them the registry refuses: exit 2.
regvault ls "$RV_REG_BASIC/fx/image" 2>/dev/null
echo "exit $?"
auth=$(printf "%s:%s" "$RV_REG_BASIC_USER" "$RV_REG_BASIC_PASS" | base64 -w0)
printf "{\"auths\":{\"%s\":{\"auth\":\"%s\"}}}\n" "$RV_REG_BASIC" "$auth" >auth.json
regvault --authfile auth.json ls "$RV_REG_BASIC/fx/image"
echo "exit $?"
REGISTRY_AUTH_FILE=$PWD/auth.json regvault inspect "$RV_REG_BASIC/$RV_FX_IMAGE" | sed -n 2p
mkdir -p "$HOME/.docker" && cp auth.json "$HOME/.docker/config.json"
regvault ls "$RV_REG_BASIC/fx/image"
# A wrong password is refused the same way.
printf "{\"auths\":{\"%s\":{\"auth\":\"%s\"}}}\n" "$RV_REG_BASIC" "$(printf "%s:wrong" "$RV_REG_BASIC_USER" | base64 -w0)" >bad.json
regvault --authfile bad.json ls "$RV_REG_BASIC/fx/image" 2>/dev/null
echo "exit $?"
