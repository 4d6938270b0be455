"""Risk of a host path mounted into a sandbox. STUB owned by the config auditor (issue 7).

Interface used by the launcher for `-v SRC:DST[:ro]`:
  assess(source, target, read_only) -> Finding | None
"""

from __future__ import annotations

from pysandbox.types import Finding


def assess(source: str, target: str, read_only: bool) -> Finding | None:
    return None
