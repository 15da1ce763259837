#!/usr/bin/env bash
# restore --from refuses an OCI layout tarball that lies about its paths
# (../x, absolute), links (symbolic, hard), holds a FIFO, stores a blob
# twice or is cut in the middle of a blob: one line naming the file and the
# entry, exit 2, before any registry is contacted (nothing listens at
# --to; a dry run of the good tarball there fails), and nothing is written anywhere: the traversal's target stays
# absent. The tars are made with GNU tar (--sort=name: the same bytes
# every run).
set -u
mkdir -p L/blobs/sha256 a/b
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
mktar() { tar --sort=name --mtime=@0 --owner=0 --group=0 -C L -cf "$1" oci-layout index.json blobs; }

mktar good.tar
# ../ and absolute names (-P keeps them as given).
echo x >a/rv-cli-canary
cp good.tar dotdot.tar
(cd a/b && tar -P -rf ../../dotdot.tar ../rv-cli-canary)
cp good.tar abs.tar
tar -P -rf abs.tar "$PWD/a/rv-cli-canary"
# A blob that is a symbolic link out, and one that is a hard link.
cp -a L L.keep
ln -sf /etc/passwd "L/blobs/sha256/$lay"
mktar symlink.tar
rm -rf L && cp -a L.keep L
ln -f L/oci-layout "L/blobs/sha256/$cfg"
mktar hardlink.tar
rm -rf L && mv L.keep L
# A FIFO; the layer stored twice (the second copy other bytes).
mkfifo fifo
cp good.tar fifo.tar
tar -rf fifo.tar fifo
mkdir -p D/blobs/sha256
head -c 3000 /dev/zero | tr '\0' b >"D/blobs/sha256/$lay"
cp good.tar dup.tar
tar -C D -rf dup.tar "blobs/sha256/$lay"
# Cut in the middle of the layer's bytes.
blk=$(tar -tvR -f good.tar | sed -n "s|^block \([0-9]*\): .* blobs/sha256/$lay\$|\1|p")
head -c $(((blk + 1) * 512 + 1000)) good.tar >cut.tar

# The control: good.tar opens (the image asked for is just not in it).
for t in good dotdot abs symlink hardlink fifo dup cut; do
	regvault restore --from "./$t.tar" nope --to 127.0.0.1:9/t/x 2>&1 |
		sed -e "s|$PWD|PWD|g" -e "s|$lay|LAYER|g" -e "s|$cfg|CONFIG|g"
	echo "$t: exit ${PIPESTATUS[0]}"
done
# A dry run asks the target what it lacks: one nobody answers at fails it
# (exit 1), it does not report every blob as "to upload".
regvault restore --from ./good.tar reg.example.com/team/app:v1 --to 127.0.0.1:9/t/x \
	--dry-run 2>&1 | sed -e "s|$lay|LAYER|g" -e "s|$cfg|CONFIG|g" -e "s|$man|MANIFEST|g"
echo "dry-run: exit ${PIPESTATUS[0]}"
[[ -e ../rv-cli-canary || -e ../../rv-cli-canary ]] && echo "ESCAPED"
exit 0
