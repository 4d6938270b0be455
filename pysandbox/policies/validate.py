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
from pysandbox.sandbox.cgroups.plan import IO_WEIGHTS, MAX_PIDS, MIN_CPUS, MIN_MEMORY, MIN_PIDS
from pysandbox.sandbox.spec import MAX_SIZE, is_cpu_list
from pysandbox.types import SandboxError, UserError

if TYPE_CHECKING:
    from pydantic import TypeAdapter

_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmgt]?)i?b?\s*$", re.IGNORECASE)
_UNITS = {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40}
# In the profile's field order, which pydantic's errors follow too.
SIZE_FIELDS = (("filesystem", "tmp_size"), ("filesystem", "upper_size"), ("limits", "memory"),
               ("limits", "memory_swap"))  # fmt: skip


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
    names need not exist here; one that does is still checked.

    Every error is reported in one pass, in this order: sizes that do not parse, then what pydantic
    refuses (types, unknown fields), then the values `run` would refuse. A field refused by the
    first two takes its default (or a stand-in) for the value checks, which then leave out what
    depends on it: a bad `limits.memory` hides neither an unknown field nor a bad capability, and
    does not also give `limits.memory_swap: needs limits.memory`."""
    from pydantic import TypeAdapter, ValidationError

    if not isinstance(data, dict):
        raise ProfileError(source, ["the document must be a mapping of profile fields"])
    data = copy.deepcopy(data)  # the caller's document is left as it was
    refused: list[str] = []  # paths of the fields that hold a default or a stand-in, not the file's value
    errors = []
    for path, problem in _normalize_sizes(data):
        errors.append(f"{path}: {problem}")
        refused.append(path)
    for rl in data.get("rlimits") or []:
        if isinstance(rl, dict):
            for key in ("soft", "hard"):
                if rl.get(key) == "unlimited":
                    rl[key] = -1
    bind_annotation_names()
    adapter = TypeAdapter(Profile)
    try:
        profile: Profile | None = adapter.validate_python(data)
    except ValidationError as exc:
        errors += [_describe(err) for err in exc.errors()]
        profile = _rest(adapter, data, exc.errors(), refused)
    if profile is not None:
        errors += [e for e in value_errors(profile, local) if not _depends(e, refused)]
    if errors or profile is None:
        raise ProfileError(source, errors)
    return profile


def _rest(
    adapter: TypeAdapter[Profile], data: dict[str, Any], errors: list[Any], refused: list[str]
) -> Profile | None:
    """The document with the fields pydantic refused taken out (they take their defaults; a
    required one, or an item of a list, a stand-in), so that the value checks report the other
    fields' errors in the same pass; their paths are added to `refused`. None if it is still
    invalid (what pydantic says of the stand-ins is not the file's error, and is not reported)."""
    from pydantic import ValidationError

    rest = copy.deepcopy(data)
    for _ in range(3):  # one pass does it; the others are a guard for a stand-in pydantic refuses
        for err in errors:
            path = _drop(rest, tuple(err["loc"]))
            if err["type"] not in ("extra_forbidden", "unexpected_keyword_argument"):
                refused.append(path)  # an unknown field taken out changes no other field
        try:
            return adapter.validate_python(rest)
        except ValidationError as exc:
            errors = exc.errors()
    return None


_STAND_IN_NAME = "(invalid)"
_STAND_IN_RLIMIT = {"name": _STAND_IN_NAME, "soft": 0, "hard": -1}


def _drop(rest: dict[str, Any], loc: tuple[Any, ...]) -> str:
    """Takes the value pydantic refused at `loc` out of `rest`; returns its path (`a.b.0`)."""
    head, *tail = loc or ("",)
    section = rest.get(head)
    if tail and isinstance(section, list) and _is_index(section, tail[0]):  # rlimits.N[.field]
        i, item = tail[0], section[tail[0]]
        if len(tail) > 1 and isinstance(item, dict):
            if tail[1] in _STAND_IN_RLIMIT:
                item[tail[1]] = _STAND_IN_RLIMIT[tail[1]]  # required: the name, soft and hard
            else:
                item.pop(tail[1], None)
            return f"{head}.{i}.{tail[1]}"
        section[i] = dict(_STAND_IN_RLIMIT)
        return f"{head}.{i}"
    if tail and isinstance(section, dict):
        key = tail[0]
        items = section.get(key)
        if len(tail) > 1 and isinstance(items, list) and _is_index(items, tail[1]):
            items[tail[1]] = _stand_in_item(head, key)  # the other items are still checked
            return f"{head}.{key}.{tail[1]}"
        section.pop(key, None)
        return f"{head}.{key}"
    if head == "name":  # the one required field of a profile
        rest[head] = _STAND_IN_NAME
    else:
        rest.pop(head, None)
    return str(head)


def _is_index(items: list[Any], key: Any) -> bool:
    return isinstance(key, int) and 0 <= key < len(items)


def _stand_in_item(section: str, key: str) -> Any:
    """A value pydantic accepts for one item of the list field `section.key` (tuple[int, ...] or
    tuple[str, ...]); what the value checks say of it is left out by _depends."""
    import dataclasses

    from pysandbox.policies import model

    kinds = {f.name: str(f.type) for f in dataclasses.fields(Profile)}
    record = getattr(model, kinds.get(section, ""), None)
    if not dataclasses.is_dataclass(record):
        return ""
    fields = {f.name: str(f.type) for f in dataclasses.fields(record)}
    return 0 if fields.get(key, "").startswith("tuple[int") else ""


def _depends(error: str, refused: list[str]) -> bool:
    """Whether a value error is about a refused field (its own path is that field's, inside it,
    or holds it: `rlimits.0` for a refused `rlimits.0.soft`), or names one (`limits.memory_swap:
    needs limits.memory`): it would be about the default or stand-in, not the file's value."""
    path = error.split(": ", 1)[0]
    for bad in refused:
        if path == bad or path.startswith(bad + ".") or bad.startswith(path + "."):
            return True
        if "." in bad and re.search(rf"(?<![\w./-]){re.escape(bad)}(?![\w-])", error):
            return True
    return False


def _normalize_sizes(data: dict[str, Any]) -> list[tuple[str, str]]:
    """Sizes written with a unit (`64m`) become bytes; a size that does not parse is taken out of
    `data` (the field takes its default) and returned as (path, problem)."""
    errors = []
    for section, key in SIZE_FIELDS:
        part = data.get(section)
        if isinstance(part, dict) and isinstance(part.get(key), str):
            try:
                part[key] = parse_size(part[key])
            except ValueError as exc:
                del part[key]
                errors.append((f"{section}.{key}", str(exc)))
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
    for key in ("keep", "grant_non_root"):  # a granted one outside keep: overrides.conflicts
        for i, name in enumerate(getattr(p.capabilities, key)):
            try:
                capabilities.canonical(name)
            except UserError as exc:
                yield f"capabilities.{key}.{i}: {exc}"


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
    if lim.pids is not None and lim.pids != -1 and not MIN_PIDS <= lim.pids <= MAX_PIDS:
        yield (f"limits.pids: {lim.pids} is out of range (the sandbox's init is one process): "
               f"use {MIN_PIDS} to {MAX_PIDS}, or -1 (or omit it) for none")  # fmt: skip
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
