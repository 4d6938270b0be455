"""The source of `pysandbox/policies/seccomp/strict.json`: Docker's allowlist, narrowed.

strict.json is generated (the ioctl rules are mechanical) and checked in, so that it can be reviewed,
exported to OCI runtimes and loaded by any Docker-compatible engine. `test_strict_profile.py` asserts
that the checked-in file matches; regenerate with
    .venv/bin/python tests/hardening/strict_source.py
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

DEFAULT_JSON = Path(__file__).resolve().parents[2] / "pysandbox" / "policies" / "seccomp" / "default.json"
STRICT_JSON = DEFAULT_JSON.with_name("strict.json")

# Removed from Docker's unconditional allowlist; some come back below with argument conditions.
REMOVED = {
    "adjtimex", "clock_adjtime", "clock_adjtime64",  # clock adjustment, even read-only queries
    "io_uring_enter", "io_uring_register", "io_uring_setup",  # a long run of kernel CVEs
    "name_to_handle_at",  # the half of open_by_handle_at (shocker) that leaks handles
    "fanotify_mark",  # useless without fanotify_init, which needs CAP_SYS_ADMIN
    "ioctl",  # back below without TIOCSTI / TIOCLINUX
    "mknod", "mknodat",  # back below for regular files, fifos and sockets only
    "ipc", "socketcall",  # multiplexers: their arguments are in memory, out of the filter's reach
}  # fmt: skip

CLONE_NAMESPACES = 0x7E020000  # NEWNS | NEWCGROUP | NEWUTS | NEWIPC | NEWUSER | NEWPID | NEWNET
UNSHARE_NAMESPACES = CLONE_NAMESPACES | 0x80  # | CLONE_NEWTIME (unshare only; 0x80 is CSIGNAL for clone)
TIOCSTI = 0x5412
TIOCLINUX = 0x541C
S_IFMT, S_IFREG, S_IFIFO, S_IFSOCK = 0o170000, 0o100000, 0o010000, 0o140000
AF_UNIX, AF_INET, AF_INET6, AF_NETLINK = 1, 2, 10, 16
PERSONALITIES = (0x0, 0x8, 0x20000, 0x20008, 0xFFFFFFFF)  # Docker's: LINUX, LINUX32, UNAME26 (+32), query
ARCHES = (
    "SCMP_ARCH_X86_64",
    "SCMP_ARCH_AARCH64",
    "SCMP_ARCH_PPC64LE",
    "SCMP_ARCH_S390X",
    "SCMP_ARCH_RISCV64",
)
ARCH_SPECIFIC = ("arch_prctl", "arm_fadvise64_64", "arm_sync_file_range", "sync_file_range2", "breakpoint",
                 "cacheflush", "set_tls", "swapcontext", "riscv_flush_icache")  # fmt: skip


def _allow(names: list[str], *args: dict[str, int | str], **extra: Any) -> dict[str, Any]:
    rule: dict[str, Any] = {"names": names, "action": "SCMP_ACT_ALLOW"}
    if args:
        rule["args"] = list(args)
    rule.update(extra)
    return rule


def _arg(index: int, op: str, value: int, value_two: int = 0) -> dict[str, int | str]:
    a: dict[str, int | str] = {"index": index, "value": value, "op": f"SCMP_CMP_{op}"}
    if value_two:
        a["valueTwo"] = value_two
    return a


def ioctl_rules() -> list[dict[str, Any]]:
    """ioctl unless (cmd & 0xffffffff) is TIOCSTI or TIOCLINUX, as a union of MASKED_EQ rules.

    libseccomp lets an unconditional rule win over conditional ones, and its NE compares all 64 bits
    while the kernel truncates `cmd` to 32 (the flatpak CVE-2019-10063 bypass). So: allow when any bit
    outside the three where the two commands differ differs from their common pattern (one rule per
    bit), or when those three bits hold any value other than the two commands'.
    """
    differ = TIOCSTI ^ TIOCLINUX
    rules = []
    for bit in range(31, -1, -1):
        if (1 << bit) & ~differ & 0xFFFFFFFF:
            rules.append(_allow(["ioctl"], _arg(1, "MASKED_EQ", 1 << bit, ~TIOCSTI & (1 << bit))))
    for value in range(differ + 1):
        if value & ~differ or value in (TIOCSTI & differ, TIOCLINUX & differ):
            continue
        rules.append(_allow(["ioctl"], _arg(1, "MASKED_EQ", differ, value)))
    return rules


def build() -> dict[str, Any]:
    docker = json.loads(DEFAULT_JSON.read_text())
    base = [n for n in docker["syscalls"][0]["names"] if n not in REMOVED]
    syscalls = [_allow(base)]
    syscalls += ioctl_rules()
    for name, index in (("mknod", 1), ("mknodat", 2)):
        for kind in (0, S_IFREG, S_IFIFO, S_IFSOCK):
            syscalls.append(_allow([name], _arg(index, "MASKED_EQ", S_IFMT, kind)))
    for family in (AF_UNIX, AF_INET, AF_INET6, AF_NETLINK):
        syscalls.append(_allow(["socket"], _arg(0, "EQ", family)))
    for persona in PERSONALITIES:
        syscalls.append(_allow(["personality"], _arg(0, "EQ", persona)))
    syscalls.append(
        _allow(["clone"], _arg(0, "MASKED_EQ", CLONE_NAMESPACES), excludes={"arches": ["s390", "s390x"]})
    )
    syscalls.append(
        _allow(["clone"], _arg(1, "MASKED_EQ", CLONE_NAMESPACES), includes={"arches": ["s390", "s390x"]})
    )
    syscalls.append(_allow(["unshare"], _arg(0, "MASKED_EQ", UNSHARE_NAMESPACES)))
    # glibc >= 2.34 tries clone3 first and falls back to clone on ENOSYS; clone3's flags are in memory.
    syscalls.append({"names": ["clone3"], "action": "SCMP_ACT_ERRNO", "errnoRet": 38})
    for rule in docker["syscalls"]:
        arches = (rule.get("includes") or {}).get("arches")
        if arches and set(rule["names"]) <= set(ARCH_SPECIFIC):
            syscalls.append(_allow(rule["names"], includes={"arches": arches}))
    return {
        "defaultAction": "SCMP_ACT_ERRNO",
        "defaultErrnoRet": 1,
        # Native system call tables only: no 32-bit compat entry points.
        "archMap": [{"architecture": a, "subArchitectures": None} for a in ARCHES],
        "syscalls": syscalls,
    }


def render() -> str:
    return json.dumps(build(), indent="\t") + "\n"


if __name__ == "__main__":
    STRICT_JSON.write_text(render())
    print(f"wrote {STRICT_JSON}")
