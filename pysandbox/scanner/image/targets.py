"""Turn a scan TARGET into an `ImageSource`: docker-archive, OCI layout (dir or tar), store image, rootfs.

Archives are read through `pysandbox.images.archive` (the one place that judges tar entries, so
hostile archives are refused here exactly as on import); nothing is unpacked to disk.
"""

from __future__ import annotations

import json
import os
import posixpath
import shutil
import stat
import tarfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, BinaryIO

from pysandbox.scanner.image.source import Entry, ImageSource, Kind, Layer, LayerRef, Progress, Readable
from pysandbox.types import UserError


def open_target(target: str) -> ImageSource:
    path = Path(target)
    if path.is_dir() and not (path / "index.json").is_file():
        return rootfs_source(path)
    if path.exists():
        return archive_source(path)
    return store_source(target)


# -- archives -------------------------------------------------------------------------------------


def archive_source(path: Path) -> ImageSource:
    from pysandbox.images.archive import ArchiveError, NotAnImageError, open_image

    accepted = "pass an image archive, an OCI layout directory or an unpacked root filesystem directory"
    try:
        image = open_image(path)
    except NotAnImageError:
        raise UserError(f"{path}: not a docker-archive or OCI layout: {accepted}") from None
    except ArchiveError as exc:  # its advice is import's, which also takes rootfs tarballs
        raise UserError(f"{str(exc).partition(': pass ')[0]}: {accepted}") from None
    kind = "docker-archive" if image.kind == "docker-archive" else "oci"
    name = image.repo_tags[0] if image.repo_tags else path.name
    source = _from_archive_image(image, name, kind)
    source.trivy_target = ("image", "--input", str(path))
    return source


def _from_archive_image(image: Any, name: str, kind: str) -> ImageSource:
    layers: list[Layer] = []
    steps = [h for h in image.history if not h.get("empty_layer")]
    for index, blob in enumerate(image.layers):
        created_by = str(steps[index].get("created_by") or "") if index < len(steps) else None
        ref = LayerRef(index, blob.digest, blob.diff_id, created_by)
        layers.append(Layer(ref, blob.size, _entries_of(blob)))
    annotations = (image.manifest or {}).get("annotations") or {}
    return ImageSource(
        name=name,
        kind=kind,
        config=dict(image.config),
        layers=layers,
        repo_tags=tuple(image.repo_tags),
        annotations=dict(annotations),
    )


def _entries_of(blob: Any) -> Callable[[Progress | None], Iterator[Entry]]:
    from pysandbox.images.archive import iter_layer_entries

    def entries(progress: Progress | None) -> Iterator[Entry]:
        stream = blob.open_stream(tee=(lambda data: progress(len(data))) if progress else None)
        try:
            for info, fileobj in iter_layer_entries(blob, stream=stream):
                yield _entry(info, fileobj)
        finally:
            stream.close()

    return entries


def _entry(info: tarfile.TarInfo, fileobj: BinaryIO | None) -> Entry:
    path = "/" + info.name
    if info.isdir():
        kind = Kind.DIR
    elif info.issym():
        kind = Kind.SYMLINK
    elif info.islnk():
        kind = Kind.HARDLINK
    elif info.ischr() or info.isblk():
        kind = Kind.DEVICE
    elif info.isfifo():
        kind = Kind.FIFO
    else:
        kind = Kind.FILE
    linkname = "/" + info.linkname if kind is Kind.HARDLINK else info.linkname
    opener = (lambda: fileobj) if fileobj is not None else None
    return Entry(
        posixpath.normpath(path), kind, info.mode & 0o7777, info.uid, info.gid, info.size, linkname, opener
    )


# -- the local image store --------------------------------------------------------------------------


def store_source(ref: str) -> ImageSource:
    from pysandbox.images.store import Store

    store = Store()
    image = store.open_stored(ref)
    source = _from_archive_image(image, ref, "store")
    blobs = [image.manifest_digest, image.config_digest, *(layer.digest for layer in image.layers)]
    paths = {digest: store.blob_path(digest) for digest in blobs if digest}
    source.trivy_prepare = lambda tmp: _layout_for_trivy(tmp, image.manifest_digest, paths)
    return source


def _layout_for_trivy(tmp: Path, manifest_digest: str | None, blobs: dict[str, Path]) -> tuple[str, ...]:
    """trivy reads OCI layout directories: link the store's blobs into one (copy across filesystems)."""
    if manifest_digest is None:
        raise UserError("the stored image has no manifest: re-import it")
    (tmp / "blobs" / "sha256").mkdir(parents=True)
    for digest, path in blobs.items():
        link = tmp / "blobs" / "sha256" / digest.split(":", 1)[1]
        try:
            os.link(path, link)  # trivy refuses symlinked blobs; a hard link costs nothing
        except OSError:
            shutil.copyfile(path, link)
    size = blobs[manifest_digest].stat().st_size
    manifest = {
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "digest": manifest_digest,
        "size": size,
    }
    (tmp / "index.json").write_text(json.dumps({"schemaVersion": 2, "manifests": [manifest]}))
    (tmp / "oci-layout").write_text('{"imageLayoutVersion": "1.0.0"}')
    return ("image", "--input", str(tmp))


# -- a root filesystem directory --------------------------------------------------------------------


def rootfs_source(root: Path) -> ImageSource:
    if not os.access(root, os.R_OK | os.X_OK):
        raise UserError(f"{root}: cannot read the directory: check its permissions")
    ref = LayerRef(0, None, None, None)
    size = 0
    layer = Layer(ref, size, lambda progress: _walk(root))
    source = ImageSource(name=str(root), kind="rootfs", config={}, layers=[layer])
    source.trivy_target = ("rootfs", str(root))
    return source


def _walk(root: Path) -> Iterator[Entry]:
    stack = [("", str(root))]
    while stack:
        rel, real = stack.pop()
        try:
            entries = sorted(os.scandir(real), key=lambda e: e.name)
        except OSError:
            continue
        for entry in entries:
            try:
                st = entry.stat(follow_symlinks=False)
            except OSError:
                continue
            path = f"{rel}/{entry.name}"
            yield _dir_entry(path, entry.path, st)
            if stat.S_ISDIR(st.st_mode):
                stack.append((path, entry.path))


def _dir_entry(path: str, real: str, st: os.stat_result) -> Entry:
    mode = st.st_mode
    kind, linkname, opener = Kind.FILE, "", None
    if stat.S_ISDIR(mode):
        kind = Kind.DIR
    elif stat.S_ISLNK(mode):
        kind, linkname = Kind.SYMLINK, os.readlink(real)
    elif stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        kind = Kind.DEVICE
    elif stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode):
        kind = Kind.FIFO
    else:
        opener = _file_opener(real)
    return Entry(path, kind, stat.S_IMODE(mode), st.st_uid, st.st_gid, st.st_size, linkname, opener)


class _LazyFile:
    """Opens the file on first read and closes it after (the view reads each file once)."""

    def __init__(self, real: str) -> None:
        self.real = real

    def read(self, size: int = -1, /) -> bytes:
        try:
            with open(self.real, "rb") as f:
                return f.read(size)
        except OSError:
            return b""


def _file_opener(real: str) -> Any:
    def opener() -> Readable:
        return _LazyFile(real)

    return opener
