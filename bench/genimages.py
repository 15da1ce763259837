#!/usr/bin/env python3
"""bench/genimages.py — the synthetic registry content bench/run pushes.

    python3 bench/genimages.py --out DIR [--profile full|quick] [--seed N]

Writes an OCI image layout DIR/layout (every top-level image or index named
by its org.opencontainers.image.ref.name, an id without ':' that skopeo's
oci: transport accepts), DIR/push.tsv (id, repository, tag, digest, media
type: one line per tag to push, bases first) and DIR/summary.json
(repositories, tags, manifests, blobs, unique bytes).

Same profile and seed -> the same bytes on every machine: layer content
comes from SHAKE-256 keyed by seed and layer name, tar entries have fixed
owner, mode and mtime, gzip is zlib's (mtime 0, no name), JSON is compact
with sorted keys.

Layers are real gzip-compressed tars. Each file alternates 32 KiB of
pseudo-random bytes with 32 KiB of repetitive text, so layers compress to
about half their tar size (like real ones, unlike pure noise) while gzip at
level 1 keeps generation quick. Images share base layers the way builds do:
an image FROM a base has the base's layer list as a prefix of its own.
Some images are multi-platform OCI indexes (linux/amd64 and linux/arm64/v8),
each child a real image with layers of its own.

full:  23 repositories, 63 tags, about 530 MB of unique blobs.
quick:  3 repositories,  6 tags, about 4 MB.
"""

import argparse
import hashlib
import io
import json
import os
import sys
import tarfile
import zlib

MiB = 1024 * 1024
CHUNK = 32 * 1024
EPOCH = 1767225600  # 2026-01-01T00:00:00Z: every tar entry's mtime

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER_GZ = "application/vnd.oci.image.layer.v1.tar+gzip"

PLATFORMS = {
    "amd64": {"architecture": "amd64", "os": "linux"},
    "arm64": {"architecture": "arm64", "os": "linux", "variant": "v8"},
}


class Layout:
    def __init__(self, root, seed):
        self.root = root
        self.seed = seed
        self.blobdir = os.path.join(root, "blobs", "sha256")
        os.makedirs(self.blobdir, exist_ok=True)
        self.blobs = {}  # digest -> size
        self.refs = []  # (id, descriptor)
        self.layer_cache = {}  # layer name -> (descriptor, diff_id)

    def put(self, data):
        hexd = hashlib.sha256(data).hexdigest()
        path = os.path.join(self.blobdir, hexd)
        if not os.path.exists(path):
            with open(path + ".tmp", "wb") as f:
                f.write(data)
            os.replace(path + ".tmp", path)
        self.blobs["sha256:" + hexd] = len(data)
        return "sha256:" + hexd

    def content(self, name, size):
        """size bytes for file `name`: random and repetitive halves."""
        key = f"regvault-bench/{self.seed}/{name}".encode()
        rnd = hashlib.shake_256(key).digest((size + 1) // 2)
        line = f"{name}: the same line again, as logs and locales are\n".encode()
        text = (line * (CHUNK // len(line) + 1))[:CHUNK]
        out = bytearray()
        for off in range(0, len(rnd), CHUNK):
            out += rnd[off:off + CHUNK]
            out += text
        return bytes(out[:size])

    def layer(self, name, size):
        """A gzip tar layer of about `size` compressed bytes; cached by name."""
        if name in self.layer_cache:
            return self.layer_cache[name]
        raw = size * 2  # about half of every file compresses away
        nfiles = 1 if raw < 4 * MiB else 4
        buf = io.BytesIO()
        with tarfile.open(fileobj=buf, mode="w", format=tarfile.USTAR_FORMAT) as tar:
            d = tarfile.TarInfo("opt/" + name.replace("/", "_"))
            d.type, d.mode, d.mtime = tarfile.DIRTYPE, 0o755, EPOCH
            tar.addfile(d)
            for i in range(nfiles):
                part = raw // nfiles
                data = self.content(f"{name}/{i}", part)
                t = tarfile.TarInfo(f"{d.name}/part{i}.bin")
                t.size, t.mode, t.mtime = len(data), 0o644, EPOCH
                tar.addfile(t, io.BytesIO(data))
        tarbytes = buf.getvalue()
        diff_id = "sha256:" + hashlib.sha256(tarbytes).hexdigest()
        z = zlib.compressobj(1, zlib.DEFLATED, 31)  # 16 + 15: gzip, mtime 0
        gz = z.compress(tarbytes) + z.flush()
        desc = {"mediaType": OCI_LAYER_GZ, "digest": self.put(gz), "size": len(gz)}
        self.layer_cache[name] = (desc, diff_id)
        return self.layer_cache[name]

    def json_blob(self, obj):
        data = json.dumps(obj, sort_keys=True, separators=(",", ":")).encode()
        return data, self.put(data)

    def image(self, layers, arch, created, name):
        """An OCI image manifest over (descriptor, diff_id) pairs."""
        plat = PLATFORMS[arch]
        cfg = dict(plat)
        cfg.update({
            "created": created,
            "config": {"Env": ["PATH=/usr/local/bin:/usr/bin:/bin"]},
            "rootfs": {"type": "layers", "diff_ids": [l[1] for l in layers]},
            "history": [{"created": created, "created_by": f"bench {name} layer {i}"}
                        for i in range(len(layers))],
        })
        cdata, cdig = self.json_blob(cfg)
        man = {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": {"mediaType": OCI_CONFIG, "digest": cdig, "size": len(cdata)},
            "layers": [l[0] for l in layers],
            "annotations": {"org.opencontainers.image.created": created},
        }
        mdata, mdig = self.json_blob(man)
        return {"mediaType": OCI_MANIFEST, "digest": mdig, "size": len(mdata),
                "platform": plat}

    def index(self, children, created):
        idx = {
            "schemaVersion": 2,
            "mediaType": OCI_INDEX,
            "manifests": children,
            "annotations": {"org.opencontainers.image.created": created},
        }
        data, dig = self.json_blob(idx)
        return {"mediaType": OCI_INDEX, "digest": dig, "size": len(data)}

    def finish(self):
        manifests = []
        for ref_id, desc in self.refs:
            d = {k: desc[k] for k in ("mediaType", "digest", "size")}
            d["annotations"] = {"org.opencontainers.image.ref.name": ref_id}
            manifests.append(d)
        with open(os.path.join(self.root, "index.json"), "w") as f:
            json.dump({"schemaVersion": 2, "manifests": manifests}, f, sort_keys=True)
        with open(os.path.join(self.root, "oci-layout"), "w") as f:
            f.write('{"imageLayoutVersion":"1.0.0"}')


class Builder:
    """Repositories of images, each tag either one image or an index."""

    def __init__(self, layout):
        self.l = layout
        self.tags = []  # (id, repo, tag, descriptor)
        self.stack = {}  # (repo, tag, arch) -> layer list
        self.hour = 0

    def created(self):
        self.hour += 1
        h = self.hour
        return f"2026-01-{1 + h // 24:02d}T{h % 24:02d}:00:00Z"

    def tag(self, repo, tag, archs, base, new_layers):
        """repo:tag FROM base (a (repo, tag) pair or None); new_layers is a
        list of (name, size) added per platform (the name gets the arch)."""
        created = self.created()
        children = []
        for arch in archs:
            layers = list(self.stack[(base[0], base[1], arch)]) if base else []
            for lname, size in new_layers:
                layers.append(self.l.layer(f"{lname}/{arch}", size))
            self.stack[(repo, tag, arch)] = layers
            children.append(self.l.image(layers, arch, created, f"{repo}:{tag}"))
        if len(archs) == 1:
            desc = children[0]
        else:
            desc = self.l.index(children, created)
        ref_id = f"{repo}/{tag}".replace("/", "-")
        self.l.refs.append((ref_id, desc))
        self.tags.append((ref_id, repo, tag, desc))


BOTH = ["amd64", "arm64"]
AMD = ["amd64"]


def full(b):
    M = MiB
    # bases: 10 tags in 4 repositories, about 250 MB
    for t in ("3.18", "3.19", "3.20"):
        b.tag("base/alpine", t, BOTH, None, [(f"alpine-{t}", 3 * M)])
    for t in ("11", "12"):
        b.tag("base/debian", t, BOTH, None, [(f"debian-{t}", 28 * M)])
    for t in ("17", "21", "21.0.2"):
        b.tag("base/java", t, AMD, ("base/debian", "12"), [(f"jdk-{t}", 24 * M)])
    for t in ("3.11", "3.12"):
        b.tag("base/python", t, AMD, ("base/debian", "12"), [(f"python-{t}", 18 * M)])
    # 19 applications, 53 tags: a dependencies layer shared by every tag of a
    # repository, then a small layer of their own per tag.
    apps = [
        # repo, base, platforms, tags, deps MB, per-tag MB
        ("svc/api", ("base/java", "21"), AMD, 3, 8, 3),
        ("svc/billing", ("base/java", "17"), AMD, 3, 8, 3),
        ("svc/orders", ("base/java", "21"), AMD, 3, 8, 3),
        ("svc/search", ("base/java", "21.0.2"), AMD, 3, 8, 3),
        ("svc/users", ("base/java", "17"), AMD, 3, 6, 2),
        ("svc/gateway", ("base/alpine", "3.20"), BOTH, 3, 2, 1),
        ("svc/notify", ("base/alpine", "3.19"), BOTH, 3, 2, 1),
        ("ml/train", ("base/python", "3.11"), AMD, 3, 14, 3),
        ("ml/serve", ("base/python", "3.12"), AMD, 3, 10, 2),
        ("ml/features", ("base/python", "3.12"), AMD, 3, 6, 2),
        ("web/frontend", ("base/alpine", "3.20"), AMD, 3, 6, 2),
        ("web/admin", ("base/alpine", "3.20"), AMD, 3, 4, 2),
        ("web/docs", ("base/alpine", "3.18"), AMD, 3, 2, 1),
        ("tools/ci-runner", ("base/debian", "12"), BOTH, 3, 4, 1),
        ("tools/migrate", ("base/java", "21"), AMD, 3, 4, 1),
        ("data/etl", ("base/python", "3.11"), AMD, 2, 8, 3),
        ("data/report", ("base/python", "3.11"), AMD, 2, 6, 2),
        ("legacy/monolith", ("base/debian", "11"), AMD, 2, 20, 4),
        ("legacy/batch", ("base/debian", "11"), AMD, 2, 6, 2),
    ]
    for repo, base, archs, ntags, deps, own in apps:
        for i in range(ntags):
            t = f"v1.{i}.0"
            b.tag(repo, t, archs, base,
                  [(f"{repo}-deps", deps * M), (f"{repo}-{t}", own * M)])


def quick(b):
    K = 1024
    b.tag("base/alpine", "3.20", BOTH, None, [("alpine-3.20", 600 * K)])
    for t in ("v1", "v2", "v3"):
        b.tag("svc/api", t, AMD, ("base/alpine", "3.20"),
              [("svc/api-deps", 800 * K), (f"svc/api-{t}", 200 * K)])
    for t in ("v1", "v2"):
        b.tag("web/frontend", t, BOTH, ("base/alpine", "3.20"),
              [("web/frontend-deps", 300 * K), (f"web/frontend-{t}", 100 * K)])


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", required=True)
    ap.add_argument("--profile", choices=("full", "quick"), default="full")
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()

    layout = Layout(os.path.join(a.out, "layout"), a.seed)
    b = Builder(layout)
    (full if a.profile == "full" else quick)(b)
    unique = sum(layout.blobs.values())
    nblobs, nlayers = len(layout.blobs), len(layout.layer_cache)

    with open(os.path.join(a.out, "push.tsv"), "w") as f:
        for ref_id, repo, tag, desc in b.tags:
            f.write(f"{ref_id}\t{repo}\t{tag}\t{desc['digest']}\t{desc['mediaType']}\n")
    # Not part of the registry content: a small image for the 5,000-tag
    # repository (bench/run seeds its tags straight into storage).
    tiny = layout.image([layout.layer("tiny", 4096)], "amd64", "2026-01-01T00:00:00Z", "tiny")
    layout.refs.append(("tiny", tiny))
    layout.finish()
    with open(os.path.join(a.out, "tiny.digest"), "w") as f:
        f.write(tiny["digest"] + "\n")
    summary = {
        "profile": a.profile,
        "seed": a.seed,
        "repositories": len({t[1] for t in b.tags}),
        "tags": len(b.tags),
        "indexes": sum(1 for t in b.tags if t[3]["mediaType"] == OCI_INDEX),
        "blobs": nblobs,
        "layers": nlayers,
        "uniqueBytes": unique,
    }
    with open(os.path.join(a.out, "summary.json"), "w") as f:
        json.dump(summary, f, sort_keys=True)
        f.write("\n")
    print(json.dumps(summary, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
