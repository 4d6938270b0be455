"""Validation of untrusted profile documents with pydantic (imported only here)."""

from __future__ import annotations

import copy
import math
import os
import re
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from pysandbox.policies import capabilities
from pysandbox.policies.model import Profile, bind_annotation_names
from pysandbox.sandbox.cgroups.plan import IO_WEIGHTS, MIN_CPUS, MIN_MEMORY
from pysandbox.sandbox.spec import MAX_SIZE, is_cpu_list
from pysandbox.types import SandboxError, UserError

if TYPE_CHECKING:
    from pydantic import TypeAdapter

_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmgt]?)i?b?\s*$", re.IGNORECASE)
_UNITS = {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40}
SIZE_FIELDS = (("limits", "memory"), ("limits", "memory_swap"), ("filesystem", "tmp_size"),
               ("filesystem", "upper_size"))  # fmt: skip


class ProfileError(UserError):
    """A profile document is invalid; `errors` holds one `path: problem` line per field."""

    def __init__(self, source: str, errors: list[str]) -> None:
        super().__init__(f"{source}: invalid profile: " + "; ".join(errors))
        self.errors = errors


def parse_size(value: str | int) -> int:
    """'64m' -> 67108864. Docker's units: b, k, m, g, t (powers of 1024)."""
    if isinstance(value, int):
        return value
    match = _SIZE.match(value)
    if not match:
        raise ValueError(f"bad size {value!r}: use a number with an optional unit k, m, g or t (e.g. 256m)")
    return int(float(match.group(1)) * _UNITS[match.group(2).lower()])


def validate_profile(data: Any, source: str, local: bool = True) -> Profile:
    """local=False: a profile reviewed for another machine (audit config): a seccomp file it
    names need not exist here; one that does is still checked."""
    from pydantic import TypeAdapter, ValidationError

    if not isinstance(data, dict):
        raise ProfileError(source, ["the document must be a mapping of profile fields"])
    errors = _normalize_sizes(data)
    for rl in data.get("rlimits") or []:
        if isinstance(rl, dict):
            for key in ("soft", "hard"):
                if rl.get(key) == "unlimited":
                    rl[key] = -1
    if errors:
        raise ProfileError(source, errors)
    bind_annotation_names()
    adapter = TypeAdapter(Profile)
    try:
        profile: Profile | None = adapter.validate_python(data)
    except ValidationError as exc:
        errors = [_describe(err) for err in exc.errors()]
        profile = _rest(adapter, data, exc.errors())
    if profile is not None:
        errors += value_errors(profile, local)
    if errors or profile is None:
        raise ProfileError(source, errors)
    return profile


def _rest(adapter: TypeAdapter[Profile], data: dict[str, Any], errors: list[Any]) -> Profile | None:
    """The document without the fields pydantic refused (they take their defaults), so that the
    value checks report the other fields' errors in the same pass; None if it is still invalid."""
    from pydantic import ValidationError

    rest = copy.deepcopy(data)
    for err in errors:
        head, *tail = err["loc"] or ("",)
        section = rest.get(head)
        if tail and isinstance(section, dict):
            section.pop(tail[0], None)
        else:
            rest.pop(head, None)
    try:
        return adapter.validate_python(rest)
    except ValidationError:
        return None


def _normalize_sizes(data: dict[str, Any]) -> list[str]:
    errors = []
    for section, key in SIZE_FIELDS:
        part = data.get(section)
        if isinstance(part, dict) and isinstance(part.get(key), str):
            try:
                part[key] = parse_size(part[key])
            except ValueError as exc:
                errors.append(f"{section}.{key}: {exc}")
    return errors


def _describe(err: Any) -> str:
    path = ".".join(str(p) for p in err["loc"]) or "(document)"
    if err["type"] in ("extra_forbidden", "unexpected_keyword_argument"):
        return f"{path}: unknown field (check the spelling; `pysandbox profile show default` lists them)"
    if err["type"] == "missing":
        return f"{path}: required field is missing"
    return f"{path}: {err['msg']}"


# --- values: what `run` would refuse, or silently ignore -------------------------------------------

ID_MAX = (1 << 32) - 2  # runc's and the kernel's: (uid_t)-1 means "no change" to setresuid(2)
RLIMIT_MAX = (1 << 63) - 1  # beyond it setrlimit(2) in the workload would overflow
# Options of a bind mount that -v / `--mount` could ask for (mount(8), docker's bind propagation, SELinux).
MOUNT_OPTIONS = ("ro", "rw", "nosuid", "suid", "nodev", "dev", "noexec", "exec", "noatime", "relatime",
                 "strictatime", "nodiratime", "private", "rprivate", "shared", "rshared", "slave", "rslave",
                 "z", "Z", "nocopy")  # fmt: skip


def value_errors(p: Profile, local: bool = True) -> list[str]:
    """`path: problem: fix` for every value `run` would refuse or not apply as written."""
    from pysandbox.policies.overrides import conflicts

    return [*_ids(p), *_hostname(p), *conflicts(p), *_paths(p), *_seccomp(p, local), *_limits(p),
            *_rlimits(p)]  # fmt: skip


def _hostname(p: Profile) -> Iterator[str]:
    from pysandbox.policies.overrides import check_hostname

    if p.hostname is not None:
        try:
            check_hostname(p.hostname, "hostname")
        except SandboxError as exc:
            yield f"hostname: {exc}"


def _ids(p: Profile) -> Iterator[str]:
    if not 1 <= p.idmap.size <= ID_MAX + 1:
        yield f"idmap.size: {p.idmap.size} ids cannot be mapped: use 1 to {ID_MAX + 1} (65536 is the default)"
    ids = [("user.uid", p.user.uid, "uid"), ("user.gid", p.user.gid, "gid")]
    ids += [(f"user.additional_gids.{i}", g, "gid") for i, g in enumerate(p.user.additional_gids)]
    for path, value, kind in ids:
        if not 0 <= value <= ID_MAX:
            yield f"{path}: {value} is not a valid {kind}: use 0 to {ID_MAX}"
    for i, name in enumerate(p.capabilities.keep):
        try:
            capabilities.canonical(name)
        except UserError as exc:
            yield f"capabilities.keep.{i}: {exc}"


def _paths(p: Profile) -> Iterator[str]:
    fs, mounts = p.filesystem, p.mounts
    for key, size in (("tmp_size", fs.tmp_size), ("upper_size", fs.upper_size)):
        if size is not None and not 0 <= size <= MAX_SIZE:
            yield f"filesystem.{key}: {size} is not a size: use e.g. 64m (0: the tmpfs has no size limit)"
    lists = [("filesystem.masked_paths", fs.masked_paths, "the sandbox's /, e.g. /proc/kcore"),
             ("filesystem.readonly_paths", fs.readonly_paths, "the sandbox's /, e.g. /proc/sys"),
             ("mounts.denied_host_paths", mounts.denied_host_paths, "the host's /, e.g. /etc")]  # fmt: skip
    for field, paths, example in lists:
        for i, path in enumerate(paths):
            if not path.startswith("/"):
                yield f"{field}.{i}: {path!r} is not an absolute path: write it from {example}"
    for i, option in enumerate(mounts.allowed_options):
        if option not in MOUNT_OPTIONS:
            known = ", ".join(MOUNT_OPTIONS)
            yield f"mounts.allowed_options.{i}: unknown mount option {option!r}: use {known}"


def _seccomp(p: Profile, local: bool) -> Iterator[str]:
    """The file must exist and be a seccomp profile moby would load (read again by every run)."""
    from pysandbox.sandbox import seccomp

    if not local and "/" in p.seccomp.profile and not os.path.exists(p.seccomp.profile):
        return  # a path on the machine the profile is for
    try:
        resolved = seccomp.resolve(p.seccomp.profile)
        if resolved is not None:
            seccomp.parse_json(resolved[1], resolved[0])
    except SandboxError as exc:
        yield f"seccomp.profile: {exc}"


def _limits(p: Profile) -> Iterator[str]:
    lim = p.limits
    for key, size in (("memory", lim.memory), ("memory_swap", lim.memory_swap)):
        if size is not None and size > MAX_SIZE:
            yield f"limits.{key}: {size} is over 8 EiB, the kernel's limit: use a real size, e.g. 512m"
    if lim.memory is not None and lim.memory < MIN_MEMORY:
        yield f"limits.memory: {lim.memory} is below the minimum: use at least 6m (docker's), or omit it"
    swap = lim.memory_swap
    if swap is not None and swap != -1:
        if lim.memory is None:
            yield "limits.memory_swap: needs limits.memory: set both, or use -1 for no swap limit"
        elif swap < lim.memory:
            yield (
                f"limits.memory_swap: {swap} is below limits.memory: it counts memory plus swap, so use "
                "at least limits.memory, -1 for no swap limit, or omit it for as much swap as memory"
            )
    if lim.cpus is not None and not (math.isfinite(lim.cpus) and lim.cpus >= MIN_CPUS):
        yield f"limits.cpus: {lim.cpus} is out of range: use {MIN_CPUS} or more CPUs, or omit it for no limit"
    if lim.cpuset_cpus is not None and not is_cpu_list(lim.cpuset_cpus.replace(" ", "")):
        yield f"limits.cpuset_cpus: {lim.cpuset_cpus!r} is not a cpu list: use e.g. 0-1 or 0,2"
    if lim.pids is not None and lim.pids != -1 and lim.pids < 1:
        yield f"limits.pids: {lim.pids} is not a process limit: use 1 or more, or -1 (or omit it) for none"
    if lim.io_weight is not None and lim.io_weight not in IO_WEIGHTS:
        low, high = IO_WEIGHTS[0], IO_WEIGHTS[-1]
        yield f"limits.io_weight: {lim.io_weight} is out of range: use {low} to {high}"


def _rlimits(p: Profile) -> Iterator[str]:
    from pysandbox.sandbox.rlimits import RESOURCES

    seen: set[str] = set()
    for i, rl in enumerate(p.rlimits):
        name = rl.name.lower().removeprefix("rlimit_")
        if name not in RESOURCES:
            yield f"rlimits.{i}.name: unknown rlimit {rl.name!r}: use one of {', '.join(sorted(RESOURCES))}"
        elif name in seen:
            yield f"rlimits.{i}.name: {rl.name!r} is set twice: keep one entry per rlimit"
        seen.add(name)
        for key, value in (("soft", rl.soft), ("hard", rl.hard)):
            if not -1 <= value <= RLIMIT_MAX:
                yield f"rlimits.{i}.{key}: {value} is out of range: use 0 to {RLIMIT_MAX}, or -1 (unlimited)"
        if rl.hard != -1 and (rl.soft == -1 or rl.soft > rl.hard):
            yield f"rlimits.{i}: soft limit {rl.soft} is above the hard limit {rl.hard}: lower soft"
