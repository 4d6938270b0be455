"""Checkpoints: the chain head (seq, count, digest) at one moment, kept off the machine and
compared later by `audit verify --checkpoint FILE` (truncation, and history forged below it)."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from pysandbox.types import UserError

MAGIC = "pysandbox-audit-checkpoint"
_FIX = "pass a file written by `pysandbox audit checkpoint -o FILE`"


@dataclass(frozen=True)
class Checkpoint:
    seq: int
    count: int
    head: str
    alg: str
    time_ns: int
    db: str

    def to_json(self) -> dict[str, Any]:
        return {"format": MAGIC, "version": 1, **asdict(self)}

    @classmethod
    def from_json(cls, data: Any, origin: str) -> Checkpoint:
        if not isinstance(data, dict) or data.get("format") != MAGIC:
            raise UserError(f"{origin} is not a pysandbox audit checkpoint: {_FIX}")
        try:
            cp = cls(
                int(data["seq"]),
                int(data["count"]),
                str(data["head"]),
                str(data["alg"]),
                int(data["time_ns"]),
                str(data.get("db", "")),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise UserError(f"{origin}: checkpoint field missing or malformed ({exc}): {_FIX}") from None
        if len(cp.head) != 64 or any(c not in "0123456789abcdef" for c in cp.head) or cp.seq < 0:
            raise UserError(f"{origin}: checkpoint head is not a hex SHA-256 digest: {_FIX}")
        return cp


def read_checkpoint(path: Path) -> Checkpoint:
    try:
        data = json.loads(path.read_text())
    except OSError as exc:
        raise UserError(f"cannot read checkpoint {path}: {exc.strerror}: check the path") from None
    except ValueError:
        raise UserError(f"{path} is not JSON: {_FIX}") from None
    return Checkpoint.from_json(data, str(path))


def write_checkpoint(cp: Checkpoint, path: Path) -> None:
    from pysandbox.fsutil import atomic_write_text

    try:
        atomic_write_text(path, json.dumps(cp.to_json(), indent=2) + "\n")
    except OSError as exc:
        raise UserError(f"cannot write {path}: {exc.strerror}: check the directory") from None
