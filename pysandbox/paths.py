"""Where pysandbox keeps its state (DESIGN.md: PYSANDBOX_HOME)."""

from __future__ import annotations

import os
from pathlib import Path


def home() -> Path:
    explicit = os.environ.get("PYSANDBOX_HOME")
    if explicit:
        return Path(explicit)
    if os.geteuid() == 0:
        return Path("/var/lib/pysandbox")
    xdg = os.environ.get("XDG_DATA_HOME") or os.path.join(os.path.expanduser("~"), ".local", "share")
    return Path(xdg) / "pysandbox"


def cache_dir() -> Path:
    return home() / "cache"


def state_dir() -> Path:
    """Per-sandbox runtime state (names, pids); one sub-directory per running sandbox."""
    return home() / "sandboxes"


def images_dir() -> Path:
    return home() / "images"


def volumes_dir() -> Path:
    return home() / "volumes"


def audit_db() -> Path:
    return home() / "audit.db"
