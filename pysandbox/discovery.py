"""Rule packages hold one module per rule: find them by listing the package, not by hand."""

from __future__ import annotations

import importlib
import pkgutil
from types import ModuleType


def import_submodules(package: str) -> list[ModuleType]:
    """Import every public (not `_`-prefixed) module of `package`, in name order."""
    path = importlib.import_module(package).__path__
    names = sorted(m.name for m in pkgutil.iter_modules(path) if not m.name.startswith("_"))
    return [importlib.import_module(f"{package}.{name}") for name in names]
