"""Types shared by every package: findings, severities, exit codes and user-facing errors.

Kept free of heavy imports: the `run` fast path imports this module.
"""

from __future__ import annotations

import enum
from dataclasses import asdict, dataclass, field
from typing import Any

# Exit codes (DESIGN.md): scanners and audit use 0/1/2, `run` follows `docker run`.
EXIT_OK = 0
EXIT_FINDINGS = 1
EXIT_USAGE = 2
EXIT_RUN_FAILURE = 125
EXIT_NOT_EXECUTABLE = 126
EXIT_NOT_FOUND = 127


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


class UserError(Exception):
    """Bad input from the user: printed as one line, never as a traceback."""

    def __init__(self, message: str, exit_code: int = EXIT_USAGE) -> None:
        super().__init__(message)
        self.exit_code = exit_code


class SandboxError(UserError):
    """pysandbox itself could not set up or run the sandbox (exit 125 by default)."""

    def __init__(self, message: str, exit_code: int = EXIT_RUN_FAILURE) -> None:
        super().__init__(message, exit_code)
