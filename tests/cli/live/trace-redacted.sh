#!/usr/bin/env bash
# REGVAULT_TRACE=1 logs the HTTP exchange on stderr, stdout stays the
# result, and neither the password nor the Authorization value appears.
auth=$(printf "%s:%s" "$RV_REG_BASIC_USER" "$RV_REG_BASIC_PASS" | base64 -w0)
printf "{\"auths\":{\"%s\":{\"auth\":\"%s\"}}}\n" "$RV_REG_BASIC" "$auth" >auth.json
REGVAULT_TRACE=1 regvault --authfile auth.json ls "$RV_REG_BASIC/fx/image" 2>err
grep -q "^regvault: trace: " err && echo traced
grep -qi "authorization" err && echo "authorization header logged"
grep -c -e "$RV_REG_BASIC_PASS" -e "$auth" err
regvault -vvv --authfile auth.json ls "$RV_REG_BASIC/fx/image" 2>err2 >/dev/null
grep -q "^regvault: trace: " err2 && echo "traced with -vvv"
grep -c -e "$RV_REG_BASIC_PASS" -e "$auth" err2
exit 0
