"""Named volumes under `paths.volumes_dir()`: NAME/data (what the sandbox sees), NAME/meta.json, NAME/lock.

A sandbox using a volume holds a shared flock on NAME/lock (`use_volume`); `remove_volume` takes it
exclusively without waiting, so a volume in use is never removed. The data directory is owned by
the root of the sandbox: rootless that is the invoking user (mapped to 0 inside); a launcher
running as root passes the host uid/gid its sandbox root maps to (`owner=`), applied while the
volume is still empty and unclaimed.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pysandbox import paths
from pysandbox.fsutil import atomic_directory, lock_held
from pysandbox.types import UserError

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$")


@dataclass(frozen=True)
class VolumeInfo:
    name: str
    path: Path  # the data directory
    created: float
    in_use: bool
    size: int | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "mountpoint": str(self.path),
            "created": self.created,
            "in_use": self.in_use,
            "size": self.size,
        }


def check_name(name: str) -> str:
    if not _NAME.match(name) or name in (".", ".."):
        raise UserError(
            f"invalid volume name {name!r}: use letters, digits, '_', '.', '-' (start with a letter or digit)"
        )
    return name


def _root() -> Path:
    root = paths.volumes_dir()
    if not root.exists():
        root.mkdir(parents=True, exist_ok=True)
        os.chmod(root, 0o711)  # traversable by a sandbox root mapped to another uid, not listable
    return root


def _dir(name: str) -> Path:
    return paths.volumes_dir() / check_name(name)


def create_volume(name: str, owner: tuple[int, int] | None = None) -> Path:
    """Create NAME (no-op when it exists); returns its data directory."""
    vdir = _dir(name)
    if (vdir / "meta.json").exists():
        return vdir / "data"
    _root()
    try:
        with atomic_directory(vdir) as tmp:
            os.chmod(tmp, 0o711)
            (tmp / "data").mkdir(mode=0o755)
            if owner is not None:
                os.chown(tmp / "data", *owner)
            (tmp / "lock").touch(mode=0o644)
            (tmp / "meta.json").write_text(json.dumps({"name": name, "created": time.time()}))
    except OSError as exc:
        if not (vdir / "meta.json").exists():  # else a concurrent create won the race: same result
            raise UserError(f"cannot create volume {name!r}: {exc.strerror}: check PYSANDBOX_HOME") from None
    return vdir / "data"


def volume_path(name: str, create: bool = True) -> Path:
    vdir = _dir(name)
    if (vdir / "meta.json").exists():
        return vdir / "data"
    if not create:
        raise UserError(f"volume {name!r} not found: create it with `pysandbox volume create {name}`")
    return create_volume(name)


@contextlib.contextmanager
def use_volume(name: str, owner: tuple[int, int] | None = None, create: bool = True) -> Iterator[Path]:
    """Hold NAME in use for the life of a sandbox; yields the data directory to bind-mount."""
    data = volume_path(name, create)
    fd = os.open(data.parent / "lock", os.O_RDONLY | os.O_CLOEXEC)
    try:
        fcntl.flock(fd, fcntl.LOCK_SH)
        if not data.exists():
            raise UserError(f"volume {name!r} was removed meanwhile: create it again")
        if owner is not None:
            _claim(data, owner)
        yield data
    finally:
        os.close(fd)


def _claim(data: Path, owner: tuple[int, int]) -> None:
    st = data.stat()
    if (st.st_uid, st.st_gid) == owner:
        return
    if (st.st_uid, st.st_gid) == (os.geteuid(), os.getegid()) and not any(data.iterdir()):
        os.chown(data, *owner)


def volume_in_use(name: str) -> bool:
    return lock_held(_dir(name) / "lock")


def inspect_volume(name: str, with_size: bool = False) -> VolumeInfo:
    vdir = _dir(name)
    try:
        meta = json.loads((vdir / "meta.json").read_text())
    except (OSError, ValueError):
        raise UserError(f"volume {name!r} not found: see `pysandbox volume ls`") from None
    size = _du(vdir / "data") if with_size else None
    return VolumeInfo(name, vdir / "data", float(meta.get("created", 0)), volume_in_use(name), size)


def list_volumes() -> list[VolumeInfo]:
    root = paths.volumes_dir()
    if not root.is_dir():
        return []
    out = []
    for d in sorted(root.iterdir()):
        if d.name.startswith(".") or not (d / "meta.json").exists():
            continue
        with contextlib.suppress(UserError):
            out.append(inspect_volume(d.name))
    return out


def remove_volume(name: str) -> None:
    vdir = _dir(name)
    if not (vdir / "meta.json").exists():
        raise UserError(f"volume {name!r} not found: see `pysandbox volume ls`")
    fd = os.open(vdir / "lock", os.O_RDONLY | os.O_CLOEXEC)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise UserError(f"volume {name!r} is in use by a running sandbox: stop it first") from None
        grave = Path(tempfile.mkdtemp(dir=vdir.parent, prefix=".rm-"))
        os.rename(vdir, grave / name)
    finally:
        os.close(fd)
    from pysandbox.images.store import rmtree_force

    rmtree_force(grave)


def _du(path: Path) -> int:
    total = 0
    for dirpath, _dirs, files in os.walk(path):
        for f in files:
            with contextlib.suppress(OSError):
                total += os.lstat(os.path.join(dirpath, f)).st_blocks * 512
    return total
