"""What every exporter starts from: the profile, and what `pysandbox run` would make of it for a
given command, rootfs or image (image config and USER applied by the launcher's own code)."""

from __future__ import annotations

import os
from dataclasses import dataclass

from pysandbox.policies import capabilities
from pysandbox.policies.model import Profile, Rlimit
from pysandbox.sandbox.rlimits import RESOURCES
from pysandbox.sandbox.spec import RunSpec
from pysandbox.types import EXIT_USAGE, UserError

DEFAULT_COMMAND = ("/bin/sh",)  # as `runc spec`, when neither a command nor an image gives one


@dataclass(frozen=True)
class Request:
    profile: str  # built-in name or YAML path
    fmt: str
    rootfs: str | None = None
    image: str | None = None
    command: tuple[str, ...] = ()
    workload: str | None = None
    seccomp_format: str = "docker"
    output: str | None = None


def usage_error(exc: UserError) -> UserError:
    """Launcher errors exit 125 (`run`); the same problem found by `export` is an input error (2)."""
    return UserError(str(exc), EXIT_USAGE)


def load_profile(ref: str) -> Profile:
    from pysandbox.policies.loader import load_profile as load

    try:
        return load(ref)
    except UserError as exc:
        raise usage_error(exc) from None


def run_spec(profile: Profile, rootfs: str | None, image: str | None, command: tuple[str, ...]) -> RunSpec:
    """The RunSpec `pysandbox run` builds: image ENTRYPOINT/CMD/Env/WorkingDir/USER applied."""
    from pysandbox.sandbox.api import Sandbox

    if rootfs is not None and not os.path.isdir(rootfs):
        raise UserError(f"--rootfs {rootfs} is not a directory: give the root filesystem directory")
    argv = command or (() if image else DEFAULT_COMMAND)
    try:
        return Sandbox(profile, rootfs=os.path.abspath(rootfs) if rootfs else None, image=image).spec(argv)
    except UserError as exc:
        raise usage_error(exc) from None


@dataclass(frozen=True)
class CapSets:
    """The five capability sets the launcher leaves the workload with (sandbox/caps.py semantics)."""

    bounding: tuple[str, ...]
    effective: tuple[str, ...]
    permitted: tuple[str, ...]
    inheritable: tuple[str, ...]
    ambient: tuple[str, ...]


def cap_sets(profile: Profile, uid: int) -> CapSets:
    """Root: keep in bounding, effective, permitted. Any other uid: keep in bounding only, and the
    profile's capabilities.grant_non_root in effective, permitted, inheritable and ambient."""
    from pysandbox.sandbox import caps

    try:
        plan = caps.plan(profile.capabilities.keep, profile.capabilities.grant_non_root, uid)
    except UserError as exc:
        raise usage_error(exc) from None

    def names(bits: int) -> tuple[str, ...]:
        return tuple(f"CAP_{n}" for n in capabilities.names_of(bits))

    held = names(plan.permitted)
    return CapSets(names(plan.keep), held, held, names(plan.inheritable), held if plan.ambient else ())


def rlimit_resource(rl: Rlimit, profile: Profile) -> str:
    """The limit's resource as the engines spell it (`nofile` for RLIMIT_NOFILE); UserError if unknown."""
    name = rl.name.lower().removeprefix("rlimit_")
    if name not in RESOURCES:
        raise UserError(
            f"unknown rlimit {rl.name!r} in profile {profile.name}: use one of {', '.join(sorted(RESOURCES))}"
        )
    return name
