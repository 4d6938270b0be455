"""Small file-system helpers every package shares: atomic writes, lock probes.

Kept free of heavy imports: `pysandbox run` uses it on its fast path (the seccomp cache).
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import itertools
import os
from collections.abc import Iterator
from pathlib import Path

from pysandbox.types import UserError

_counter = itertools.count()


def atomic_write_bytes(path: Path, data: bytes, mode: int | None = None, *, durable: bool = False) -> None:
    """Write `data` to `path` through a temp file beside it and a rename: readers see the old file or
    the new one, never a part. `mode` sets the permissions (default: 0o666 less the umask); `durable`
    fsyncs before the rename. On failure the temp file is removed and the error propagates.

    The data goes into an unnamed file (O_TMPFILE) that gets its temp name only once complete, just
    before the rename, so a writer killed while writing leaves nothing behind; where the file
    system or /proc does not allow that, into a named temp file from the start."""
    require_file_name(path)
    # pid + counter: unique within this process and among live ones.
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{next(_counter)}.tmp")
    fd, named = _open_temp(path.parent, tmp)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            if mode is not None:
                os.fchmod(f.fileno(), mode)
            if durable:
                os.fsync(f.fileno())
            if not named:
                _link_temp(f.fileno(), tmp)
                named = True
        os.replace(tmp, path)
    except BaseException:
        if named:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
        raise


def _open_temp(directory: Path, tmp: Path) -> tuple[int, bool]:
    """(fd, whether it has a name yet). O_NOFOLLOW: a symlink planted at the temp name fails the
    write instead of redirecting it."""
    if os.path.isdir("/proc/self/fd"):
        try:
            return os.open(directory, os.O_TMPFILE | os.O_WRONLY | os.O_CLOEXEC, 0o666), False
        except IsADirectoryError:  # a kernel without O_TMPFILE
            pass
        except OSError as exc:
            if exc.errno not in (errno.EOPNOTSUPP, errno.EINVAL):  # a file system without it
                raise
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW | os.O_CLOEXEC
    return os.open(tmp, flags, 0o666), True


def _link_temp(fd: int, tmp: Path) -> None:
    """Give the unnamed file its temp name: linkat of /proc/self/fd/N with AT_SYMLINK_FOLLOW, which
    needs no privilege. Python calls linkat (rather than link, which would link the magic link
    itself) only when given a dir fd; the source path is absolute, so the kernel ignores it."""
    source = f"/proc/self/fd/{fd}"
    try:
        os.link(source, tmp, src_dir_fd=fd)
    except FileExistsError:  # left by a dead writer whose pid this process now has
        os.unlink(tmp)
        os.link(source, tmp, src_dir_fd=fd)


def atomic_write_text(path: Path, text: str, mode: int | None = None) -> None:
    """`atomic_write_bytes` for text (UTF-8)."""
    atomic_write_bytes(path, text.encode(), mode)


@contextlib.contextmanager
def atomic_directory(path: Path) -> Iterator[Path]:
    """Yield a staging directory beside `path` (mode 0o700) to fill; on a clean exit it is renamed to
    `path` (which may exist only as an empty directory), on any error removed with all it holds."""
    import shutil
    import tempfile

    require_file_name(path)
    staging = Path(tempfile.mkdtemp(prefix=f".{path.name}.", dir=path.resolve().parent))
    try:
        yield staging
        if path.exists():
            path.rmdir()
        os.rename(staging, path)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def require_file_name(path: Path) -> None:
    """Refuse a path that names no file before anything is written: `Path("")` is `Path(".")`,
    so an empty `-o ''` arrives here as "." (as does "/" or "dir/.")."""
    if not path.name:
        raise UserError(
            f"output path {str(path)!r} is empty or names a directory, not a file: "
            "give the path of a file to write (e.g. -o out.json)"
        )


def lock_held(path: Path) -> bool:
    """Whether another open file description holds a flock on `path` (False when it does not exist)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except FileNotFoundError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return False
    except BlockingIOError:
        return True
    finally:
        os.close(fd)
