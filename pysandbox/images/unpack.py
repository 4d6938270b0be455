"""Apply one image layer into its own directory, in overlayfs form.

Each layer becomes one overlay lowerdir, so OCI whiteouts are converted to what overlayfs reads:
`.wh.NAME` -> a 0/0 character device NAME (any user may create those since Linux 5.8), and
`.wh..wh..opq` -> the `user.overlay.opaque=y` xattr on the directory (plus `trusted.overlay.opaque`
as root), which overlayfs honours with the `userxattr` mount option (see `runtime.OVERLAY_OPTIONS`).

Entries are judged by `archive.iter_layer_entries` (one piece of code for the unpacker and the
scanner); this module only creates them, never following a symlink (O_NOFOLLOW, fresh directories
of its own). Ownership: as root the image's numeric uids/gids are kept (the launcher maps them);
rootless, everything is owned by the invoking user (root inside the sandbox). Device nodes are never
created: a layer holding one is refused, or with `skip_devices` imported without it
(`LayerStats.skipped`). Directories a layer touches implicitly (a file without
its parent's entry) copy their metadata from the layers below, so that they do not mask it.
"""

from __future__ import annotations

import os
import posixpath
import stat
import tarfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from pysandbox.images.archive import LayerBlob, iter_layer_entries, whiteout_of
from pysandbox.images.streams import CHUNK, STORE_ERRNOS, ArchiveError, LayerStream, StoreWriteError, short

OPAQUE_XATTRS = ("user.overlay.opaque", "trusted.overlay.opaque")
_REFUSED_XATTR_PREFIXES = ("user.overlay.", "trusted.", "system.")
_OPEN_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC


@dataclass
class LayerStats:
    entries: int = 0
    files: int = 0
    bytes: int = 0  # decompressed tar bytes
    whiteouts: int = 0
    skipped: list[str] = field(default_factory=list)  # device nodes not created
    compression: str = "none"
    diff_id: str = ""


@dataclass
class _DirMeta:
    mode: int
    uid: int
    gid: int
    mtime: float


class _Applier:
    def __init__(
        self, what: str, root: Path, lowers: Sequence[Path], as_root: bool, skip_devices: bool
    ) -> None:
        self.what = what  # "layer <digest>", the prefix of every error
        self.skip_devices = skip_devices
        self.root = str(root)
        self.lowers = [str(p) for p in lowers]
        self.as_root = as_root
        self.dirs: dict[str, _DirMeta] = {}
        self.whiteouts: list[tuple[str, str]] = []
        self.stats = LayerStats()

    def path(self, name: str) -> str:
        return os.path.join(self.root, name) if name else self.root

    # --- directories ---------------------------------------------------------------------------
    def ensure_parents(self, name: str) -> None:
        parent = posixpath.dirname(name)
        if not parent or parent in self.dirs:
            return
        self.ensure_parents(parent)
        self._mkdir(parent, self._lower_dir_meta(parent))

    def _lower_dir_meta(self, name: str) -> _DirMeta:
        for lower in self.lowers:
            st = _lstat_no_follow(lower, name)
            if st is not None:
                if stat.S_ISDIR(st.st_mode):
                    return _DirMeta(stat.S_IMODE(st.st_mode), st.st_uid, st.st_gid, st.st_mtime)
                break
        return _DirMeta(0o755, 0, 0, 0.0)

    def _mkdir(self, name: str, meta: _DirMeta) -> None:
        path = self.path(name)
        try:
            os.mkdir(path, 0o700)
        except FileExistsError:
            st = os.lstat(path)
            if not stat.S_ISDIR(st.st_mode):
                raise ArchiveError(
                    f"{self.what}: directory {name!r} collides with another entry: the layer is malformed"
                ) from None
        self.dirs[name] = meta
        if self.as_root:
            os.lchown(path, meta.uid, meta.gid)

    # --- entries -------------------------------------------------------------------------------
    def apply(self, info: tarfile.TarInfo, fileobj: BinaryIO | None) -> None:
        self.stats.entries += 1
        name = info.name
        wo = whiteout_of(name)
        if wo is not None:
            self.ensure_parents(name)
            self.whiteouts.append(wo)
            self.stats.whiteouts += 1
            return
        if name == "":
            self.dirs[""] = _DirMeta(info.mode & 0o7777, info.uid, info.gid, float(info.mtime))
            if self.as_root:
                os.lchown(self.root, info.uid, info.gid)
            return
        self.ensure_parents(name)
        path = self.path(name)
        if info.isdir():
            self._mkdir(name, _DirMeta(info.mode & 0o7777, info.uid, info.gid, float(info.mtime)))
            self._xattrs(path, info, follow=False)
        elif info.isreg():
            self._file(path, info, fileobj)
        elif info.issym():
            os.symlink(info.linkname, path)
            if self.as_root:
                os.lchown(path, info.uid, info.gid)
            self._xattrs(path, info, follow=False)
            os.utime(path, (info.mtime, info.mtime), follow_symlinks=False)
        elif info.islnk():
            if info.linkname in self.stats.skipped:
                self.stats.skipped.append(name)
                return
            os.link(self.path(info.linkname), path, follow_symlinks=False)
        elif info.isfifo():
            os.mkfifo(path, 0o600)
            self._meta_path(path, info)
        else:  # character and block devices: never created in the store
            if not self.skip_devices:
                kind = "character" if info.ischr() else "block"
                raise ArchiveError(
                    f"{self.what}: device node {name!r} ({kind} {info.devmajor}:{info.devminor}): "
                    "refusing to create devices in the store: pass --skip-devices to import without them"
                )
            self.stats.skipped.append(name)

    def _file(self, path: str, info: tarfile.TarInfo, fileobj: BinaryIO | None) -> None:
        fd = os.open(path, _OPEN_FLAGS, 0o600)
        try:
            if fileobj is not None and info.size:
                _copy(fileobj, fd, info.size, self.what)
            self.stats.files += 1
            if self.as_root:
                os.fchown(fd, info.uid, info.gid)
            os.fchmod(fd, info.mode & 0o7777)  # after chown, which clears set-id bits
            self._xattrs(fd, info, follow=True)
            os.utime(fd, (info.mtime, info.mtime))
        finally:
            os.close(fd)

    def _meta_path(self, path: str, info: tarfile.TarInfo) -> None:
        if self.as_root:
            os.lchown(path, info.uid, info.gid)
        os.chmod(path, info.mode & 0o7777, follow_symlinks=False)
        os.utime(path, (info.mtime, info.mtime), follow_symlinks=False)

    def _xattrs(self, target: str | int, info: tarfile.TarInfo, follow: bool) -> None:
        for key, value in info.pax_headers.items():
            if not key.startswith("SCHILY.xattr."):
                continue
            xname = key[len("SCHILY.xattr.") :]
            if xname.startswith(_REFUSED_XATTR_PREFIXES) or (
                xname.startswith("security.") and not self.as_root
            ):
                continue
            try:
                os.setxattr(target, xname, value.encode("utf-8", "surrogateescape"), follow_symlinks=follow)
            except OSError:
                continue  # "where allowed": the filesystem or our privileges refuse it

    # --- end of layer --------------------------------------------------------------------------
    def finish(self) -> None:
        for kind, target in self.whiteouts:
            if kind == "opaque":  # apply() created the directory as the marker's parent
                self._opaque(self.path(target))
                continue
            path = self.path(target)
            st = _lstat(path)
            if st is None:
                os.mknod(path, stat.S_IFCHR | 0o000, os.makedev(0, 0))
                if self.as_root:
                    os.lchown(path, 0, 0)
            elif stat.S_ISDIR(st.st_mode):
                self._opaque(path)  # the same layer recreates it: hide only what lies below
        if "" not in self.dirs:
            self.dirs[""] = self._lower_dir_meta("") if self.lowers else _DirMeta(0o755, 0, 0, 0.0)
        for name in sorted(self.dirs, key=lambda n: n.count("/") + (1 if n else 0), reverse=True):
            meta = self.dirs[name]
            path = self.path(name)
            os.chmod(path, meta.mode)
            os.utime(path, (meta.mtime, meta.mtime))

    def _opaque(self, path: str) -> None:
        os.setxattr(path, OPAQUE_XATTRS[0], b"y", follow_symlinks=False)
        if self.as_root:
            try:
                os.setxattr(path, OPAQUE_XATTRS[1], b"y", follow_symlinks=False)
            except OSError:
                pass


def _copy(src: BinaryIO, fd: int, size: int, what: str) -> None:
    left = size
    while left > 0:
        chunk = src.read(min(CHUNK, left))
        if not chunk:
            raise ArchiveError(f"{what}: a file in the layer ends early: the layer is truncated")
        view = memoryview(chunk)
        while view:
            n = os.write(fd, view)
            view = view[n:]
        left -= len(chunk)


def _lstat(path: str) -> os.stat_result | None:
    try:
        return os.lstat(path)
    except FileNotFoundError:
        return None


def _lstat_no_follow(root: str, name: str) -> os.stat_result | None:
    """lstat(root/name) without following any symlink on the way (None if absent or not reachable)."""
    path = root
    st = None
    for part in name.split("/"):
        if st is not None and not stat.S_ISDIR(st.st_mode):
            return None
        path = os.path.join(path, part)
        st = _lstat(path)
        if st is None:
            return None
    return st


def unpack_layer(
    layer: LayerBlob,
    dest: Path,
    lowers: Sequence[Path] = (),
    *,
    tee: Callable[[bytes], Any] | None = None,
    on_bytes: Callable[[int], Any] | None = None,
    skip_devices: bool = False,
) -> LayerStats:
    """Unpack `layer` into the empty directory `dest` (whose contents are temporary until this returns).

    `lowers` are the unpacked layers below (top first), used for implicit directories' metadata.
    `tee` gets the raw blob bytes (to keep the blob); `on_bytes` the count of raw bytes read."""
    what = f"layer {short(layer.digest)}"
    applier = _Applier(what, dest, lowers, as_root=os.geteuid() == 0, skip_devices=skip_devices)
    raw_tee = tee
    if on_bytes is not None:

        def raw_tee(data: bytes) -> None:
            if tee is not None:
                tee(data)
            on_bytes(len(data))

    stream: LayerStream = layer.open_stream(raw_tee)
    try:
        for info, fileobj in iter_layer_entries(layer, stream=stream):
            try:
                applier.apply(info, fileobj)
            except OSError as exc:
                if exc.errno in STORE_ERRNOS:
                    raise StoreWriteError(exc) from None
                raise ArchiveError(
                    f"{what}: cannot create {info.name!r}: {exc.strerror}: "
                    "the layer is malformed or the store is not writable"
                ) from None
        try:
            applier.finish()
        except OSError as exc:
            if exc.errno in STORE_ERRNOS:
                raise StoreWriteError(exc) from None
            raise
    finally:
        stream.close()
    applier.stats.bytes = stream.count
    applier.stats.compression = stream.compression
    applier.stats.diff_id = stream.uncompressed_digest
    return applier.stats
