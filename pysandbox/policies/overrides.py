"""CLI flags applied to a profile: tightening is always allowed, loosening needs --allow-unsafe.

`apply` returns the new profile and every override (for the audit log: DESIGN.md says each one is
recorded); an unsafe override without `allow_unsafe` raises SandboxError naming the flag.
"""

from __future__ import annotations

import os
import stat

from pysandbox.policies import capabilities
from pysandbox.policies.model import Profile
from pysandbox.record import record, replace
from pysandbox.sandbox.spec import is_cpu_list, parse_cpu_list
from pysandbox.types import SandboxError, UserError

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing on the run path
if TYPE_CHECKING:
    from typing import Any

NETWORK_ORDER = {"none": 0, "slirp": 1, "host": 2}  # growing exposure
SECCOMP_ORDER = {"strict": 0, "default": 1, "unconfined": 2}


@record(frozen=True)
class Requested:
    """What the user asked for on the command line (None: not given)."""

    read_only: bool | None = None
    user: tuple[int, int | None] | None = None
    hostname: str | None = None
    network: str | None = None
    userns: str | None = None  # "host" to run without a user namespace
    memory: int | None = None
    memory_swap: int | None = None
    cpus: float | None = None
    pids: int | None = None
    cpuset: str | None = None  # --cpuset-cpus
    cap_add: tuple[str, ...] = ()
    cap_drop: tuple[str, ...] = ()
    seccomp: str | None = None


@record(frozen=True)
class Override:
    flag: str
    field: str
    old: Any
    new: Any
    unsafe: bool

    def describe(self) -> str:
        return f"{self.flag}: {self.field} {self.old!r} -> {self.new!r}"

    def to_json(self) -> dict[str, Any]:
        return {
            "flag": self.flag,
            "field": self.field,
            "old": self.old,
            "new": self.new,
            "unsafe": self.unsafe,
        }


class Refused(SandboxError):
    """A flag that loosens the profile, given without --allow-unsafe (recorded as policy_denied)."""

    def __init__(self, message: str, flag: str) -> None:
        super().__init__(message)
        self.flag = flag


class _Builder:
    def __init__(self, profile: Profile, allow_unsafe: bool) -> None:
        self.profile = profile
        self.allow_unsafe = allow_unsafe
        self.overrides: list[Override] = []

    def change(self, flag: str, path: str, new: Any, unsafe: bool) -> None:
        old = _get(self.profile, path)
        if old == new:
            return
        if unsafe and not self.allow_unsafe:
            raise Refused(
                f"{flag} loosens profile {self.profile.name!r} ({path}: {_show(old)} -> {_show(new)}): "
                "pass --allow-unsafe to accept it (the override is audited)",
                flag,
            )
        self.overrides.append(Override(flag, path, old, new, unsafe))
        self.profile = _set(self.profile, path, new)


def _get(obj: Any, path: str) -> Any:
    for part in path.split("."):
        obj = getattr(obj, part)
    return obj


def _set(obj: Any, path: str, value: Any) -> Any:
    head, _, rest = path.partition(".")
    if not rest:
        return replace(obj, **{head: value})
    return replace(obj, **{head: _set(getattr(obj, head), rest, value)})


def _show(value: Any) -> str:
    if isinstance(value, tuple):
        return "[" + ", ".join(map(str, value)) + "]"
    return "unset" if value is None else str(value)


def _looser_limit(old: float | None, new: float | None) -> bool:
    """`new` lifts or raises the limit `old` (None or negative: no limit; 0 or -1 lift pids and swap)."""
    if old is None or old < 0:
        return False
    return new is None or new <= 0 or new > old


def _cap(name: str, flag: str) -> str:
    """Canonical capability name (or ALL); unknown names are refused before any loosening check."""
    if name.strip().upper() in ("ALL", "CAP_ALL"):
        return "ALL"
    try:
        return capabilities.canonical(name)
    except UserError as exc:
        raise SandboxError(f"{flag}: {exc}") from None


def check_hostname(name: str, what: str = "--hostname") -> str:
    """What RFC 1123 calls a hostname, within the kernel's 64 bytes (longer ones were cut silently)."""
    if len(name.encode()) > 64:
        raise SandboxError(f"{what} {name[:16]!r}... is longer than 64 characters: use a shorter name")
    if not all(_is_label(label) for label in name.split(".")):
        raise SandboxError(
            f"bad {what} {name!r}: use letters, digits and '-' in dot-separated labels of up to 63 "
            "characters (RFC 1123), e.g. build-1"
        )
    return name


def conflicts(p: Profile) -> list[str]:
    """`path: problem: fix` for settings the profile's other fields contradict (run would otherwise
    apply one of the two silently: the host's network under mode none, say, or a capability granted
    to a non-root user that the bounding set leaves out)."""
    out = []
    mode = p.network.mode
    if not p.namespaces.net and mode != "host":
        out.append(
            f"namespaces.net: false (the host's network) contradicts network.mode: {mode}, which is a "
            "network namespace of the sandbox's own: set namespaces.net: true, or network.mode: host"
        )
    elif p.namespaces.net and mode == "host":
        out.append(
            "network.mode: host needs namespaces.net: false (true, the default, is a network namespace "
            "of the sandbox's own, with no network at all): set namespaces: {net: false}, or "
            "network.mode: none"
        )
    if p.hostname is not None and not p.namespaces.uts:
        out.append(
            f"hostname: {p.hostname!r} cannot be set with namespaces.uts: false (the sandbox shares the "
            "host's hostname): remove hostname, or set namespaces.uts: true"
        )
    out.extend(_grant_outside_keep(p))
    return out


def _grant_outside_keep(p: Profile) -> list[str]:
    """capabilities.grant_non_root entries missing from capabilities.keep (the bounding set): the
    launcher could not grant them. Unknown names are validate's to report."""
    caps = p.capabilities
    if not caps.grant_non_root:
        return []
    keep = set()
    for name in caps.keep:
        try:
            keep.add(capabilities.canonical(name))
        except UserError:
            pass
    out = []
    for i, name in enumerate(caps.grant_non_root):
        try:
            canonical = capabilities.canonical(name)
        except UserError:
            continue
        if canonical not in keep:
            out.append(
                f"capabilities.grant_non_root.{i}: {name} is not in capabilities.keep, the most any user "
                f"inside may hold: add {canonical} to capabilities.keep, or remove it from grant_non_root"
            )
    return out


def _is_label(label: str) -> bool:
    return (
        0 < len(label) <= 63
        and not label.startswith("-")
        and not label.endswith("-")
        and all(c.isascii() and (c.isalnum() or c == "-") for c in label)
    )


def _check_limits(req: Requested) -> None:
    if req.memory is not None and req.memory <= 0:
        raise SandboxError(f"bad value {req.memory} for --memory: use a positive size, e.g. 512m")
    if req.memory_swap is not None and (req.memory_swap == 0 or req.memory_swap < -1):
        raise SandboxError(
            f"bad value {req.memory_swap} for --memory-swap: use a positive size (memory plus swap, "
            "e.g. 1g), or -1 for no swap limit"
        )


def _check_seccomp(spec: str) -> None:
    """A seccomp file must exist before the loosening check, or the user is told to pass
    --allow-unsafe only to learn then that the file is missing."""
    if spec in SECCOMP_ORDER:
        return
    fix = "give a path to a Docker/OCI seccomp JSON file, or strict, default or unconfined"
    try:
        st = os.stat(spec)
    except OSError as exc:
        raise SandboxError(f"--security-opt seccomp={spec}: {exc.strerror}: {fix}") from None
    if not stat.S_ISREG(st.st_mode):
        raise SandboxError(f"--security-opt seccomp={spec}: not a regular file: {fix}")


def _check(req: Requested) -> None:
    """Refuse bad values before any override is weighed (an unsafe one would hide them)."""
    if req.hostname is not None:
        check_hostname(req.hostname)
    if req.userns is not None and req.userns != "host":
        raise SandboxError(f"unknown --userns mode {req.userns!r}: the only mode is host")
    _check_limits(req)
    if req.cpuset is not None:
        _cpu_list(req.cpuset)
    for flag, names in (("--cap-drop", req.cap_drop), ("--cap-add", req.cap_add)):
        for name in names:
            _cap(name, flag)
    if req.seccomp is not None:
        _check_seccomp(req.seccomp)


def apply(profile: Profile, req: Requested, allow_unsafe: bool = False) -> tuple[Profile, list[Override]]:
    _check(req)
    network = _parse_network(req.network) if req.network is not None else None
    b = _Builder(profile, allow_unsafe)
    if req.read_only:
        b.change("--read-only", "filesystem.read_only_root", True, unsafe=False)
    if req.user is not None:
        uid, gid = req.user
        gid = uid if gid is None else gid
        p = b.profile.user
        b.change("--user", "user.uid", uid, unsafe=uid == 0 and p.uid != 0)
        b.change("--user", "user.gid", gid, unsafe=gid == 0 and p.gid != 0)
    if req.hostname is not None:
        b.change("--hostname", "hostname", req.hostname, unsafe=False)
        b.change("--hostname", "namespaces.uts", True, unsafe=False)  # in the host's, it would be ignored
    if network is not None:
        _network(b, *network)
    if req.userns is not None:
        b.change("--userns", "idmap.mode", "host", unsafe=True)
    for flag, path, value in (
        ("--memory", "limits.memory", req.memory),
        ("--memory-swap", "limits.memory_swap", req.memory_swap),
        ("--cpus", "limits.cpus", req.cpus),
        ("--pids-limit", "limits.pids", req.pids),
    ):
        if value is not None:
            b.change(flag, path, value, unsafe=_looser_limit(_get(b.profile, path), value))
    if req.cpuset is not None:
        _cpuset(b, req.cpuset)
    _capabilities(b, req, profile.user.uid)
    if req.seccomp is not None:
        rank_old = SECCOMP_ORDER.get(b.profile.seccomp.profile, 1)
        rank_new = SECCOMP_ORDER.get(req.seccomp)
        unsafe = rank_new is None or rank_new > rank_old  # a custom file cannot be ranked: treat as looser
        b.change("--security-opt seccomp", "seccomp.profile", req.seccomp, unsafe=unsafe)
    return b.profile, b.overrides


def _parse_network(text: str) -> tuple[str, dict[str, bool]]:
    """`MODE[:OPTION=VALUE,...]`; the only option is slirp's allow_host_loopback=true|false."""
    mode, _, raw = text.partition(":")
    if mode not in NETWORK_ORDER:
        raise SandboxError(f"unknown network mode {mode!r}: use none, slirp or host")
    options: dict[str, bool] = {}
    for item in filter(None, raw.split(",")):
        key, _, value = item.partition("=")
        if mode != "slirp" or key != "allow_host_loopback" or value.lower() not in ("true", "false"):
            raise SandboxError(
                f"unknown --network option {item!r} for {mode}: the only option is "
                "slirp:allow_host_loopback=true"
            )
        options[key] = value.lower() == "true"
    return mode, options


def _network(b: _Builder, mode: str, options: dict[str, bool]) -> None:
    looser = NETWORK_ORDER[mode] > NETWORK_ORDER[b.profile.network.mode]
    b.change("--network", "network.mode", mode, unsafe=looser)
    # docker's semantics: none and slirp are a network namespace of the sandbox's own (even when the
    # profile shares the host's: tightening), host is the host's (no namespace of its own)
    b.change("--network", "namespaces.net", mode != "host", unsafe=mode == "host")
    if "allow_host_loopback" in options:
        allow = options["allow_host_loopback"]
        b.change("--network", "network.allow_host_loopback", allow, unsafe=allow)


def _cpuset(b: _Builder, text: str) -> None:
    """`--cpuset-cpus LIST`: a subset of the profile's cpus tightens it; anything else loosens it."""
    new = _cpu_list(text)
    old = b.profile.limits.cpuset_cpus
    unsafe = old is not None and not new <= _cpu_list(old)
    b.change("--cpuset-cpus", "limits.cpuset_cpus", text.replace(" ", ""), unsafe=unsafe)


def _cpu_list(text: str) -> set[int]:
    if not is_cpu_list(text.replace(" ", "")):
        raise SandboxError(f"--cpuset-cpus {text!r} is not a cpu list: use e.g. 0-1 or 0,2")
    return parse_cpu_list(text)


def _capabilities(b: _Builder, req: Requested, profile_uid: int) -> None:
    """docker's --cap-drop then --cap-add on capabilities.keep; podman's rule for a non-root user:
    what --cap-add names is granted to it too (capabilities.grant_non_root), and nothing else is.
    `profile_uid`: the profile's own user, before --user. Names compare canonically (a profile may
    spell CHOWN as cap_chown)."""
    keep = list(b.profile.capabilities.keep)
    grant = list(b.profile.capabilities.grant_non_root)
    drop = {_cap(c, "--cap-drop") for c in req.cap_drop}
    if drop:
        kept = () if "ALL" in drop else tuple(c for c in keep if _canonical(c) not in drop)
        b.change("--cap-drop", "capabilities.keep", kept, unsafe=False)
        keep = list(kept)
        still = {_canonical(k) for k in kept}
        grant = [c for c in grant if _canonical(c) in still]
        b.change("--cap-drop", "capabilities.grant_non_root", tuple(grant), unsafe=False)
    wanted = [_cap(c, "--cap-add") for c in req.cap_add]
    if "ALL" in wanted:  # docker's --cap-add ALL: every capability the kernel has
        wanted = list(capabilities.NAMES)
    wanted = list(dict.fromkeys(wanted))
    kept_now = {_canonical(k) for k in keep}
    added = [c for c in wanted if c not in kept_now]
    if added:
        b.change("--cap-add", "capabilities.keep", tuple(keep + added), unsafe=True)
    granted_now = {_canonical(g) for g in grant}
    granted = [c for c in wanted if c not in granted_now]
    if granted:
        # Within keep, a grant loosens only a profile whose own user is non-root (a capability such
        # as SETUID can make that user root): a root profile already gives its user all of keep.
        b.change("--cap-add", "capabilities.grant_non_root", tuple(grant + granted), unsafe=profile_uid != 0)


def _canonical(name: str) -> str:
    """A profile's capability name as --cap-add/--cap-drop give it (validated profiles only hold
    known names; an unknown one is left as it is, and the launcher refuses it)."""
    try:
        return capabilities.canonical(name)
    except UserError:
        return name
