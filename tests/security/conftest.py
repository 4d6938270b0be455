"""Fixtures of the escape-attempt suite (defined in attackkit.py), registered once for the session.

None is autouse: the resource and network suites in this directory are unaffected."""

from __future__ import annotations

from cgroups.delegation import delegated_user

from .attackkit import attack_all, kit

__all__ = ["attack_all", "delegated_user", "kit"]
