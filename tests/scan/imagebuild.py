"""Build test images by writing the formats ourselves: layers as tars, packed as docker-archive
(`docker save` layout) or OCI image layout (directory or tar)."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import shutil
import tarfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip"


@dataclass
class F:
    """A file to plant: data, mode, owner; `kind` dir/symlink/whiteout/opaque/hardlink."""

    data: bytes = b""
    mode: int = 0o644
    uid: int = 0
    gid: int = 0
    kind: str = "file"
    target: str = ""


@dataclass
class LayerSpec:
    entries: dict[str, F] = field(default_factory=dict)  # "etc/passwd" -> F
    created_by: str = "COPY . /"
    rootfs: Path | None = None  # a directory whose whole tree goes into this layer first


def sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def layer_tar(spec: LayerSpec) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tf:
        if spec.rootfs is not None:
            _add_tree(tf, spec.rootfs)
        added: set[str] = set()
        for name in sorted(spec.entries):
            _add_parents(tf, name, added, spec)
            _add_entry(tf, name, spec.entries[name])
    return buf.getvalue()


def _add_tree(tf: tarfile.TarFile, root: Path) -> None:
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        rel_dir = os.path.relpath(dirpath, root)
        for name in sorted(dirnames + filenames):
            full = os.path.join(dirpath, name)
            arc = os.path.normpath(os.path.join(rel_dir, name))
            info = tf.gettarinfo(full, arcname=arc)
            info.uid = info.gid = 0
            info.uname = info.gname = "root"
            if info.isreg():
                with open(full, "rb") as f:
                    tf.addfile(info, f)
            else:
                tf.addfile(info)


def _add_parents(tf: tarfile.TarFile, name: str, added: set[str], spec: LayerSpec) -> None:
    parts = name.split("/")[:-1]
    for i in range(1, len(parts) + 1):
        parent = "/".join(parts[:i])
        if (
            parent in added
            or parent in spec.entries
            or (spec.rootfs is not None and (spec.rootfs / parent).exists())
        ):
            continue
        added.add(parent)
        info = tarfile.TarInfo(parent)
        info.type, info.mode = tarfile.DIRTYPE, 0o755
        tf.addfile(info)


def _add_entry(tf: tarfile.TarFile, name: str, f: F) -> None:
    if f.kind == "whiteout":
        dirname, base = os.path.split(name)
        name = os.path.join(dirname, ".wh." + base)
    elif f.kind == "opaque":
        name = os.path.join(name, ".wh..wh..opq")
    info = tarfile.TarInfo(name)
    info.mode, info.uid, info.gid = f.mode, f.uid, f.gid
    if f.kind == "dir":
        info.type = tarfile.DIRTYPE
        tf.addfile(info)
    elif f.kind == "symlink":
        info.type, info.linkname = tarfile.SYMTYPE, f.target
        tf.addfile(info)
    elif f.kind == "hardlink":
        info.type, info.linkname = tarfile.LNKTYPE, f.target
        tf.addfile(info)
    else:
        info.size = len(f.data)
        tf.addfile(info, io.BytesIO(f.data))


@dataclass
class BuiltImage:
    config: dict[str, Any]
    layers: list[bytes]  # uncompressed tars
    tag: str = "test/image:1"

    @property
    def diff_ids(self) -> list[str]:
        return [sha256(t) for t in self.layers]


def make_image(
    layers: list[LayerSpec],
    config: dict[str, Any] | None = None,
    tag: str = "test/image:1",
    history_extra: list[dict[str, Any]] | None = None,
) -> BuiltImage:
    tars = [layer_tar(spec) for spec in layers]
    history = list(history_extra or [])
    history += [{"created": "2024-01-01T00:00:00Z", "created_by": s.created_by} for s in layers]
    doc = {
        "architecture": "amd64",
        "os": "linux",
        "created": "2024-01-01T00:00:00Z",
        "config": config or {},
        "rootfs": {"type": "layers", "diff_ids": [sha256(t) for t in tars]},
        "history": history,
    }
    return BuiltImage(doc, tars, tag)


def write_docker_archive(image: BuiltImage, dest: Path, compress: bool = False) -> Path:
    config_bytes = json.dumps(image.config).encode()
    config_name = hashlib.sha256(config_bytes).hexdigest() + ".json"
    members: dict[str, bytes] = {config_name: config_bytes}
    layer_paths = []
    for tar in image.layers:
        data = gzip.compress(tar, mtime=0) if compress else tar
        path = f"{hashlib.sha256(tar).hexdigest()}/layer.tar"
        members[path] = data
        layer_paths.append(path)
    manifest = [{"Config": config_name, "RepoTags": [image.tag], "Layers": layer_paths}]
    members["manifest.json"] = json.dumps(manifest).encode()
    _write_tar(dest, members)
    return dest


def write_oci_layout(image: BuiltImage, dest: Path, as_tar: bool = False) -> Path:
    blobs: dict[str, bytes] = {}
    layer_descs = []
    for tar in image.layers:
        data = gzip.compress(tar, mtime=0)
        blobs[sha256(data)] = data
        layer_descs.append({"mediaType": OCI_LAYER_GZIP, "digest": sha256(data), "size": len(data)})
    config_bytes = json.dumps(image.config).encode()
    blobs[sha256(config_bytes)] = config_bytes
    manifest = {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": {"mediaType": OCI_CONFIG, "digest": sha256(config_bytes), "size": len(config_bytes)},
        "layers": layer_descs,
    }
    manifest_bytes = json.dumps(manifest).encode()
    blobs[sha256(manifest_bytes)] = manifest_bytes
    index = {
        "schemaVersion": 2,
        "manifests": [
            {
                "mediaType": OCI_MANIFEST,
                "digest": sha256(manifest_bytes),
                "size": len(manifest_bytes),
                "annotations": {"org.opencontainers.image.ref.name": image.tag.rsplit(":", 1)[-1]},
                "platform": {"architecture": "amd64", "os": "linux"},
            }
        ],
    }
    members = {"oci-layout": b'{"imageLayoutVersion": "1.0.0"}', "index.json": json.dumps(index).encode()}
    for digest, data in blobs.items():
        members["blobs/sha256/" + digest.split(":")[1]] = data
    if as_tar:
        _write_tar(dest, members)
    else:
        if dest.exists():
            shutil.rmtree(dest)
        for name, data in members.items():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            (dest / name).write_bytes(data)
    return dest


def layer_digests_docker(image: BuiltImage) -> list[str]:
    """Blob digests as the scanner reports them for an uncompressed docker-archive (== diff_ids)."""
    return image.diff_ids


def layer_digests_oci(image: BuiltImage) -> list[str]:
    return [sha256(gzip.compress(t, mtime=0)) for t in image.layers]


def _write_tar(dest: Path, members: dict[str, bytes]) -> None:
    with tarfile.open(dest, "w") as tf:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
