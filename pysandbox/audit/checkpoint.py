"""Checkpoints: the chain head (seq, count, digest) at one moment, kept off the machine and
compared later by `audit verify --checkpoint FILE` (truncation, and history forged below it)."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from pysandbox.types import UserError
from pysandbox.userfiles import read_text

MAGIC = "pysandbox-audit-checkpoint"
VERSION = 1
_FIX = "pass a file written by `pysandbox audit checkpoint -o FILE`"
_MAX_BYTES = 1 << 20  # a checkpoint is a few hundred bytes
_INT64_MAX = 2**63 - 1
_KINDS = {int: "an integer", str: "a string"}


@dataclass(frozen=True)
class Checkpoint:
    seq: int
    count: int
    head: str
    alg: str
    time_ns: int
    db: str

    def to_json(self) -> dict[str, Any]:
        return {"format": MAGIC, "version": VERSION, **asdict(self)}

    @classmethod
    def from_json(cls, data: Any, origin: str) -> Checkpoint:
        if not isinstance(data, dict) or data.get("format") != MAGIC:
            raise UserError(f"{origin} is not a pysandbox audit checkpoint: {_FIX}")
        version = data.get("version")
        if type(version) is not int or version != VERSION:  # not true, not 1.0
            found = (
                f"checkpoint version {json.dumps(version)}"
                if "version" in data
                else "checkpoint has no version"
            )
            raise UserError(f"{origin}: {found}: only version {VERSION} is supported: {_FIX}")
        head = _field(data, "head", str, origin)
        if len(head) != 64 or any(c not in "0123456789abcdef" for c in head):
            raise UserError(f"{origin}: checkpoint head is not a hex SHA-256 digest: {_FIX}")
        return cls(
            _count(data, "seq", origin),
            _count(data, "count", origin),
            head,
            _field(data, "alg", str, origin),
            _count(data, "time_ns", origin),
            _field(data, "db", str, origin) if "db" in data else "",
        )


def _field(data: dict[str, Any], key: str, kind: type, origin: str) -> Any:
    # JSON true/false are ints to Python, and int() would take 1.5 or "3": none is a checkpoint
    value = data.get(key)
    if key not in data or not isinstance(value, kind) or isinstance(value, bool):
        found = "missing" if key not in data else f"{json.dumps(value)} is not {_KINDS[kind]}"
        raise UserError(f"{origin}: not a checkpoint: `{key}` {found}: {_FIX}")
    return value


def _count(data: dict[str, Any], key: str, origin: str) -> int:
    value: int = _field(data, key, int, origin)
    if not 0 <= value <= _INT64_MAX:  # the log keeps seq and time as SQLite INTEGERs
        raise UserError(
            f"{origin}: not a checkpoint: `{key}` {value} is out of range 0..{_INT64_MAX}: {_FIX}"
        )
    return value


def read_checkpoint(path: Path) -> Checkpoint:
    text = read_text(path, "checkpoint", _FIX, max_bytes=_MAX_BYTES)
    try:
        data = json.loads(text)
    except ValueError:
        raise UserError(f"{path} is not JSON: {_FIX}") from None
    return Checkpoint.from_json(data, str(path))


def write_checkpoint(cp: Checkpoint, path: Path) -> None:
    from pysandbox.fsutil import atomic_write_text

    try:
        atomic_write_text(path, json.dumps(cp.to_json(), indent=2) + "\n")
    except OSError as exc:
        raise UserError(f"cannot write {path}: {exc.strerror}: check the directory") from None
