"""What the scanner reads: an image as config + history + layers of entries, whatever the target.

Adapters (`targets.py`) turn docker-archive / OCI layout / store images (through
`pysandbox.images.archive`) and plain root filesystem directories into this one shape.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol


class Kind(enum.Enum):
    FILE = "file"
    DIR = "dir"
    SYMLINK = "symlink"
    HARDLINK = "hardlink"
    DEVICE = "device"
    FIFO = "fifo"


class Readable(Protocol):
    def read(self, size: int = -1, /) -> bytes: ...


@dataclass(frozen=True)
class Entry:
    """One tar member (or directory entry) of a layer, paths absolute and normalised."""

    path: str
    kind: Kind
    mode: int  # permission bits including setuid/setgid/sticky
    uid: int
    gid: int
    size: int
    linkname: str = ""
    # Returns a reader for a regular file's data; only valid while the layer is being iterated.
    open: Callable[[], Readable] | None = None


@dataclass(frozen=True)
class LayerRef:
    index: int
    digest: str | None  # blob digest as the manifest names it (None for a plain directory)
    diff_id: str | None = None
    created_by: str | None = None

    @property
    def label(self) -> str:
        return self.digest or f"layer {self.index}"

    @property
    def short(self) -> str:
        if self.digest:
            return self.digest.split(":", 1)[-1][:12]
        return f"#{self.index}"


Progress = Callable[[int], None]  # called with the number of (compressed) bytes just read


@dataclass(frozen=True)
class Layer:
    ref: LayerRef
    size: int  # compressed size, for progress
    entries: Callable[[Progress | None], Iterator[Entry]]


@dataclass
class ImageSource:
    """A scannable image: `kind` is docker-archive, oci, store or rootfs."""

    name: str
    kind: str
    config: dict[str, Any]  # the OCI image config (with "config", "history", "rootfs")
    layers: list[Layer]
    repo_tags: tuple[str, ...] = ()
    # What trivy can read for this target: ("image", "--input", PATH) or ("rootfs", PATH).
    trivy_target: tuple[str, ...] | None = None
    # For targets trivy cannot read as they are: prepares a readable copy in a temp dir.
    trivy_prepare: Callable[[Path], tuple[str, ...]] | None = None
    annotations: dict[str, str] = field(default_factory=dict)

    @property
    def container_config(self) -> dict[str, Any]:
        cfg = self.config.get("config") or self.config.get("Config") or {}
        return cfg if isinstance(cfg, dict) else {}

    @property
    def history(self) -> list[dict[str, Any]]:
        hist = self.config.get("history") or []
        return [h for h in hist if isinstance(h, dict)]
