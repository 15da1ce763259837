#!/usr/bin/env bash
# catalog rebuild from volumes that lie. A blob whose bytes do not match its
# name is left out and the image is listed but not verified (exit 1); an
# image whose manifest the volumes do not hold is left out with a warning
# (exit 1);
# a volume with a "../" entry or a blob stored twice fails the rebuild in
# one line naming volume and entry (exit 2), leaving no catalog behind.
set -u
mkdir -p L/blobs/sha256
blob() { local h; h=$(sha256sum "$1" | cut -d" " -f1); cp "$1" "L/blobs/sha256/$h"; echo "$h"; }
printf '{"imageLayoutVersion":"1.0.0"}' >L/oci-layout
printf '{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}' >cfg
head -c 3000 /dev/zero | tr '\0' a >layer
cfg=$(blob cfg) lay=$(blob layer)
printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:%s","size":%d},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"sha256:%s","size":%d}]}' \
	"$cfg" "$(stat -c %s cfg)" "$lay" "$(stat -c %s layer)" >man
man=$(blob man)
printf '{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:%s","size":%d,"annotations":{"org.opencontainers.image.ref.name":"reg.example.com/team/app:v1"}}]}' \
	"$man" "$(stat -c %s man)" >L/index.json
vol=volumes/000001-20260101T000000Z.tar
mkstore() { mkdir -p "$1/volumes"; tar --sort=name --mtime=@0 --owner=0 --group=0 -C L -cf "$1/$vol" oci-layout index.json blobs; }
show() { sed -e "s|$lay|LAYER|g" -e "s|$man|MANIFEST|g" -e "s|([0-9.]* [kMG]*B)|(SIZE)|"; }

mkstore good
# The layer's bytes changed, its name kept.
head -c 3000 /dev/zero | tr '\0' b >"L/blobs/sha256/$lay"
mkstore badblob
blob layer >/dev/null
# The manifest is missing.
mv "L/blobs/sha256/$man" man.keep
mkstore nomanifest
mv man.keep "L/blobs/sha256/$man"
# A "../" entry; the layer stored twice.
mkstore dotdot
echo x >canary
(mkdir -p q && cd q && tar -P -rf "../dotdot/$vol" ../canary)
mkstore dup
mkdir -p D/blobs/sha256
head -c 3000 /dev/zero | tr '\0' b >"D/blobs/sha256/$lay"
tar -C D -rf "dup/$vol" "blobs/sha256/$lay"

for s in good badblob nomanifest dotdot dup; do
	regvault --catalog "./$s.db" catalog rebuild --from "./$s" 2>&1 | show
	echo "$s: exit ${PIPESTATUS[0]}"
	if [[ -e $s.db ]]; then
		regvault --catalog "./$s.db" -o json catalog list |
			jq -r '.[] | "  \(.reference) verified=\(.verified != null)"'
	else
		echo "  no catalog left"
	fi
done
