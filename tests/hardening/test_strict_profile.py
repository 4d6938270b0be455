"""strict.json: generated from its documented source, and narrower than Docker's default profile."""

from __future__ import annotations

import json
from typing import Any

from pysandbox.sandbox import seccomp

from . import strict_source

MUST_DENY = {
    "mount", "umount", "umount2", "setns", "ptrace", "process_vm_readv", "process_vm_writev", "keyctl",
    "add_key", "request_key", "bpf", "perf_event_open", "userfaultfd", "io_uring_setup", "io_uring_enter",
    "io_uring_register", "kexec_load", "kexec_file_load", "init_module", "finit_module", "delete_module",
    "reboot", "swapon", "swapoff", "open_by_handle_at", "name_to_handle_at", "pivot_root", "chroot", "acct",
    "quotactl", "settimeofday", "clock_settime", "adjtimex", "clock_adjtime", "syslog", "vhangup",
    "lookup_dcookie", "fsopen", "fsmount", "open_tree", "move_mount", "sethostname", "setdomainname",
    "iopl", "ioperm", "kcmp", "pidfd_getfd", "fanotify_init",
}  # fmt: skip
CONDITIONAL = {"ioctl", "mknod", "mknodat", "socket", "personality", "clone", "unshare"}


def _allowed(doc: dict[str, Any], unconditional: bool) -> set[str]:
    names: set[str] = set()
    for rule in seccomp.select_rules(doc, (), "x86_64"):
        if rule["action"] == "SCMP_ACT_ALLOW" and (not unconditional or not rule.get("args")):
            names.update(rule["names"])
    return names


def test_checked_in_strict_json_is_generated_from_its_source() -> None:
    assert strict_source.STRICT_JSON.read_text() == strict_source.render()


def test_strict_is_narrower_than_docker_default() -> None:
    strict = json.loads(strict_source.STRICT_JSON.read_text())
    docker = json.loads(strict_source.DEFAULT_JSON.read_text())
    assert _allowed(strict, True) < _allowed(docker, True)
    assert _allowed(strict, False) <= _allowed(docker, False) | {"unshare"}
    assert MUST_DENY & _allowed(strict, False) == set()
    assert _allowed(strict, False) - _allowed(strict, True) == CONDITIONAL
    assert seccomp.architectures(strict, "x86_64") == ["SCMP_ARCH_X86_64"]


def test_strict_ioctl_rules_cover_every_command_but_two() -> None:
    """Evaluate the MASKED_EQ union on sample commands (exhaustive over the low 16 bits)."""
    rules = [r["args"][0] for r in strict_source.ioctl_rules()]

    def allowed(cmd: int) -> bool:
        return any(cmd & a["value"] == a.get("valueTwo", 0) for a in rules)

    for high in (0, 1 << 32, 0xFFFF_FFFF_0000_0000, 0x5412 << 32):
        for low in range(0x10000):
            assert allowed(high | low) == (low not in (0x5412, 0x541C)), hex(high | low)
    assert allowed(0xC0502100) and allowed(0x80000000)
