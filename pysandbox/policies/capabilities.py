"""Linux capability names and numbers (capability.h), and validation of names given by users.

Accepted spellings follow Docker: `NET_ADMIN`, `CAP_NET_ADMIN`, any case; `ALL` in --cap-add/--cap-drop.
"""

from __future__ import annotations

from pysandbox.types import UserError

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing on the run path
if TYPE_CHECKING:
    from collections.abc import Iterable

# Index = capability number (include/uapi/linux/capability.h).
NAMES: tuple[str, ...] = (
    "CHOWN", "DAC_OVERRIDE", "DAC_READ_SEARCH", "FOWNER", "FSETID", "KILL", "SETGID", "SETUID",
    "SETPCAP", "LINUX_IMMUTABLE", "NET_BIND_SERVICE", "NET_BROADCAST", "NET_ADMIN", "NET_RAW",
    "IPC_LOCK", "IPC_OWNER", "SYS_MODULE", "SYS_RAWIO", "SYS_CHROOT", "SYS_PTRACE", "SYS_PACCT",
    "SYS_ADMIN", "SYS_BOOT", "SYS_NICE", "SYS_RESOURCE", "SYS_TIME", "SYS_TTY_CONFIG", "MKNOD",
    "LEASE", "AUDIT_WRITE", "AUDIT_CONTROL", "SETFCAP", "MAC_OVERRIDE", "MAC_ADMIN", "SYSLOG",
    "WAKE_ALARM", "BLOCK_SUSPEND", "AUDIT_READ", "PERFMON", "BPF", "CHECKPOINT_RESTORE",
)  # fmt: skip

NUMBERS: dict[str, int] = {name: i for i, name in enumerate(NAMES)}


def canonical(name: str) -> str:
    """`cap_net_admin` / `net_admin` -> `NET_ADMIN`; raises UserError for unknown names."""
    key = name.strip().upper()
    key = key.removeprefix("CAP_")
    if key not in NUMBERS:
        raise UserError(
            f"unknown capability {name!r}: use a name such as NET_BIND_SERVICE or CAP_CHOWN "
            "(see capabilities(7))"
        )
    return key


def number(name: str) -> int:
    return NUMBERS[canonical(name)]


def mask(names: Iterable[str]) -> int:
    """The bit mask of a set of capability names, as /proc/PID/status prints it (CapEff etc.)."""
    bits = 0
    for name in names:
        bits |= 1 << number(name)
    return bits


def names_of(bits: int) -> tuple[str, ...]:
    return tuple(name for i, name in enumerate(NAMES) if bits & (1 << i))


def validate(names: Iterable[str]) -> tuple[str, ...]:
    """Canonical, de-duplicated, in capability-number order."""
    return names_of(mask(names))


def apply_overrides(keep: Iterable[str], add: Iterable[str], drop: Iterable[str]) -> tuple[str, ...]:
    """Docker's --cap-add/--cap-drop semantics: drop is applied first, `ALL` is accepted in both."""
    current = set(validate(keep))
    drop = list(drop)
    if any(d.strip().upper() in ("ALL", "CAP_ALL") for d in drop):
        current.clear()
    else:
        current -= set(validate(drop))
    add = list(add)
    if any(a.strip().upper() in ("ALL", "CAP_ALL") for a in add):
        current = set(NAMES)
    else:
        current |= set(validate(add))
    return validate(current)
