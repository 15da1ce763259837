#!/usr/bin/env bash
# restore --from a tarball whose tar is sound but whose bytes lie: a layer
# that does not hash to its name, an index.json naming a manifest the tar
# does not hold, a manifest naming a config it does not hold. Each fails in
# one line naming the digest; no manifest or tag reaches the registry. The
# same layout with honest bytes restores (the control).
set -u
mkdir -p L/blobs/sha256
blob() { local h; h=$(sha256sum "$1" | cut -d" " -f1); cp "$1" "L/blobs/sha256/$h"; echo "$h"; }
printf '{"imageLayoutVersion":"1.0.0"}' >L/oci-layout
printf '{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]},"n":%d}' $$ >cfg
head -c 3000 /dev/urandom >layer
cfg=$(blob cfg) lay=$(blob layer)
printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:%s","size":%d},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"sha256:%s","size":%d}]}' \
	"$cfg" "$(stat -c %s cfg)" "$lay" "$(stat -c %s layer)" >man
man=$(blob man)
printf '{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:%s","size":%d,"annotations":{"org.opencontainers.image.ref.name":"reg.example.com/team/app:v1"}}]}' \
	"$man" "$(stat -c %s man)" >L/index.json
mktar() { tar --sort=name -C L -cf "$1" oci-layout index.json blobs; }
mktar good.tar
cp "L/blobs/sha256/$lay" layer.keep
head -c 3000 /dev/urandom >"L/blobs/sha256/$lay"
mktar badlayer.tar
cp layer.keep "L/blobs/sha256/$lay"
mv "L/blobs/sha256/$man" man.keep
mktar nomanifest.tar
mv man.keep "L/blobs/sha256/$man"
rm "L/blobs/sha256/$cfg"
mktar noconfig.tar

base="t/cli/$$"
show() { sed -e "s|$lay|LAYER|g" -e "s|$man|MANIFEST|g" -e "s|$cfg|CONFIG|g" -e "s|$base|BASE|g" \
	-e "s|sha256:[0-9a-f]\{64\}|sha256:OTHER|g" -e "s| in [0-9.]* s,| in T s,|"; }
for t in badlayer nomanifest noconfig good; do
	regvault restore --from "./$t.tar" --to "$RV_REG_STANDBY/$base/$t:v1" 2>&1 | show
	echo "$t: exit ${PIPESTATUS[0]}"
	curl -s -o /dev/null -w "  tag v1: %{http_code}\n" \
		-H "Accept: application/vnd.oci.image.manifest.v1+json" \
		"http://$RV_REG_STANDBY/v2/$base/$t/manifests/v1"
done
