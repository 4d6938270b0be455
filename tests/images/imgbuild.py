"""Build image archives in tests: layers as tar bytes (tarfile), OCI layouts and docker-archives."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import tarfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import zstandard

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER = "application/vnd.oci.image.layer.v1.tar"


def sha(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


@dataclass
class Entry:
    name: str
    kind: str = "file"  # file dir symlink hardlink chr blk fifo
    data: bytes = b""
    link: str = ""
    mode: int | None = None
    uid: int = 0
    gid: int = 0
    size: int | None = None  # override the header size (hostile)
    pax: dict[str, str] = field(default_factory=dict)
    devmajor: int = 0
    devminor: int = 0


def F(name: str, data: bytes | str = b"", mode: int = 0o644, **kw: Any) -> Entry:
    return Entry(name, "file", data.encode() if isinstance(data, str) else data, mode=mode, **kw)


def D(name: str, mode: int = 0o755, **kw: Any) -> Entry:
    return Entry(name, "dir", mode=mode, **kw)


def L(name: str, target: str) -> Entry:
    return Entry(name, "symlink", link=target, mode=0o777)


def H(name: str, target: str) -> Entry:
    return Entry(name, "hardlink", link=target)


def layer_tar(entries: list[Entry], fmt: int = tarfile.PAX_FORMAT) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=fmt) as tf:
        for e in entries:
            info = tarfile.TarInfo(e.name)
            info.uid, info.gid, info.mtime = e.uid, e.gid, 1700000000
            info.pax_headers = dict(e.pax)
            data = None
            if e.kind == "file":
                info.type = tarfile.REGTYPE
                info.size = len(e.data)
                data = io.BytesIO(e.data)
            elif e.kind == "dir":
                info.type = tarfile.DIRTYPE
            elif e.kind == "symlink":
                info.type, info.linkname = tarfile.SYMTYPE, e.link
            elif e.kind == "hardlink":
                info.type, info.linkname = tarfile.LNKTYPE, e.link
            elif e.kind in ("chr", "blk"):
                info.type = tarfile.CHRTYPE if e.kind == "chr" else tarfile.BLKTYPE
                info.devmajor, info.devminor = e.devmajor, e.devminor
            elif e.kind == "fifo":
                info.type = tarfile.FIFOTYPE
            info.mode = e.mode if e.mode is not None else (0o755 if e.kind == "dir" else 0o644)
            if e.size is not None:  # a header that lies about its size: no data follows
                info.size = e.size
                buf_header = info.tobuf(tf.format, tf.encoding, tf.errors)
                tf.fileobj.write(buf_header)  # type: ignore[union-attr]
                tf.offset += len(buf_header)
                continue
            tf.addfile(info, data)
    return buf.getvalue()


def compress(data: bytes, how: str) -> tuple[bytes, str]:
    if how == "gzip":
        return gzip.compress(data, compresslevel=1, mtime=0), OCI_LAYER + "+gzip"
    if how == "zstd":
        return zstandard.ZstdCompressor().compress(data), OCI_LAYER + "+zstd"
    return data, OCI_LAYER


@dataclass
class Layer:
    tar: bytes
    compression: str = "gzip"


def config_for(layers: list[bytes], cfg: dict[str, Any] | None = None, arch: str = "amd64") -> bytes:
    doc = {
        "architecture": arch,
        "os": "linux",
        "created": "2024-01-01T00:00:00Z",
        "config": cfg if cfg is not None else {"Cmd": ["/bin/sh"], "Env": ["PATH=/usr/bin:/bin"]},
        "rootfs": {"type": "layers", "diff_ids": [sha(t) for t in layers]},
        "history": [
            {"created": "2024-01-01T00:00:00Z", "created_by": f"layer {i}"} for i in range(len(layers))
        ],
    }
    return json.dumps(doc).encode()


class OciLayout:
    """An OCI image layout directory written blob by blob."""

    def __init__(self, root: Path) -> None:
        self.root = root
        (root / "blobs" / "sha256").mkdir(parents=True, exist_ok=True)
        (root / "oci-layout").write_text('{"imageLayoutVersion": "1.0.0"}')

    def blob(self, data: bytes) -> str:
        digest = sha(data)
        (self.root / "blobs" / "sha256" / digest[7:]).write_bytes(data)
        return digest

    def image(
        self,
        layers: list[Layer],
        cfg: dict[str, Any] | None = None,
        arch: str = "amd64",
        diff_ids: list[str] | None = None,
    ) -> dict[str, Any]:
        """Write config, layers and manifest; returns the manifest descriptor."""
        config = config_for([la.tar for la in layers], cfg, arch)
        if diff_ids is not None:
            doc = json.loads(config)
            doc["rootfs"]["diff_ids"] = diff_ids
            config = json.dumps(doc).encode()
        descs = []
        for la in layers:
            blob, mt = compress(la.tar, la.compression)
            descs.append({"mediaType": mt, "digest": self.blob(blob), "size": len(blob)})
        manifest = {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": {"mediaType": OCI_CONFIG, "digest": self.blob(config), "size": len(config)},
            "layers": descs,
        }
        mbytes = json.dumps(manifest).encode()
        return {
            "mediaType": OCI_MANIFEST,
            "digest": self.blob(mbytes),
            "size": len(mbytes),
            "platform": {"os": "linux", "architecture": arch},
        }

    def index(self, descs: list[dict[str, Any]]) -> dict[str, Any]:
        data = json.dumps({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": descs}).encode()
        return {"mediaType": OCI_INDEX, "digest": self.blob(data), "size": len(data)}

    def write_index(self, descs: list[dict[str, Any]]) -> Path:
        (self.root / "index.json").write_text(json.dumps({"schemaVersion": 2, "manifests": descs}))
        return self.root


def oci_image(
    root: Path, layers: list[Layer], cfg: dict[str, Any] | None = None, name: str | None = None
) -> Path:
    lay = OciLayout(root)
    desc = lay.image(layers, cfg)
    if name:
        desc["annotations"] = {"org.opencontainers.image.ref.name": name}
    return lay.write_index([desc])


def docker_archive(
    path: Path,
    layers: list[bytes],
    cfg: dict[str, Any] | None = None,
    tags: list[str] | None = None,
    extra: list[tuple[str, bytes]] | None = None,
) -> Path:
    """A `docker save` tarball (legacy layout: <id>/layer.tar)."""
    config = config_for(layers, cfg)
    members: list[tuple[str, bytes]] = [(f"{sha(config)[7:]}.json", config)]
    names = []
    for i, t in enumerate(layers):
        name = f"{hashlib.sha256(str(i).encode() + t).hexdigest()}/layer.tar"
        names.append(name)
        members.append((name, t))
    manifest = [{"Config": f"{sha(config)[7:]}.json", "RepoTags": tags or [], "Layers": names}]
    members.append(("manifest.json", json.dumps(manifest).encode()))
    members += extra or []
    with tarfile.open(path, "w") as tf:
        for n, data in members:
            info = tarfile.TarInfo(n)
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
    return path


def tar_dir(src: Path, dest: Path) -> Path:
    with tarfile.open(dest, "w") as tf:
        for p in sorted(src.rglob("*")):
            tf.add(p, arcname=str(p.relative_to(src)), recursive=False)
    return dest
