"""Findings of every checker (moved out of pysandbox.types, which imports them lazily)."""

from __future__ import annotations

import enum
from dataclasses import asdict, dataclass, field
from typing import Any

from pysandbox.types import UserError


class Severity(enum.IntEnum):
    """Ordered so that `a >= b` means "a is at least as severe as b"."""

    INFO = 0
    LOW = 1
    MEDIUM = 2
    HIGH = 3
    CRITICAL = 4

    @classmethod
    def parse(cls, text: str) -> Severity:
        aliases = {"error": "high", "warning": "medium", "style": "low", "none": "info", "unknown": "info"}
        key = aliases.get(text.strip().lower(), text.strip().lower())
        try:
            return cls[key.upper()]
        except KeyError:
            names = ", ".join(s.label for s in cls)
            raise UserError(f"unknown severity {text!r}: use one of {names}") from None

    @property
    def label(self) -> str:
        return self.name.lower()


@dataclass(frozen=True)
class Location:
    path: str
    line: int | None = None
    column: int | None = None
    layer: str | None = None  # image layer digest, for findings inside images


@dataclass(frozen=True)
class Finding:
    rule_id: str
    severity: Severity
    title: str
    message: str
    location: Location
    fix: str | None = None
    source: str = "pysandbox"
    aliases: tuple[str, ...] = ()
    extra: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["severity"] = self.severity.label
        data["aliases"] = list(self.aliases)
        data["location"] = {k: v for k, v in data["location"].items() if v is not None or k == "line"}
        if not self.extra:
            del data["extra"]
        return data
