"""How the sandbox's user namespace maps ids to the host.

- rootless, /etc/subuid+subgid give the user a range and newuidmap/newgidmap exist: inside 0 is the
  invoking user, 1..N the subordinate range (so `--user 1000` works);
- rootless otherwise: one id, the invoking user, mapped to the uid the workload runs as;
- root: an unprivileged range, never host root: /etc/subuid's entry for `root` when there is one,
  else ROOT_BASE + size * slot, a slot per running sandbox (see names.Slot).
"""

from __future__ import annotations

import os
import pwd

from pysandbox.record import record
from pysandbox.types import SandboxError, is_decimal

ROOT_BASE = 1_000_000_000  # documented default range for sandboxes started by root
SUBID_FILES = ("/etc/subuid", "/etc/subgid")


@record(frozen=True)
class IdMap:
    kind: str  # "single", "subordinate", "root"
    uid_lines: tuple[tuple[int, int, int], ...]  # (inside, outside, count)
    gid_lines: tuple[tuple[int, int, int], ...]
    size: int  # how many inside ids are mapped from 0 (single: only `single_uid`)
    single_uid: int = 0
    single_gid: int = 0

    def maps_uid(self, uid: int) -> bool:
        return any(inside <= uid < inside + count for inside, _, count in self.uid_lines)

    def maps_gid(self, gid: int) -> bool:
        return any(inside <= gid < inside + count for inside, _, count in self.gid_lines)


def read_subids(path: str, user: str, uid: int) -> tuple[int, int] | None:
    """The first range of `user` (by name or number) in /etc/subuid or /etc/subgid."""
    try:
        with open(path) as fh:
            lines = fh.read().splitlines()
    except OSError:
        return None
    for line in lines:
        parts = line.strip().split(":")
        if len(parts) == 3 and parts[0] in (user, str(uid)) and is_decimal(parts[1]) and is_decimal(parts[2]):
            return int(parts[1]), int(parts[2])
    return None


def _user_name(uid: int) -> str:
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return str(uid)


def plan(mode: str, size: int, inside_uid: int, inside_gid: int, slot: int = 0) -> IdMap:
    """The mapping for this launch; `mode` is profile.idmap.mode (auto, single, subordinate)."""
    uid, gid = os.getuid(), os.getgid()
    if uid == 0:
        return _root_plan(size, slot)
    if mode in ("auto", "subordinate"):
        sub = _subordinate(uid, gid, size)
        if sub is not None:
            return sub
        if mode == "subordinate":
            name = _user_name(uid)
            raise SandboxError(
                f"profile asks for subordinate ids but /etc/subuid and /etc/subgid have no range for {name} "
                f"(or newuidmap is missing): run `usermod --add-subuids 100000-165535 --add-subgids "
                f"100000-165535 {name}` as root and install uidmap"
            )
    return IdMap("single", ((inside_uid, uid, 1),), ((inside_gid, gid, 1),), 1, inside_uid, inside_gid)


def _subordinate(uid: int, gid: int, size: int) -> IdMap | None:
    if not (_which("newuidmap") and _which("newgidmap")):
        return None
    name = _user_name(uid)
    subuid = read_subids(SUBID_FILES[0], name, uid)
    subgid = read_subids(SUBID_FILES[1], name, uid)
    if subuid is None or subgid is None:
        return None
    count = min(subuid[1], subgid[1], max(size - 1, 1))
    return IdMap(
        "subordinate",
        ((0, uid, 1), (1, subuid[0], count)),
        ((0, gid, 1), (1, subgid[0], count)),
        count + 1,
    )


def _root_plan(size: int, slot: int) -> IdMap:
    sub = read_subids(SUBID_FILES[0], "root", 0)
    subg = read_subids(SUBID_FILES[1], "root", 0)
    if sub is not None and subg is not None and sub[0] > 0 and subg[0] > 0:
        count = min(size, sub[1], subg[1])
        per = max(min(sub[1], subg[1]) // count, 1)
        k = slot % per  # the range holds `per` sandboxes side by side; beyond that they share
        return IdMap("root", ((0, sub[0] + k * count, count),), ((0, subg[0] + k * count, count),), count)
    base = ROOT_BASE + size * slot
    return IdMap("root", ((0, base, size),), ((0, base, size),), size)


def describe(idmap: IdMap) -> str:
    inside, host, count = idmap.uid_lines[-1]
    return f"{idmap.kind}: inside {inside}..{inside + count - 1} -> host {host}..{host + count - 1}"


def write(pid: int, idmap: IdMap) -> None:
    """Runs in the launcher once the child has unshared its user namespace."""
    try:
        if idmap.kind == "subordinate":
            _helper("newuidmap", pid, idmap.uid_lines)
            _helper("newgidmap", pid, idmap.gid_lines)
            return
        if idmap.kind == "single":
            _write(f"/proc/{pid}/setgroups", "deny")
        _write(f"/proc/{pid}/uid_map", _lines(idmap.uid_lines))
        _write(f"/proc/{pid}/gid_map", _lines(idmap.gid_lines))
    except OSError as exc:
        raise SandboxError(f"cannot write the user namespace id map ({idmap.kind}): {exc.strerror}") from None


def _lines(lines: tuple[tuple[int, int, int], ...]) -> str:
    return "".join(f"{a} {b} {c}\n" for a, b, c in lines)


def _write(path: str, text: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CLOEXEC)
    try:
        os.write(fd, text.encode())
    finally:
        os.close(fd)


def _which(tool: str) -> str | None:
    for directory in ("/usr/bin", "/bin", "/usr/sbin", "/sbin", "/usr/local/bin"):
        path = f"{directory}/{tool}"
        if os.access(path, os.X_OK):
            return path
    return None


def _helper(tool: str, pid: int, lines: tuple[tuple[int, int, int], ...]) -> None:
    import subprocess

    args = [_which(tool) or tool, str(pid)] + [str(n) for line in lines for n in line]
    done = subprocess.run(args, capture_output=True, text=True, close_fds=True)
    if done.returncode != 0:
        reason = (done.stderr.strip().splitlines() or ["failed"])[-1]
        raise SandboxError(
            f"{tool} refused the subordinate id map: {reason}: check /etc/subuid and /etc/subgid"
        )
