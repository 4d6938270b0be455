"""Types shared by every package: findings, severities, exit codes and user-facing errors.

Kept free of heavy imports: the `run` fast path imports this module.
"""

from __future__ import annotations

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing on the run path
if TYPE_CHECKING:  # defined in pysandbox.findings, imported on first use (not on the run path)
    from typing import Any

    from pysandbox.findings import Finding as Finding
    from pysandbox.findings import Location as Location
    from pysandbox.findings import Severity as Severity

# Exit codes (DESIGN.md): scanners and audit use 0/1/2, `run` follows `docker run`.
EXIT_OK = 0
EXIT_FINDINGS = 1
EXIT_USAGE = 2
EXIT_RUN_FAILURE = 125
EXIT_NOT_EXECUTABLE = 126
EXIT_NOT_FOUND = 127


def __getattr__(name: str) -> Any:
    if name in ("Finding", "Location", "Severity"):
        from pysandbox import findings

        return getattr(findings, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def is_decimal(text: str) -> bool:
    """ASCII digits only: str.isdigit() also takes "²" and other digits that int() refuses."""
    return text.isascii() and text.isdigit()


class UserError(Exception):
    """Bad input from the user: printed as one line, never as a traceback."""

    def __init__(self, message: str, exit_code: int = EXIT_USAGE) -> None:
        super().__init__(message)
        self.exit_code = exit_code


class SandboxError(UserError):
    """pysandbox itself could not set up or run the sandbox (exit 125 by default)."""

    def __init__(self, message: str, exit_code: int = EXIT_RUN_FAILURE) -> None:
        super().__init__(message, exit_code)
