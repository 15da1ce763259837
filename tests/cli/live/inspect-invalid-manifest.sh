#!/usr/bin/env bash
# A manifest the registry accepted but that is not valid to us (a duplicate
# JSON key: Go's parser takes the last, ours refuses) is bad input: exit 2,
# one line naming the manifest and the problem.
repo=t/cli/$$/broken
base=http://$RV_REG_PLAIN/v2/$repo
cfg_digest=sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a
loc=$(curl -fsS -D - -o /dev/null -X POST "$base/blobs/uploads/" |
	tr -d '\r' | sed -n 's/^[Ll]ocation: //p')
[[ $loc == http* ]] || loc=http://$RV_REG_PLAIN$loc
curl -fsS -o /dev/null -X PUT -H 'Content-Type: application/octet-stream' \
	--data-binary '{}' "$loc&digest=$cfg_digest" || exit 9
manifest='{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",
"config":{"mediaType":"application/vnd.oci.empty.v1+json","digest":"'$cfg_digest'","size":2},
"layers":[],"annotations":{"a":"1"},"annotations":{"a":"2"}}'
curl -fsS -o /dev/null -X PUT -H 'Content-Type: application/vnd.oci.image.manifest.v1+json' \
	--data-binary "$manifest" "$base/manifests/v1" || exit 9
regvault inspect "$RV_REG_PLAIN/$repo:v1" 2>err
echo "exit $?"
wc -l <err
grep -c 'duplicate' err
