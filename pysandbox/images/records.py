"""Image records and the read-only view of the store (kept light: `pysandbox run` imports it).

See `store.py` for the layout; this module only reads it.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from pysandbox import paths
from pysandbox.images.reference import parse_reference
from pysandbox.types import UserError


def short(digest: str) -> str:
    return digest.split(":", 1)[-1][:12]


def check_blob_digest(digest: str) -> str:
    alg, _, hexd = digest.partition(":")
    if alg != "sha256" or len(hexd) != 64 or any(c not in "0123456789abcdef" for c in hexd):
        raise UserError(f"invalid digest {digest!r}: expected sha256:<64 hex digits>")
    return digest


@dataclass
class LayerRecord:
    digest: str
    diff_id: str
    chain_id: str
    media_type: str
    size: int


@dataclass
class ImageRecord:
    id: str  # config digest
    repo_tags: list[str]  # canonical full names: docker.io/library/busybox:latest
    layers: list[LayerRecord]
    manifest_digest: str
    repo_digests: list[str] = field(default_factory=list)
    source: str = ""
    imported: float = 0.0
    unpacked_size: int = 0

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ImageRecord:
        layers = [LayerRecord(**x) for x in data.pop("layers")]
        return cls(layers=layers, **data)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def familiar_tags(self) -> list[str]:
        return [parse_reference(t).familiar for t in self.repo_tags]


def _hex(digest: str) -> str:
    return digest.split(":", 1)[1]


class Layout:
    """Paths of the store and everything that only reads it."""

    def __init__(self, root: Path | None = None) -> None:
        self.root = root or paths.images_dir()
        self.blobs = self.root / "blobs" / "sha256"
        self.layers = self.root / "layers"
        self.images = self.root / "images"
        self.tmp = self.root / "tmp"

    # --- blobs -------------------------------------------------------------------------------
    def blob_path(self, digest: str) -> Path:
        check_blob_digest(digest)
        return self.root / "blobs" / digest.split(":", 1)[0] / _hex(digest)

    def has_blob(self, digest: str) -> bool:
        return self.blob_path(digest).is_file()

    def read_blob(self, digest: str, limit: int = 64 << 20) -> bytes:
        """A small blob from the store, verified again (it is about to be used)."""
        try:
            data = self.blob_path(digest).read_bytes()
        except OSError:
            raise UserError(f"blob {short(digest)} is missing from the store: re-import the image") from None
        if len(data) > limit or "sha256:" + hashlib.sha256(data).hexdigest() != digest:
            raise UserError(
                f"blob {short(digest)} in the store is corrupt: remove the image and import it again"
            )
        return data

    # --- layers ------------------------------------------------------------------------------
    def layer_dir(self, chain_id: str) -> Path:
        return self.layers / _hex(chain_id)

    def layer_rootfs(self, chain_id: str) -> Path:
        return self.layer_dir(chain_id) / "rootfs"

    def has_layer(self, chain_id: str) -> bool:
        return (self.layer_dir(chain_id) / "meta.json").is_file()

    def layer_meta(self, chain_id: str) -> dict[str, Any]:
        try:
            data: dict[str, Any] = json.loads((self.layer_dir(chain_id) / "meta.json").read_text())
            return data
        except (OSError, ValueError):
            raise UserError(
                f"layer {short(chain_id)} is missing from the store: re-import the image"
            ) from None

    # --- records -----------------------------------------------------------------------------
    def records(self) -> list[ImageRecord]:
        out: list[ImageRecord] = []
        if not self.images.is_dir():
            return out
        for p in sorted(self.images.glob("*.json")):
            try:
                out.append(ImageRecord.from_json(json.loads(p.read_text())))
            except (OSError, ValueError, TypeError, KeyError):
                continue
        return out

    def record(self, image_id: str) -> ImageRecord | None:
        p = self.images / f"{_hex(image_id)}.json"
        try:
            return ImageRecord.from_json(json.loads(p.read_text()))
        except (OSError, ValueError, TypeError, KeyError):
            return None

    def resolve(self, ref: str) -> ImageRecord:
        """An image by tag (busybox, busybox:1, reg:5000/x:y), full or short id (sha256:abcd..., abcd...)."""
        recs = self.records()
        text = ref.strip()
        hexpart = text.removeprefix("sha256:")
        if len(hexpart) >= 4 and all(c in "0123456789abcdef" for c in hexpart):
            hits = [r for r in recs if _hex(r.id).startswith(hexpart)]
            if len(hits) == 1:
                return hits[0]
            if len(hits) > 1:
                raise UserError(f"image id {ref!r} is ambiguous: give more digits")
        try:
            name = parse_reference(text).name
        except UserError:
            raise UserError(f"image {ref!r} not found: see `pysandbox image ls`") from None
        for r in recs:
            if name in r.repo_tags or name in r.repo_digests:
                return r
        raise UserError(
            f"image {ref!r} not found: import or pull it first (`pysandbox image ls` lists the store)"
        )

    def config_of(self, rec: ImageRecord) -> dict[str, Any]:
        data = json.loads(self.read_blob(rec.id))
        if not isinstance(data, dict):
            raise UserError(f"image {short(rec.id)}: config is not an object: re-import the image")
        return data

    # --- in-use bookkeeping ----------------------------------------------------------------------
    @contextlib.contextmanager
    def use_layers(self, chain: Sequence[str]) -> Iterator[None]:
        fds = []
        try:
            for c in chain:
                try:
                    fd = os.open(self.layer_dir(c) / "lock", os.O_RDONLY | os.O_CLOEXEC)
                except OSError:
                    raise UserError(
                        f"layer {short(c)} vanished from the store: pull or import the image again"
                    ) from None
                fds.append(fd)
                fcntl.flock(fd, fcntl.LOCK_SH)
            yield
        finally:
            for fd in fds:
                os.close(fd)
