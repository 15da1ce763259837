#!/usr/bin/env python3
"""tests/crash/check.py — what a killed run left behind, checked without regvault.

Reads the catalog with Python's own SQLite and the stores with a tar reader
and an HTTP client of its own, so a bug in regvault's reading cannot hide a
bug in its writing:

  - the catalog passes SQLite's integrity check;
  - every archive volume the catalog records is there with its size and
    sha256; every blob entry of every committed volume hashes to its name;
  - every copy row (the catalog's promise "this store holds a verified copy
    of D") is kept: in an archive, D is in a committed volume (and at its
    recorded offset when one is recorded); in a standby registry, D is
    reachable from an image the catalog lists there, and every byte read
    back hashes to D;
  - every image a store is said to hold (a listed name whose digest has a
    copy row) is whole there: the manifest, its children, config and layers;
  - --expect: the work is done (after the rerun): the store lists the name
    at the digest and holds a verified copy of it;
  - --target/--target-must: a restore target's tag, when present, names the
    expected digest and the whole image is there (the tag is put last);
  - --present: manifests that must still be on a registry (nothing deleted);
  - --no-temp DIR: no temporary volume is left in DIR/volumes.

Prints one line per problem and exits 1 when there is any; prints a summary
line ("checked: ...") on stdout otherwise.
"""
import argparse
import hashlib
import json
import os
import socket
import sqlite3
import sys

ACCEPT = ", ".join([
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.v2+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
])

problems = []
counts = {"copies": 0, "images": 0, "blobs_hashed": 0, "volumes": 0}


def problem(msg):
    problems.append(msg)


def sha256(data):
    return "sha256:" + hashlib.sha256(data).hexdigest()


def children_of(raw):
    """The digests a manifest needs (children, config, layers; not its subject)."""
    try:
        doc = json.loads(raw)
    except ValueError:
        return None
    out = [(d["digest"], True) for d in doc.get("manifests", [])]
    if "config" in doc:
        out.append((doc["config"]["digest"], False))
    out += [(d["digest"], False) for d in doc.get("layers", [])]
    return out


# --- Registries ------------------------------------------------------------------

class Registry:
    """One keep-alive HTTP/1.1 connection to a loopback registry (a socket
    of our own: http.client's imports cost more than the checks)."""

    def __init__(self, host):
        self.host = host
        self.sock = None
        self.buf = b""

    def _connect(self):
        h, _, port = self.host.rpartition(":")
        self.sock = socket.create_connection((h, int(port)), timeout=30)
        self.buf = b""

    def _until(self, sep):
        while sep not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise OSError("connection closed")
            self.buf += chunk
        head, _, self.buf = self.buf.partition(sep)
        return head

    def _exactly(self, n):
        while len(self.buf) < n:
            chunk = self.sock.recv(max(65536, n - len(self.buf)))
            if not chunk:
                raise OSError("connection closed")
            self.buf += chunk
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def _body(self, headers):
        if headers.get("transfer-encoding", "").lower() == "chunked":
            out = b""
            while True:
                n = int(self._until(b"\r\n").split(b";")[0], 16)
                if n == 0:
                    self._until(b"\r\n")
                    return out
                out += self._exactly(n)
                self._exactly(2)
        return self._exactly(int(headers.get("content-length", "0")))

    def get(self, path):
        req = (f"GET {path} HTTP/1.1\r\nHost: {self.host}\r\nAccept: {ACCEPT}\r\n\r\n").encode()
        for attempt in (0, 1):
            try:
                if self.sock is None:
                    self._connect()
                self.sock.sendall(req)
                lines = self._until(b"\r\n\r\n").decode("latin-1").split("\r\n")
                status = int(lines[0].split()[1])
                headers = {}
                for line in lines[1:]:
                    k, _, v = line.partition(":")
                    headers[k.strip().lower()] = v.strip()
                body = self._body(headers)
                if headers.get("connection", "").lower() == "close":
                    self.sock.close()
                    self.sock = None
                return status, body
            except (OSError, ValueError, IndexError):
                if self.sock:
                    self.sock.close()
                self.sock = None
                if attempt:
                    raise
        return 0, b""


registries = {}


def registry(host):
    if host not in registries:
        registries[host] = Registry(host)
    return registries[host]


def walk_registry(reg, repo, digest, is_manifest, seen, where):
    """Every object of the image is there and hashes to its digest."""
    if digest in seen:
        return True
    kind = "manifests" if is_manifest else "blobs"
    status, body = reg.get(f"/v2/{repo}/{kind}/{digest}")
    if status != 200:
        problem(f"{where}: {reg.host}/{repo} {kind[:-1]} {digest}: HTTP {status}")
        return False
    counts["blobs_hashed"] += 1
    if sha256(body) != digest:
        problem(f"{where}: {reg.host}/{repo} {kind[:-1]} {digest} reads back as {sha256(body)}")
        return False
    seen.add(digest)
    ok = True
    if is_manifest:
        refs = children_of(body)
        if refs is None:
            problem(f"{where}: manifest {digest} is not JSON")
            return False
        for d, m in refs:
            ok = walk_registry(reg, repo, d, m, seen, where) and ok
    return ok


# --- Archives ----------------------------------------------------------------------

def tar_entries(path):
    """(name, data offset, size) of every regular file of a tar (ustar and
    pax headers, which is what ocitar writes), read by hand: tarfile's
    imports cost more than the checks."""
    out = []
    with open(path, "rb") as f:
        pos, pax = 0, {}
        while True:
            f.seek(pos)
            h = f.read(512)
            if len(h) < 512 or h == bytes(512):
                return out
            name = h[0:100].split(b"\0")[0].decode()
            prefix = h[345:500].split(b"\0")[0].decode()
            if prefix:
                name = prefix + "/" + name
            size = int(h[124:136].split(b"\0")[0].strip() or b"0", 8)
            kind = h[156:157]
            data = pos + 512
            if kind == b"x":   # pax: "LEN key=value\n" records for the next entry
                rec = f.read(size)
                pax = {}
                while rec:
                    n = int(rec.split(b" ", 1)[0])
                    k, _, v = rec[:n].split(b" ", 1)[1][:-1].partition(b"=")
                    pax[k.decode()] = v.decode()
                    rec = rec[n:]
            else:
                name = pax.get("path", name)
                size = int(pax.get("size", size))
                pax = {}
                if kind in (b"0", b"\0"):
                    out.append((name, data, size))
            pos = data + (size + 511) // 512 * 512


class Archive:
    """The committed volumes of an archive store."""

    def __init__(self, path):
        self.path = path
        self.blobs = {}          # digest -> (volume file, offset, size)
        vdir = os.path.join(path, "volumes")
        names = sorted(n for n in os.listdir(vdir)) if os.path.isdir(vdir) else []
        self.temps = [n for n in names if n.startswith(".tmp-")]
        self.volumes = [n for n in names if n.endswith(".tar") and not n.startswith(".")]
        for v in self.volumes:
            f = os.path.join(vdir, v)
            try:
                for name, off, size in tar_entries(f):
                    if name.startswith("blobs/"):
                        d = "sha256:" + name.rsplit("/", 1)[-1]
                        self.blobs.setdefault(d, (f, off, size))
            except (ValueError, IndexError, UnicodeDecodeError, OSError) as e:
                problem(f"archive {path}: volume {v} cannot be read: {e}")

    def read(self, digest):
        loc = self.blobs.get(digest)
        if not loc:
            return None
        with open(loc[0], "rb") as f:
            f.seek(loc[1])
            return f.read(loc[2])

    def check_entries(self):
        for d in sorted(self.blobs):
            data = self.read(d)
            counts["blobs_hashed"] += 1
            if sha256(data) != d:
                problem(f"archive {self.path}: entry {d} reads back as {sha256(data)}")


def walk_archive(ar, digest, is_manifest, seen, where):
    if digest in seen:
        return True
    data = ar.read(digest)
    if data is None:
        problem(f"{where}: {digest} is in no committed volume of {ar.path}")
        return False
    seen.add(digest)
    ok = True
    if is_manifest:
        refs = children_of(data)
        if refs is None:
            problem(f"{where}: manifest {digest} is not JSON")
            return False
        for d, m in refs:
            ok = walk_archive(ar, d, m, seen, where) and ok
    return ok


def file_sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return "sha256:" + h.hexdigest()


# --- The catalog -------------------------------------------------------------------------

def check_catalog(path, expect):
    if not os.path.exists(path):
        if expect:
            problem(f"catalog {path} does not exist")
        return
    db = sqlite3.connect(path, timeout=30)
    ic = db.execute("PRAGMA integrity_check").fetchone()[0]
    if ic != "ok":
        problem(f"catalog {path}: integrity_check: {ic}")
    tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    if "copies" not in tables:
        if expect:
            problem(f"catalog {path} has no schema")
        return
    manifests = {r[0] for r in db.execute("SELECT digest FROM manifests")}
    stores = db.execute("SELECT id, kind, location FROM stores").fetchall()
    for sid, kind, loc in stores:
        copies = {r[0] for r in db.execute("SELECT digest FROM copies WHERE store_id=?", (sid,))}
        refs = db.execute(
            "SELECT g.name, r.name, s.tag, s.digest FROM store_refs s "
            "JOIN repositories r ON r.id = s.repository_id "
            "JOIN registries g ON g.id = r.registry_id WHERE s.store_id=?", (sid,)).fetchall()
        counts["copies"] += len(copies)
        if kind == 1:
            check_archive_store(db, sid, loc, copies, refs, manifests)
        else:
            check_registry_store(sid, loc, copies, refs, manifests)
    for kind, loc, name, digest in expect:
        want_kind = 1 if kind == "archive" else 2
        if kind == "archive":
            loc = os.path.realpath(loc)
        row = [s for s in stores if s[1] == want_kind and s[2] == loc]
        if not row:
            problem(f"expected {name} in {kind} {loc}: the catalog knows no such store")
            continue
        sid = row[0][0]
        registry_name, rest = name.split("/", 1)
        repo, tag = rest.rsplit(":", 1)
        got = db.execute(
            "SELECT s.digest FROM store_refs s JOIN repositories r ON r.id = s.repository_id "
            "JOIN registries g ON g.id = r.registry_id "
            "WHERE s.store_id=? AND g.name=? AND r.name=? AND s.tag=?",
            (sid, registry_name, repo, tag)).fetchone()
        if not got or got[0] != digest:
            problem(f"expected {name} at {digest} in {kind} {loc}: listed at {got[0] if got else 'nothing'}")
        elif not db.execute("SELECT 1 FROM copies WHERE store_id=? AND digest=?",
                            (sid, digest)).fetchone():
            problem(f"expected a verified copy of {name} ({digest}) in {kind} {loc}: no copy row")
    db.close()


def check_archive_store(db, sid, loc, copies, refs, manifests):
    ar = Archive(loc)
    ar.check_entries()
    for vid, vpath, size, sha in db.execute(
            "SELECT id, path, size, sha256 FROM volumes WHERE store_id=?", (sid,)).fetchall():
        counts["volumes"] += 1
        f = os.path.join(loc, vpath)
        if not os.path.isfile(f):
            problem(f"archive {loc}: recorded volume {vpath} is missing")
            continue
        if os.path.getsize(f) != size:
            problem(f"archive {loc}: volume {vpath} is {os.path.getsize(f)} bytes, recorded {size}")
        s = file_sha256(f)
        if s.split(":")[-1] != sha.split(":")[-1]:
            problem(f"archive {loc}: volume {vpath} hashes to {s}, recorded {sha}")
    for d in sorted(copies):
        if d not in ar.blobs:
            problem(f"archive {loc}: copy row for {d}, but no committed volume holds it")
    for d, off, length, vpath in db.execute(
            "SELECT l.digest, l.data_offset, l.data_length, v.path FROM locations l "
            "JOIN volumes v ON v.id = l.volume_id WHERE v.store_id=?", (sid,)).fetchall():
        f = os.path.join(loc, vpath)
        if not os.path.isfile(f):
            continue   # reported above
        with open(f, "rb") as fh:
            fh.seek(off)
            data = fh.read(length)
        if sha256(data) != d:
            problem(f"archive {loc}: location of {d} ({vpath}@{off}+{length}) hashes to {sha256(data)}")
    for registry_name, repo, tag, digest in refs:
        if digest not in copies:
            continue
        counts["images"] += 1
        where = f"archive {loc}: {registry_name}/{repo}{':' + tag if tag else '@' + digest}"
        seen = set()
        walk_archive(ar, digest, True, seen, where)
        for d in seen:
            if d not in copies:
                problem(f"{where}: holds {d} but the catalog has no copy row for it")


def check_registry_store(sid, loc, copies, refs, manifests):
    host, _, prefix = loc.partition("/")
    reg = registry(host)
    covered = set()
    for registry_name, repo, tag, digest in refs:
        if digest not in copies:
            continue
        counts["images"] += 1
        dst = f"{prefix}/{repo}" if prefix else repo
        where = f"registry {loc}: {dst}{':' + tag if tag else '@' + digest}"
        seen = set()
        walk_registry(reg, dst, digest, True, seen, where)
        if tag:
            status, body = reg.get(f"/v2/{dst}/manifests/{tag}")
            if status != 200 or sha256(body) != digest:
                problem(f"{where}: the tag names {sha256(body) if status == 200 else 'HTTP %d' % status}")
        covered |= seen
    for d in sorted(copies - covered):
        problem(f"registry {loc}: copy row for {d}, which no image listed there reaches")


# --- Restore targets and the primary ------------------------------------------------------

def check_target(ref, digest, must):
    host, _, rest = ref.partition("/")
    repo, tag = rest.rsplit(":", 1)
    reg = registry(host)
    status, body = reg.get(f"/v2/{repo}/manifests/{tag}")
    if status == 404:
        if must:
            problem(f"target {ref}: not there")
        return
    if status != 200:
        problem(f"target {ref}: HTTP {status}")
        return
    if sha256(body) != digest:
        problem(f"target {ref} names {sha256(body)}, want {digest}")
        return
    counts["images"] += 1
    walk_registry(reg, repo, digest, True, set(), f"target {ref}")


def check_present(ref):
    host, _, rest = ref.partition("/")
    repo, digest = rest.split("@", 1)
    status, body = registry(host).get(f"/v2/{repo}/manifests/{digest}")
    if status != 200 or sha256(body) != digest:
        problem(f"{ref}: gone from its registry (HTTP {status})")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--catalog", required=True)
    p.add_argument("--expect", nargs=4, action="append", default=[],
                   metavar=("KIND", "LOCATION", "HOST/REPO:TAG", "DIGEST"))
    p.add_argument("--target", nargs=2, action="append", default=[],
                   metavar=("HOST/REPO:TAG", "DIGEST"))
    p.add_argument("--target-must", action="store_true")
    p.add_argument("--present", action="append", default=[], metavar="HOST/REPO@DIGEST")
    p.add_argument("--no-temp", action="append", default=[], metavar="DIR")
    a = p.parse_args()
    check_catalog(a.catalog, a.expect)
    for ref, digest in a.target:
        check_target(ref, digest, a.target_must)
    for ref in a.present:
        check_present(ref)
    for d in a.no_temp:
        temps = Archive(d).temps if os.path.isdir(d) else []
        if temps:
            problem(f"archive {d}: temporary volumes left: {' '.join(temps)}")
    for msg in problems:
        print(msg, file=sys.stderr)
    if problems:
        return 1
    print("checked: {copies} copy rows, {images} images, {volumes} volumes, "
          "{blobs_hashed} objects hashed".format(**counts))
    return 0


if __name__ == "__main__":
    sys.exit(main())
