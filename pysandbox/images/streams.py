"""Byte streams for image blobs: digest-verifying readers, decompression, size caps.

A layer blob is read once, in one pass: the raw (compressed) bytes are hashed as they are read and
decompressed on the fly; the decompressed bytes are hashed too (the layer's diff_id). The digests
are checked when the stream reaches its end; a mismatch raises `ArchiveError`. Callers that stop
early (a tar reader stops at the end-of-archive blocks) call `LayerStream.finish()`, which drains
the rest and verifies.
"""

from __future__ import annotations

import errno
import hashlib
import io
import os
import re
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, BinaryIO

from pysandbox.types import UserError

DIGEST_RE = re.compile(r"^(sha256:[a-f0-9]{64}|sha512:[a-f0-9]{128})$")
CHUNK = 1 << 20
GZIP_MAGIC = b"\x1f\x8b"
ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"


class ArchiveError(UserError):
    """A malformed, hostile or corrupt image archive or blob (exit 2, store unchanged)."""


# errnos of a failed write that say the store, not the archive, is at fault
STORE_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EIO, errno.EROFS, errno.EACCES})


class StoreWriteError(UserError):
    """Writing to the image store failed (disk full, quota, I/O error, no permission): the archive
    may be fine, so this is never reported as corruption (exit 2, store unchanged)."""

    def __init__(self, exc: OSError, root: str | os.PathLike[str] | None = None) -> None:
        self.oserror = exc
        self.root = root
        at = f" at {root}" if root else ""
        reason = exc.strerror or str(exc)
        super().__init__(f"cannot write to the image store{at}: {reason}: {_store_fix(exc.errno)}")

    def at(self, root: str | os.PathLike[str]) -> StoreWriteError:
        """The same error, naming the store's directory."""
        return self if self.root else StoreWriteError(self.oserror, root)


def _store_fix(err: int | None) -> str:
    if err in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG):
        return "free space or set PYSANDBOX_HOME"
    if err in (errno.EACCES, errno.EPERM, errno.EROFS):
        return "make it writable or set PYSANDBOX_HOME"
    if err == errno.EIO:
        return "check the disk (dmesg) or set PYSANDBOX_HOME"
    return "check PYSANDBOX_HOME"


def short(digest: str) -> str:
    return digest.split(":", 1)[-1][:12]


def check_digest(digest: Any, what: str) -> str:
    if not isinstance(digest, str) or not DIGEST_RE.match(digest):
        raise ArchiveError(f"{what}: invalid digest {digest!r}: expected sha256:<64 hex digits>")
    return digest


def new_hash(digest: str) -> Any:
    return hashlib.new(digest.split(":", 1)[0])


@dataclass(frozen=True)
class Limits:
    """Caps against decompression bombs and absurd archives (override with PYSANDBOX_IMAGE_* env)."""

    max_entries: int = 2_000_000  # tar entries per layer
    max_layer_bytes: int = 64 << 30  # decompressed bytes per layer
    max_ratio: int = 1000  # decompressed / compressed, checked past ratio_floor bytes
    ratio_floor: int = 256 << 20
    max_json_bytes: int = 16 << 20  # manifests, configs, indexes

    @classmethod
    def from_env(cls) -> Limits:
        def get(name: str, default: int) -> int:
            raw = os.environ.get(f"PYSANDBOX_IMAGE_{name}")
            if raw is None:
                return default
            try:
                value = int(raw)
            except ValueError:
                raise UserError(
                    f"PYSANDBOX_IMAGE_{name}={raw!r} is not an integer: unset it or fix it"
                ) from None
            if value <= 0:
                raise UserError(f"PYSANDBOX_IMAGE_{name} must be positive: unset it or fix it")
            return value

        d = cls()
        return cls(
            max_entries=get("MAX_ENTRIES", d.max_entries),
            max_layer_bytes=get("MAX_LAYER_BYTES", d.max_layer_bytes),
            max_ratio=get("MAX_RATIO", d.max_ratio),
            ratio_floor=get("RATIO_FLOOR", d.ratio_floor),
            max_json_bytes=get("MAX_JSON_BYTES", d.max_json_bytes),
        )


class SliceReader(io.RawIOBase):
    """`size` bytes of a file starting at `offset` (a member of an uncompressed tar)."""

    def __init__(self, path: str, offset: int, size: int) -> None:
        self._fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
        self._pos = offset
        self._end = offset + size

    def readable(self) -> bool:
        return True

    def readinto(self, buf: Any) -> int:
        n = min(len(buf), self._end - self._pos)
        if n <= 0:
            return 0
        data = os.pread(self._fd, n, self._pos)
        buf[: len(data)] = data
        self._pos += len(data)
        return len(data)

    def close(self) -> None:
        if not self.closed:
            os.close(self._fd)
        super().close()


class HashingReader(io.RawIOBase):
    """Reads a blob, hashing it; at EOF checks size and digest. `tee` receives every chunk read
    (to store the blob: an OSError it raises is a `StoreWriteError`)."""

    def __init__(
        self,
        raw: BinaryIO,
        digest: str,
        size: int | None,
        what: str,
        tee: Callable[[bytes], Any] | None = None,
    ) -> None:
        self._raw = raw
        self.digest = digest
        self.size = size
        self.what = what
        self._hash = new_hash(digest)
        self._tee = tee
        self.count = 0
        self.verified = False

    def readable(self) -> bool:
        return True

    def readinto(self, buf: Any) -> int:
        if self.verified:
            return 0
        want = len(buf)
        if self.size is not None:
            want = min(want, self.size - self.count + 1)  # one byte past the declared size reveals excess
        data = self._raw.read(want) if want > 0 else b""
        if not data:
            self._verify()
            return 0
        self.count += len(data)
        if self.size is not None and self.count > self.size:
            raise ArchiveError(
                f"{self.what}: larger than the {self.size} bytes its descriptor declares: "
                "the archive is corrupt or tampered with"
            )
        self._hash.update(data)
        if self._tee is not None:
            try:
                self._tee(data)
            except OSError as exc:
                raise StoreWriteError(exc) from None
        buf[: len(data)] = data
        return len(data)

    def drain(self) -> None:
        while not self.verified:
            if not self.read(CHUNK):
                break
        self._verify()

    def _verify(self) -> None:
        if self.verified:
            return
        if self.size is not None and self.count != self.size:
            raise ArchiveError(
                f"{self.what}: {self.count} bytes, its descriptor declares {self.size}: "
                "the archive is truncated or tampered with"
            )
        got = f"{self.digest.split(':', 1)[0]}:{self._hash.hexdigest()}"
        if got != self.digest:
            raise ArchiveError(
                f"{self.what}: digest mismatch (expected {self.digest}, got {got}): "
                "the archive is corrupt or tampered with"
            )
        self.verified = True

    def close(self) -> None:
        if not self.closed:
            self._raw.close()
        super().close()


class _GzipReader(io.RawIOBase):
    """Multi-member gzip with large reads (gzip.GzipFile reads 8 KiB at a time)."""

    def __init__(self, raw: BinaryIO) -> None:
        self._raw = raw
        self._d = zlib.decompressobj(wbits=31)
        self._buf = b""
        self._eof = False

    def readable(self) -> bool:
        return True

    def readinto(self, buf: Any) -> int:
        while not self._buf and not self._eof:
            if self._d.unconsumed_tail:
                self._buf = self._d.decompress(self._d.unconsumed_tail, CHUNK)
                continue
            if self._d.eof:
                rest = self._d.unused_data
                self._d = zlib.decompressobj(wbits=31)
                if not rest:
                    rest = self._raw.read(CHUNK)
                    if not rest:
                        self._eof = True
                        break
                if rest.strip(b"\0") == b"":  # padding after the last member
                    while self._raw.read(CHUNK):
                        pass
                    self._eof = True
                    break
                self._buf = self._d.decompress(rest, CHUNK)
                continue
            data = self._raw.read(CHUNK)
            if not data:
                raise ArchiveError("gzip stream ends early: the layer is truncated")
            try:
                self._buf = self._d.decompress(data, CHUNK)
            except zlib.error as exc:
                raise ArchiveError(f"gzip stream is corrupt ({exc}): re-export the image") from None
        n = min(len(buf), len(self._buf))
        buf[:n] = self._buf[:n]
        self._buf = self._buf[n:]
        return n


def _zstd_reader(raw: BinaryIO) -> BinaryIO:
    import zstandard

    reader = zstandard.ZstdDecompressor(max_window_size=1 << 31).stream_reader(
        raw, read_size=CHUNK, read_across_frames=True, closefd=False
    )
    return reader  # type: ignore[no-any-return,unused-ignore]


class LayerStream(io.RawIOBase):
    """Decompressed, verified layer stream (see module docstring)."""

    def __init__(self, raw: HashingReader, diff_id: str | None, what: str, limits: Limits) -> None:
        self._raw = raw
        self._peek = io.BufferedReader(raw, buffer_size=CHUNK)
        head = self._peek.peek(4)[:4]
        self.compression = "gzip" if head.startswith(GZIP_MAGIC) else "zstd" if head == ZSTD_MAGIC else "none"
        self._inner: BinaryIO
        if self.compression == "gzip":
            self._inner = io.BufferedReader(_GzipReader(self._peek), buffer_size=CHUNK)
        elif self.compression == "zstd":
            self._inner = _zstd_reader(self._peek)
        else:
            self._inner = self._peek
        self.diff_id = diff_id
        self._hash = new_hash(diff_id) if diff_id else hashlib.sha256()
        self.what = what
        self.limits = limits
        self.count = 0
        self.done = False
        self._tail = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buf: Any) -> int:
        if self.done:
            # Some writers end a layer without padding the last block or without the two zero
            # blocks: serve them (unhashed), as Go's archive/tar tolerates their absence.
            n = min(len(buf), self._tail)
            buf[:n] = bytes(n)
            self._tail -= n
            return n
        try:
            data = self._inner.read(len(buf))
        except UserError:  # ArchiveError, StoreWriteError: already say what is wrong
            raise
        except Exception as exc:  # zstandard.ZstdError and friends
            raise ArchiveError(f"{self.what}: cannot decompress ({exc}): the blob is corrupt") from None
        if not data:
            self._finish_raw()
            self._tail = (-self.count) % 512 + 1024
            return self.readinto(buf)
        self.count += len(data)
        self._check_caps()
        self._hash.update(data)
        buf[: len(data)] = data
        return len(data)

    def _check_caps(self) -> None:
        lim = self.limits
        if self.count > lim.max_layer_bytes:
            raise ArchiveError(
                f"{self.what}: decompresses past {lim.max_layer_bytes} bytes: refusing a "
                "possible decompression bomb (raise PYSANDBOX_IMAGE_MAX_LAYER_BYTES if legitimate)"
            )
        if self.count > lim.ratio_floor and self.count > lim.max_ratio * max(self._raw.count, 1):
            raise ArchiveError(
                f"{self.what}: compression ratio above {lim.max_ratio}:1: refusing a possible "
                "decompression bomb (raise PYSANDBOX_IMAGE_MAX_RATIO if legitimate)"
            )

    def _finish_raw(self) -> None:
        if self.done:
            return
        # bytes after the compressed stream still count for the blob digest
        while self._peek.read(CHUNK):
            pass
        self._raw.drain()
        if self.diff_id:
            got = f"{self.diff_id.split(':', 1)[0]}:{self._hash.hexdigest()}"
            if got != self.diff_id:
                raise ArchiveError(
                    f"{self.what}: uncompressed digest mismatch (config diff_id {self.diff_id}, "
                    f"got {got}): the archive is corrupt or tampered with"
                )
        self.done = True

    def finish(self) -> None:
        """Read to the end and verify both digests (raises ArchiveError on mismatch)."""
        while not self.done:
            if not self.read(CHUNK):
                break
        self._finish_raw()

    @property
    def uncompressed_digest(self) -> str:
        return f"sha256:{self._hash.hexdigest()}" if not self.diff_id else self.diff_id

    def close(self) -> None:
        if not self.closed:
            self._raw.close()
        super().close()


class JsonTooBig(ArchiveError):
    pass


def read_verified(raw: BinaryIO, digest: str, size: int | None, what: str, limit: int) -> bytes:
    """A whole small blob (JSON), verified against its digest and size."""
    if size is not None and size > limit:
        raise JsonTooBig(
            f"{what}: {size} bytes is above the {limit}-byte cap for JSON documents: refusing it"
        )
    reader = HashingReader(raw, digest, size, what)
    try:
        chunks: list[bytes] = []
        total = 0
        while chunk := reader.read(CHUNK):
            total += len(chunk)
            if total > limit:
                raise JsonTooBig(f"{what}: larger than the {limit}-byte cap for JSON documents: refusing it")
            chunks.append(chunk)
        reader.drain()
        return b"".join(chunks)
    finally:
        reader.close()
