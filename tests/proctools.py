"""Process probes the suites share."""

from __future__ import annotations


def alive(pid: int) -> bool:
    """Whether `pid` exists and is not a zombie (a zombie is dead, only not yet reaped)."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False
