"""Sandbox names and per-sandbox state: state_dir()/NAME/ holds a `lock` file, flock'ed while the
sandbox runs, whose content is the sandbox's state (JSON: name, id, launcher pid, command, ...).
The directory itself is the host-side mount point of the sandbox's staging tmpfs, which is mounted
only inside the sandbox's own mount namespace: the host keeps seeing just the lock file.

A launcher killed with SIGKILL leaves its directory behind with the lock free; the next launch
reclaims it. Dot-entries (.kept, .slots) are not sandboxes.
"""

from __future__ import annotations

import fcntl
import os
import time

from pysandbox import fastjson, paths
from pysandbox.types import SandboxError

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing on the run path
if TYPE_CHECKING:
    from collections.abc import Callable

_ALNUM = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
_NAME_CHARS = _ALNUM | frozenset("_.-")
MAX_SLOTS = 4096


def new_id() -> str:
    return os.urandom(16).hex()


def default_name(sandbox_id: str) -> str:
    return f"psb-{sandbox_id[:12]}"


def check_name(name: str) -> str:
    if not (0 < len(name) <= 63 and name[0] in _ALNUM and set(name) <= _NAME_CHARS):
        raise SandboxError(
            f"bad sandbox name {name!r}: "
            "use 1-63 letters, digits, '_', '.' or '-', starting with a letter or digit"
        )
    return name


class Lease:
    def __init__(self, name: str, sandbox_id: str, directory: str, lock_fd: int) -> None:
        self.name = name
        self.sandbox_id = sandbox_id
        self.directory = directory  # also the host-side mount point of the staging tmpfs
        self.lock_fd = lock_fd

    def write_state(self, **fields: object) -> None:
        data = {
            "name": self.name,
            "id": self.sandbox_id,
            "pid": os.getpid(),
            "started": time.time(),
            **fields,
        }
        os.pwrite(self.lock_fd, fastjson.dumps(data).encode() + b"\n", 0)

    def release(self, close: Callable[[int], None] = os.close) -> None:
        """Remove the state directory, then close the lock. close: what closes it. The lock's last
        close frees the removed directory too (a block, discarded with ext4's `discard`: 0.1-0.3
        ms here): the prewarm thread does it after the run has returned."""
        if self.lock_fd < 0:
            return
        _clear(self.directory)
        fd, self.lock_fd = self.lock_fd, -1
        close(fd)


def _clear(directory: str) -> None:
    """Remove a state directory whose lock we hold (kept for the next reclaim if it is not empty)."""
    try:
        os.unlink(os.path.join(directory, "lock"))
        os.rmdir(directory)
    except OSError:
        pass


def _lock(path: str) -> int | None:
    """An fd holding an exclusive flock on `path` (created if needed), or None when it is held."""
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return None
        except BaseException:
            os.close(fd)
            raise
        # The previous holder may have unlinked the file between our open and our flock.
        try:
            same = os.stat(path).st_ino == os.fstat(fd).st_ino
        except FileNotFoundError:
            same = False
        if same:
            return fd
        os.close(fd)


def acquire(name: str | None, sandbox_id: str) -> Lease:
    base = paths.location(paths.STATE)
    try:
        os.makedirs(base, mode=0o711, exist_ok=True)
    except OSError as exc:
        raise SandboxError(
            f"cannot create the state directory {base}: {exc.strerror}: check PYSANDBOX_HOME"
        ) from None
    chosen = check_name(name) if name else default_name(sandbox_id)
    directory = os.path.join(base, chosen)
    for _ in range(100):
        try:
            os.mkdir(directory, 0o711)
        except FileExistsError:
            pass
        except OSError as exc:
            raise SandboxError(f"cannot create {directory}: {exc.strerror}: check PYSANDBOX_HOME") from None
        try:
            fd = _lock(os.path.join(directory, "lock"))
        except FileNotFoundError:
            continue  # a releasing launcher removed the directory under us: try again
        if fd is None:
            raise SandboxError(
                f"the name {chosen!r} is in use by a running sandbox: "
                "choose another --name or stop that sandbox"
            )
        if os.fstat(fd).st_size:
            # A name taken over from a killed launcher: its state is not ours. Only then: on ext4 a
            # truncate to zero makes the file's last close write it out (auto_da_alloc), and the
            # eviction of the unlinked file then frees (with `discard`: discards) its blocks,
            # 0.2-0.9 ms of every launch's release.
            os.ftruncate(fd, 0)
        return Lease(chosen, sandbox_id, directory, fd)
    raise SandboxError(f"cannot reserve the name {chosen!r}: too much contention in {base}")


def reclaim_stale() -> list[str]:
    """Remove state directories whose launcher is gone (their lock is free). Never raises."""
    removed: list[str] = []
    base = paths.location(paths.STATE)
    try:
        entries = os.listdir(base)
    except OSError:
        return removed
    for entry in entries:
        if entry.startswith("."):
            continue
        directory = os.path.join(base, entry)
        try:
            fd = _lock(os.path.join(directory, "lock"))
        except OSError:
            continue
        if fd is None:
            continue
        try:
            _clear(directory)
            removed.append(entry)
        finally:
            os.close(fd)
    return removed


class Slot:
    """A distinct host id range per running root sandbox (idmap.ROOT_BASE + size * index)."""

    def __init__(self, index: int, fd: int) -> None:
        self.index = index
        self.fd = fd

    def release(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1


def acquire_slot() -> Slot:
    directory = os.path.join(paths.location(paths.STATE), ".slots")
    os.makedirs(directory, mode=0o700, exist_ok=True)
    for index in range(MAX_SLOTS):
        fd = _lock(os.path.join(directory, str(index)))
        if fd is not None:
            return Slot(index, fd)
    raise SandboxError(f"all {MAX_SLOTS} id ranges are in use: stop some sandboxes")


def kept_dir(name: str, sandbox_id: str) -> str:
    return os.path.join(paths.location(paths.STATE), ".kept", f"{name}-{sandbox_id[:8]}")
