"""`pysandbox ps` and `pysandbox kill`: the sandboxes running under this PYSANDBOX_HOME.

A running sandbox is a state directory whose lock its launcher holds (names.Lease), with the
state written when its workload starts: the launcher's pid, PID 1's host pid, the command.
`kill` signals PID 1, which passes the signal on to the workload (or, for KILL, ends the pid
namespace): the launcher then records the exit and cleans up as for any other end.
"""

from __future__ import annotations

import json
import os
import signal
from dataclasses import asdict, dataclass
from datetime import UTC, datetime

from pysandbox import paths
from pysandbox.sandbox.spec import FORWARDED_SIGNALS
from pysandbox.textfmt import ago, check_format, table
from pysandbox.types import UserError

SIGNALS = ("SIGKILL", *FORWARDED_SIGNALS)  # what `kill` sends: PID 1 forwards the others
_INIT_TITLE = b"pysandbox-init"  # PID 1's /proc/PID/cmdline (init.run_init retitles it)


@dataclass(frozen=True)
class Running:
    name: str
    id: str
    pid: int  # the launcher
    init: int  # the sandbox's PID 1, as the host sees it
    profile: str
    started: float
    command: list[str]
    rootfs: str | None
    image: str | None


def running() -> list[Running]:
    """The sandboxes whose workload has started and whose launcher still holds its lock."""
    base = paths.location(paths.STATE)
    try:
        entries = sorted(e for e in os.listdir(base) if not e.startswith("."))
    except OSError:
        return []
    held = _flocked()
    found = []
    for entry in entries:
        state = _state(os.path.join(base, entry, "lock"), held)
        if state is not None:
            found.append(state)
    return found


def _state(lock: str, held: set[tuple[int, int]]) -> Running | None:
    try:
        fd = os.open(lock, os.O_RDONLY | os.O_CLOEXEC)
    except OSError:
        return None
    try:
        st = os.fstat(fd)
        if (st.st_dev, st.st_ino) not in held:
            return None  # its launcher is gone (reclaimed by the next launch)
        doc = json.loads(os.read(fd, 1 << 20) or b"null")
    except (OSError, ValueError):
        return None
    finally:
        os.close(fd)
    if not isinstance(doc, dict) or not isinstance(doc.get("init"), int):
        return None  # set up, its workload not started (a sandbox started ahead, say)
    return Running(
        name=str(doc.get("name")), id=str(doc.get("id")), pid=int(doc.get("pid", 0)), init=doc["init"],
        profile=str(doc.get("profile")), started=float(doc.get("started", 0)),
        command=[str(a) for a in doc.get("command") or []], rootfs=doc.get("rootfs"), image=doc.get("image"),
    )  # fmt: skip


def _flocked() -> set[tuple[int, int]]:
    """(device, inode) of every file that has a flock: read from /proc/locks rather than probed
    with flock(2), whose lock, however brief, would make a launcher taking that one fail."""
    held: set[tuple[int, int]] = set()
    try:
        with open("/proc/locks", encoding="ascii", errors="replace") as fh:
            lines = fh.read().splitlines()
    except OSError:
        return held
    for line in lines:
        fields = line.split()
        if len(fields) > 5 and fields[1] == "FLOCK":  # waiters show "->" there instead
            major, minor, inode = fields[5].split(":")
            held.add((os.makedev(int(major, 16), int(minor, 16)), int(inode)))
    return held


def render(sandboxes: list[Running], fmt: str, quiet: bool) -> str:
    check_format(fmt)
    if quiet:
        return "\n".join(s.name for s in sandboxes)
    if fmt == "json":
        docs = [{**asdict(s), "started": _iso(s.started)} for s in sandboxes]
        return json.dumps(docs, indent=2)
    rows = [["NAME", "SANDBOX ID", "PID", "PROFILE", "STARTED", "COMMAND"]]
    for s in sandboxes:
        command = " ".join(s.command)
        rows.append([s.name, s.id[:12], str(s.init), s.profile, ago(s.started),
                     command if len(command) <= 40 else command[:37] + "..."])  # fmt: skip
    return table(rows)


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def parse_signal(text: str) -> int:
    """KILL, SIGKILL or 9 (and the signals PID 1 forwards) -> the number."""
    name = text.upper()
    if name.isdigit():
        number = int(name)
        name = next((s for s in SIGNALS if getattr(signal, s) == number), name)
    name = name if name.startswith("SIG") else f"SIG{name}"
    if name not in SIGNALS:
        names = ", ".join(s[3:] for s in SIGNALS)
        raise UserError(f"signal {text!r} cannot be sent to a sandbox: use one of {names}")
    return int(getattr(signal, name))


def kill(names: list[str], signum: int) -> list[str]:
    """Signal each named sandbox's PID 1 (a name, or a prefix of at least 4 of its id's digits).
    Every name is resolved before any signal is sent."""
    live = running()
    targets = [_find(live, name) for name in names]
    for target in targets:
        _signal_init(target, signum)
    return [t.name for t in targets]


def _find(live: list[Running], name: str) -> Running:
    for sandbox in live:
        if sandbox.name == name:
            return sandbox
    by_id = [s for s in live if len(name) >= 4 and s.id.startswith(name)]
    if len(by_id) == 1:
        return by_id[0]
    raise UserError(f"no running sandbox named {name!r}: see `pysandbox ps`")


def _signal_init(target: Running, signum: int) -> None:
    """Through a pidfd, opened before the check that the pid is still the sandbox's PID 1, so
    that a pid reused meanwhile cannot receive the signal."""
    try:
        pidfd = os.pidfd_open(target.init)
    except ProcessLookupError:
        return  # ended meanwhile
    try:
        if not _is_init(target):
            return
        signal.pidfd_send_signal(pidfd, signum)
    except ProcessLookupError:
        pass
    except PermissionError:
        raise UserError(
            f"not allowed to signal sandbox {target.name!r}: it belongs to another user; run as that user"
        ) from None
    finally:
        os.close(pidfd)


def _is_init(target: Running) -> bool:
    try:
        with open(f"/proc/{target.init}/cmdline", "rb") as fh:
            title = fh.read().rstrip(b"\0")
    except OSError:
        return False
    if title != _INIT_TITLE:
        return False
    # still that sandbox: its launcher holds its lock (a pid reused elsewhere has no state here)
    again = _state(os.path.join(paths.location(paths.STATE), target.name, "lock"), _flocked())
    return again is not None and again.id == target.id
