"""The layered filesystem view: every layer read once, in order, without unpacking to disk.

For every path it knows which layer added it, whether a later layer replaced it or deleted it
(whiteouts `.wh.NAME` and opaque directories `.wh..wh..opq`), and, for the files a rule asked for,
their content. Files streamed past content consumers (the secret scanners) are read exactly once.
"""

from __future__ import annotations

import posixpath
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Protocol

from pysandbox.scanner.image.source import Entry, ImageSource, Kind, LayerRef, Progress

WHITEOUT_PREFIX = ".wh."
OPAQUE_MARKER = ".wh..wh..opq"
MAX_CAPTURE = 256 * 1024 * 1024  # no single file is held in memory beyond this


@dataclass(eq=False)
class FileRecord:
    """One version of one path, as a layer added it."""

    path: str
    kind: Kind
    mode: int
    uid: int
    gid: int
    size: int
    linkname: str
    layer: LayerRef
    content: bytes | None = None
    removed_in: LayerRef | None = None  # deleted by a whiteout (or hidden by a replaced directory)
    replaced_in: LayerRef | None = None  # overwritten by a later layer

    @property
    def gone_in(self) -> LayerRef | None:
        return self.removed_in or self.replaced_in

    def text(self) -> str:
        return (self.content or b"").decode("utf-8", "replace")


class ContentConsumer(Protocol):
    """Sees the bytes of every regular file it wants, in every layer, as the layer streams past."""

    def wants(self, path: str, size: int) -> bool: ...

    def consume(self, record: FileRecord, data: bytes) -> None: ...


KeepFn = Callable[[str, int], bool]


class LayeredFS:
    def __init__(self) -> None:
        self.live: dict[str, FileRecord] = {}
        self.records: list[FileRecord] = []  # every version of every path, in layer order
        self.layers: list[LayerRef] = []
        self._children: dict[str, set[str]] = {}

    # -- queries -------------------------------------------------------------------------------
    def get(self, path: str) -> FileRecord | None:
        return self.live.get(path)

    def is_live(self, record: FileRecord) -> bool:
        return self.live.get(record.path) is record

    def files(self) -> Iterator[FileRecord]:
        """Live regular files (and hard links)."""
        return (r for r in self.live.values() if r.kind in (Kind.FILE, Kind.HARDLINK))

    def versions(self, path: str) -> list[FileRecord]:
        return [r for r in self.records if r.path == path]

    def removed(self) -> Iterator[FileRecord]:
        """Records a later layer deleted or overwrote: still shipped, still recoverable."""
        return (r for r in self.records if r.gone_in is not None)

    def content(self, path: str) -> bytes | None:
        record = self.resolve(path)
        return record.content if record else None

    def resolve(self, path: str, depth: int = 0) -> FileRecord | None:
        """The live record at `path`, following symlinks and hard links inside the image."""
        record = self.live.get(path)
        if record is None or depth > 16:
            return record
        if record.kind is Kind.SYMLINK:
            target = posixpath.normpath(posixpath.join(posixpath.dirname(path), record.linkname))
            return self.resolve(target, depth + 1)
        if record.kind is Kind.HARDLINK and record.content is None:
            return self.resolve(record.linkname, depth + 1)
        return record

    # -- building ------------------------------------------------------------------------------
    @classmethod
    def build(
        cls,
        source: ImageSource,
        keep: KeepFn,
        consumers: Sequence[ContentConsumer] = (),
        progress: Progress | None = None,
    ) -> LayeredFS:
        fs = cls()
        for layer in source.layers:
            fs.layers.append(layer.ref)
            fs._apply_layer(layer.ref, layer.entries(progress), keep, consumers)
        return fs

    def _apply_layer(
        self, ref: LayerRef, entries: Iterator[Entry], keep: KeepFn, consumers: Sequence[ContentConsumer]
    ) -> None:
        whiteouts: list[str] = []
        opaques: list[str] = []
        for entry in entries:
            base = posixpath.basename(entry.path)
            if base.startswith(WHITEOUT_PREFIX):
                parent = posixpath.dirname(entry.path)
                if base == OPAQUE_MARKER:
                    opaques.append(parent)
                elif not base.startswith(WHITEOUT_PREFIX + WHITEOUT_PREFIX):
                    whiteouts.append(posixpath.join(parent, base[len(WHITEOUT_PREFIX) :]))
                continue
            self._add(ref, entry, keep, consumers)
        for directory in opaques:
            for child in list(self._children.get(directory, ())):
                self._remove(child, ref, below=ref.index)
        for path in whiteouts:
            self._remove(path, ref, below=ref.index)

    def _add(self, ref: LayerRef, entry: Entry, keep: KeepFn, consumers: Sequence[ContentConsumer]) -> None:
        record = FileRecord(
            entry.path, entry.kind, entry.mode, entry.uid, entry.gid, entry.size, entry.linkname, ref
        )
        if entry.kind is Kind.FILE and entry.open is not None:
            self._read(record, entry, keep, consumers)
        elif entry.kind is Kind.HARDLINK:
            target = self.live.get(entry.linkname)
            if target is not None and target.content is not None and keep(entry.path, target.size):
                record.content = target.content
        old = self.live.get(entry.path)
        if old is not None:
            old.replaced_in = ref
            if old.kind is Kind.DIR and entry.kind is not Kind.DIR:
                for child in list(self._children.get(entry.path, ())):
                    self._remove(child, ref, below=ref.index + 1)
        self.live[entry.path] = record
        self.records.append(record)
        if entry.path != "/":
            self._children.setdefault(posixpath.dirname(entry.path), set()).add(entry.path)

    @staticmethod
    def _read(record: FileRecord, entry: Entry, keep: KeepFn, consumers: Sequence[ContentConsumer]) -> None:
        wanted = [c for c in consumers if c.wants(entry.path, entry.size)]
        kept = entry.size <= MAX_CAPTURE and keep(entry.path, entry.size)
        if not wanted and not kept:
            return
        assert entry.open is not None
        data = entry.open().read(min(entry.size, MAX_CAPTURE))
        if kept:
            record.content = data
        for consumer in wanted:
            consumer.consume(record, data)

    def _remove(self, path: str, ref: LayerRef, below: int) -> None:
        """Delete `path` and its subtree from the live view, for records from layers < below."""
        record = self.live.get(path)
        if record is None or record.layer.index >= below:
            return
        for child in list(self._children.get(path, ())):
            self._remove(child, ref, below)
        del self.live[path]
        if record.removed_in is None and record.replaced_in is None:
            record.removed_in = ref
        siblings = self._children.get(posixpath.dirname(path))
        if siblings is not None:
            siblings.discard(path)
        if not self._children.get(path):
            self._children.pop(path, None)
