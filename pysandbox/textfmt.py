"""Plain-text output shared by the list commands (`image ls`, `volume ls`, `ps`)."""

from __future__ import annotations

import time

from pysandbox.types import UserError

FORMATS = ("table", "json")


def check_format(fmt: str) -> None:
    if fmt not in FORMATS:
        raise UserError(f"unknown format {fmt!r}: use table or json")


def ago(ts: float) -> str:
    delta = max(0, int(time.time() - ts))
    for unit, secs in (("days", 86400), ("hours", 3600), ("minutes", 60)):
        if delta >= secs:
            return f"{delta // secs} {unit} ago"
    return f"{delta} seconds ago"


def table(rows: list[list[str]]) -> str:
    """Left-aligned columns three spaces apart; the first row is the header."""
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return "\n".join("   ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows)
