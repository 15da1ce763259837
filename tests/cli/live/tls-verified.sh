#!/usr/bin/env bash
# TLS is verified, on loopback too: an unknown CA is a configuration
# problem (exit 2) until --ca-cert trusts it or --insecure-registry names the host.
regvault ls "$RV_REG_TLS/fx/image" 2>err
echo "exit $?"
grep -c "^regvault: error: " err
regvault --ca-cert "$RV_REG_TLS_CA" ls "$RV_REG_TLS/fx/image"
echo "exit $?"
regvault ls "$RV_REG_TLS/fx/image" --insecure-registry "$RV_REG_TLS"
echo "exit $?"
regvault -o json ls "$RV_REG_TLS/fx/image" 2>/dev/null | jq -r .error.code
