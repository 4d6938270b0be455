"""Config-audit rules, one module per rule (those that define `RULE`); `ALL_RULES` in id order."""

from __future__ import annotations

from pysandbox.audit.config.rules.base import Rule
from pysandbox.discovery import import_submodules

ALL_RULES: tuple[Rule, ...] = tuple(
    sorted((m.RULE for m in import_submodules(__name__) if hasattr(m, "RULE")), key=lambda r: r.id)
)
