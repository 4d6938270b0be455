"""A cgroup v2 filesystem as a plain directory tree: the one fake the suite allows (this machine's
v2 hierarchy has no controllers).

It keeps the semantics the backend relies on: interface files appear on mkdir for the controllers
the parent enabled, `cgroup.subtree_control` takes `+ctrl -ctrl` and refuses controllers the cgroup
does not have, the "no internal processes" rule (EBUSY), rmdir refuses while processes or children
remain (EBUSY), read-only files refuse writes (EACCES), limit files validate their values (EINVAL),
`cgroup.procs` migrates a pid out of its previous cgroup and never lists dead or zombie processes,
`cgroup.kill` SIGKILLs every process below. All state lives in files, so several processes (a
launcher and the test) see the same tree. Kernel-side events are raised with `FakeV2Fs.event`.
The backend passes paths as strings; the fake takes those or `Path`s, as the tests write them.
"""

from __future__ import annotations

import errno
import os
import re
import signal
from pathlib import Path

from proctools import alive

from pysandbox.sandbox.cgroups.fs import CgroupFs
from pysandbox.sandbox.spec import parse_cpu_list

ALL_CONTROLLERS = ("cpuset", "cpu", "io", "memory", "pids")

CORE_FILES = {
    "cgroup.controllers": "",
    "cgroup.subtree_control": "",
    "cgroup.procs": "",
    "cgroup.threads": "",
    "cgroup.type": "domain\n",
    "cgroup.events": "populated 0\nfrozen 0\n",
    "cgroup.kill": "",
    "cgroup.freeze": "0\n",
    "cpu.stat": "usage_usec 0\nuser_usec 0\nsystem_usec 0\n",
}
CONTROLLER_FILES = {
    "memory": {
        "memory.max": "max\n",
        "memory.swap.max": "max\n",
        "memory.high": "max\n",
        "memory.current": "0\n",
        "memory.peak": "0\n",
        "memory.events": "low 0\nhigh 0\nmax 0\noom 0\noom_kill 0\noom_group_kill 0\n",
        "memory.oom.group": "0\n",
    },
    "pids": {"pids.max": "max\n", "pids.current": "0\n", "pids.peak": "0\n", "pids.events": "max 0\n"},
    "cpu": {"cpu.max": "max 100000\n", "cpu.weight": "100\n"},
    "cpuset": {
        "cpuset.cpus": "\n",
        "cpuset.mems": "\n",
        "cpuset.cpus.effective": "",
        "cpuset.mems.effective": "",
    },
    "io": {"io.weight": "default 100\n", "io.max": ""},
}
READ_ONLY = {
    "cgroup.controllers", "cgroup.events", "cpu.stat", "memory.current", "memory.peak", "memory.events",
    "pids.current", "pids.peak", "pids.events", "cpuset.cpus.effective", "cpuset.mems.effective",
}  # fmt: skip
ROOT_ONLY_ABSENT = ("cgroup.type", "cgroup.kill", "cgroup.freeze")  # the root cgroup has none of these
_NUM_OR_MAX = re.compile(r"^(max|\d+)$")


def _err(code: int, path: Path) -> OSError:
    return OSError(code, os.strerror(code), str(path))


class FakeV2Fs(CgroupFs):
    def __init__(self, root: Path) -> None:
        self.root = root

    @classmethod
    def make_root(
        cls, root: Path, controllers: tuple[str, ...] = ALL_CONTROLLERS, cpus: str = "0-1"
    ) -> FakeV2Fs:
        root.mkdir(parents=True, exist_ok=True)
        for name, text in CORE_FILES.items():
            if name not in ROOT_ONLY_ABSENT:
                (root / name).write_text(text)
        (root / "cgroup.controllers").write_text(" ".join(controllers) + "\n")
        (root / "cpuset.cpus.effective").write_text(cpus + "\n")
        (root / "cpuset.mems.effective").write_text("0\n")
        return cls(root)

    # --- reads --------------------------------------------------------------------------------
    def read(self, path: str | Path) -> str:
        path = Path(path)
        if path.name == "cgroup.procs":
            return "".join(f"{pid}\n" for pid in self._live(path))
        if path.name == "cgroup.kill":
            raise _err(errno.EINVAL, path)
        return super().read(path)

    def _live(self, procs: Path) -> list[int]:
        """Members of the cgroup: the pids written to it and, as fork does, their descendants that
        were not moved elsewhere (a fork inherits its parent's cgroup)."""
        owner = self._listed()
        here = procs.parent
        members = [pid for pid, cgroup in owner.items() if cgroup == here and alive(pid)]
        tree = _process_tree()
        for pid, ppid in tree.items():
            if pid in owner or not alive(pid):
                continue
            ancestor = ppid
            while ancestor > 1 and ancestor not in owner:
                ancestor = tree.get(ancestor, 0)
            if owner.get(ancestor) == here:
                members.append(pid)
        return sorted(members)

    def _listed(self) -> dict[int, Path]:
        listed: dict[int, Path] = {}
        for procs in self.root.rglob("cgroup.procs"):
            for pid in procs.read_text().split():
                listed[int(pid)] = procs.parent
        return listed

    # --- directories --------------------------------------------------------------------------
    def mkdir(self, path: str | Path, mode: int = 0o755) -> None:
        path = Path(path)
        parent = path.parent
        if not (parent / "cgroup.procs").exists():
            raise _err(errno.ENOENT, path)
        os.mkdir(path, mode)
        for name, text in CORE_FILES.items():
            (path / name).write_text(text)
        enabled = self._set(parent / "cgroup.subtree_control")
        (path / "cgroup.controllers").write_text(" ".join(c for c in ALL_CONTROLLERS if c in enabled) + "\n")
        for controller in enabled:
            self._add_files(path, controller)

    def _add_files(self, cgroup: Path, controller: str) -> None:
        for name, text in CONTROLLER_FILES[controller].items():
            if not (cgroup / name).exists():
                (cgroup / name).write_text(text)
        if controller == "cpuset":
            for kind in ("cpus", "mems"):
                inherited = (cgroup.parent / f"cpuset.{kind}.effective").read_text()
                (cgroup / f"cpuset.{kind}.effective").write_text(inherited)

    def rmdir(self, path: str | Path) -> None:
        path = Path(path)
        if not os.path.isdir(path):
            raise _err(errno.ENOENT, path)
        if self.children(path) or self._live(path / "cgroup.procs"):
            raise _err(errno.EBUSY, path)
        for entry in os.listdir(path):
            os.unlink(path / entry)
        os.rmdir(path)

    # --- writes -------------------------------------------------------------------------------
    def write(self, path: str | Path, text: str) -> None:
        path = Path(path)
        name, cgroup = path.name, path.parent
        if not path.exists():
            raise _err(errno.ENOENT, path)
        if name in READ_ONLY:
            raise _err(errno.EACCES, path)
        if not os.access(path, os.W_OK):
            raise _err(errno.EACCES, path)
        handler = {
            "cgroup.subtree_control": self._subtree_control,
            "cgroup.procs": self._procs,
            "cgroup.kill": self._kill,
        }.get(name)
        if handler is not None:
            handler(cgroup, text.strip())
            return
        path.write_text(self._validate(path, text.strip()) + "\n")
        if name == "cpuset.cpus":
            (cgroup / "cpuset.cpus.effective").write_text(text.strip() + "\n")

    def _validate(self, path: Path, value: str) -> str:
        name = path.name
        if name in ("memory.max", "memory.swap.max", "memory.high", "pids.max"):
            ok = bool(_NUM_OR_MAX.match(value))
        elif name == "cpu.max":
            parts = value.split()
            ok = 1 <= len(parts) <= 2 and (
                parts[0] == "max" or (parts[0].isdigit() and int(parts[0]) >= 1000)
            )
            ok = ok and (len(parts) == 1 or (parts[1].isdigit() and 1000 <= int(parts[1]) <= 1_000_000))
            if ok and len(parts) == 1:
                value = f"{parts[0]} {path.read_text().split()[1]}"
        elif name == "cpuset.cpus":
            available = (path.parent.parent / "cpuset.cpus.effective").read_text()
            try:
                ok = parse_cpu_list(value) <= parse_cpu_list(available)
            except ValueError:
                ok = False
        elif name == "io.weight":
            number = value.removeprefix("default ").strip()
            ok = number.isdigit() and 1 <= int(number) <= 10000
            value = f"default {number}"
        else:
            ok = True
        if not ok:
            raise _err(errno.EINVAL, path)
        return value

    def _subtree_control(self, cgroup: Path, text: str) -> None:
        available = self._set(cgroup / "cgroup.controllers")
        enabled = self._set(cgroup / "cgroup.subtree_control")
        for token in text.split():
            op, controller = token[0], token[1:]
            if op not in "+-" or controller not in available:
                raise _err(
                    errno.EINVAL if op not in "+-" else errno.ENOENT, cgroup / "cgroup.subtree_control"
                )
            if op == "+":
                if cgroup != self.root and self._live(cgroup / "cgroup.procs"):
                    raise _err(errno.EBUSY, cgroup / "cgroup.subtree_control")
                enabled.add(controller)
            else:
                enabled.discard(controller)
        ordered = [c for c in ALL_CONTROLLERS if c in enabled]
        (cgroup / "cgroup.subtree_control").write_text(" ".join(ordered) + "\n")
        for child in self.children(cgroup):
            (cgroup / child / "cgroup.controllers").write_text(" ".join(ordered) + "\n")
            for controller in ordered:
                self._add_files(cgroup / child, controller)

    def _procs(self, cgroup: Path, text: str) -> None:
        if not text.isdigit() or not alive(int(text)):
            raise _err(errno.ESRCH, cgroup / "cgroup.procs")
        if cgroup != self.root and self._set(cgroup / "cgroup.subtree_control"):
            raise _err(errno.EBUSY, cgroup / "cgroup.procs")
        pid = int(text)
        for procs in self.root.rglob("cgroup.procs"):
            kept = [p for p in procs.read_text().split() if int(p) != pid and alive(int(p))]
            procs.write_text("".join(f"{p}\n" for p in kept))
        with open(cgroup / "cgroup.procs", "a") as fh:
            fh.write(f"{pid}\n")

    def _kill(self, cgroup: Path, text: str) -> None:
        if text != "1":
            raise _err(errno.EINVAL, cgroup / "cgroup.kill")
        for procs in cgroup.rglob("cgroup.procs"):
            for pid in self._live(procs):
                os.kill(pid, signal.SIGKILL)
            procs.write_text("")

    # --- kernel side --------------------------------------------------------------------------
    def event(self, cgroup: str | Path, filename: str, key: str, count: int = 1) -> None:
        """What the kernel does on an OOM kill or a refused fork: bump a counter (hierarchically
        for memory.events, as v2 does without the memory_localevents mount option)."""
        cgroup = Path(cgroup)
        targets = [cgroup]
        if filename == "memory.events":
            targets += [p for p in cgroup.parents if p.is_relative_to(self.root) and p != self.root]
        for target in targets:
            path = target / filename
            lines = path.read_text().splitlines()
            bumped = [
                f"{k} {int(v) + count}" if k == key else f"{k} {v}" for k, v in (x.split() for x in lines)
            ]
            path.write_text("\n".join(bumped) + "\n")

    def set_value(self, path: str | Path, text: str) -> None:
        """A kernel-maintained value (memory.peak, cpu.stat)."""
        Path(path).write_text(text)

    @staticmethod
    def _set(path: Path) -> set[str]:
        return set(path.read_text().split()) if path.exists() else set()


def _process_tree() -> dict[int, int]:
    """pid -> parent pid of every process on the machine."""
    tree: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as fh:
                    tree[int(entry)] = int(fh.read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                pass
    return tree
