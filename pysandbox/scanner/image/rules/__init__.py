"""Image rules, one module per rule (those that define `RULE`). `ALL_RULES` is the registry the
engine runs, in order."""

from __future__ import annotations

from pysandbox.discovery import import_submodules
from pysandbox.scanner.image.rules.base import Rule

ALL_RULES: tuple[Rule, ...] = tuple(
    sorted(
        (m.RULE for m in import_submodules(__name__) if hasattr(m, "RULE")),
        key=lambda r: (r.order, r.id),
    )
)
