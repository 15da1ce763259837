#!/usr/bin/env bash
# A plain-HTTP registry under a name regvault does not know as loopback (a
# Compose service "registry:5000", a name from /etc/hosts) is refused — TLS
# is the default, as in Docker — with a hint naming --insecure-registry, and
# works with it. "127.1" reaches 127.0.0.1 through the resolver but is not a
# loopback literal to regvault, so it stands in for such a name here.
port=${RV_REG_PLAIN##*:}
regvault ls "127.1:$port/fx/image" 2>err
echo "exit $?"
grep -c "^regvault: error: cannot reach registry \"127.1:$port\" over TLS: .*(if it speaks plain HTTP, pass --insecure-registry 127.1:$port to allow that)$" err
regvault ls "127.1:$port/fx/image" --insecure-registry "127.1:$port"
echo "exit $?"
