"""Which launcher owns a sandbox cgroup: `<pid>:<start time>` of the launcher, kept in an xattr.

The start time guards against pid reuse: a recycled pid has a different start time.
"""

from __future__ import annotations

import os


def start_time(pid: int) -> int | None:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            stat = fh.read()
    except OSError:
        return None
    # Field 22 (starttime), counted after the parenthesised command name, which may hold spaces.
    return int(stat.rsplit(")", 1)[1].split()[19])


def current_tag() -> str:
    pid = os.getpid()
    return f"{pid}:{start_time(pid)}"


def is_alive(tag: str) -> bool:
    pid_text, _, start = tag.partition(":")
    if not pid_text.isdigit():
        return False
    return str(start_time(int(pid_text))) == start
