"""CLI overrides of a profile: tightening is free, loosening needs --allow-unsafe; all are listed."""

from __future__ import annotations

import dataclasses

import pytest

from pysandbox.policies.loader import load_profile
from pysandbox.policies.overrides import Requested, apply
from pysandbox.sandbox.spec import Volume, parse_size, parse_tmpfs, parse_user, parse_volume
from pysandbox.types import SandboxError


def test_tightening_is_allowed_and_recorded() -> None:
    default = load_profile("default")
    profile, overrides = apply(
        default, Requested(read_only=True, cap_drop=("NET_RAW", "cap_chown"), memory=1 << 20)
    )
    assert profile.filesystem.read_only_root and profile.limits.memory == 1 << 20
    assert "NET_RAW" not in profile.capabilities.keep and "CHOWN" not in profile.capabilities.keep
    assert [o.flag for o in overrides] == ["--read-only", "--memory", "--cap-drop"]
    assert not any(o.unsafe for o in overrides)
    assert default.filesystem.read_only_root is False  # profiles are never modified in place


@pytest.mark.parametrize(
    "req",
    [
        Requested(user=(0, None)),
        Requested(network="host"),
        Requested(network="slirp"),
        Requested(userns="host"),
        Requested(memory=1 << 40),
        Requested(pids=100000),
        Requested(cap_add=("SYS_ADMIN",)),
        Requested(seccomp="unconfined"),
        Requested(seccomp="default"),
        Requested(seccomp="/some/custom.json"),
    ],
)
def test_loosening_strict_needs_allow_unsafe(req: Requested) -> None:
    strict = load_profile("strict")
    with pytest.raises(SandboxError, match="--allow-unsafe"):
        apply(strict, req)
    profile, overrides = apply(strict, req, allow_unsafe=True)
    assert overrides and any(o.unsafe for o in overrides)
    assert profile != strict


def test_neutral_and_no_op_overrides() -> None:
    strict = load_profile("strict")
    profile, overrides = apply(
        strict, Requested(user=(1000, 1000), hostname="h", network="none", read_only=True)
    )
    assert (profile.user.uid, profile.user.gid, profile.hostname) == (1000, 1000, "h")
    assert [o.field for o in overrides] == ["user.uid", "user.gid", "hostname"]  # network/read-only unchanged


def test_parsers() -> None:
    assert parse_volume("/a:/b") == Volume("/a", "/b", False)
    assert parse_volume("/a:/b/../c:ro") == Volume("/a", "/c", True)
    assert parse_volume("data:/d").name == "data"
    assert parse_tmpfs("/t:size=2m,mode=755").size == 2 << 20
    assert parse_size("512k", "x") == 512 << 10
    assert parse_user("5:6") == (5, 6) and parse_user("7") == (7, None)
    for bad in ("/a", "/a:b", "/a:/b:rx", "/a:/", "/a:/proc/sys", ":/b", "/a:/b:ro:extra"):
        with pytest.raises(SandboxError):
            parse_volume(bad)


def test_cpuset_within_the_profile_tightens_and_outside_loosens() -> None:
    pinned = dataclasses.replace(
        load_profile("strict"), limits=dataclasses.replace(load_profile("strict").limits, cpuset_cpus="0-1")
    )
    profile, overrides = apply(pinned, Requested(cpuset="1"))
    assert profile.limits.cpuset_cpus == "1" and not overrides[0].unsafe
    with pytest.raises(SandboxError, match="--allow-unsafe"):
        apply(pinned, Requested(cpuset="0-3"))
    profile, overrides = apply(load_profile("default"), Requested(cpuset="0, 1"))
    assert profile.limits.cpuset_cpus == "0,1" and not overrides[0].unsafe  # none set: any list tightens
    with pytest.raises(SandboxError, match="not a cpu list"):
        apply(load_profile("default"), Requested(cpuset="a-b"))


def test_slirp_host_loopback_is_an_unsafe_network_option() -> None:
    default = load_profile("default")
    with pytest.raises(SandboxError, match="--allow-unsafe"):
        apply(default, Requested(network="slirp:allow_host_loopback=true"))
    profile, overrides = apply(default, Requested(network="slirp:allow_host_loopback=true"), True)
    assert profile.network.mode == "slirp" and profile.network.allow_host_loopback
    assert [(o.field, o.unsafe) for o in overrides] == [
        ("network.mode", True),
        ("network.allow_host_loopback", True),
    ]
    profile, overrides = apply(default, Requested(network="slirp:allow_host_loopback=false"), True)
    assert not profile.network.allow_host_loopback and len(overrides) == 1
    for bad in ("host:allow_host_loopback=true", "slirp:mtu=1500", "slirp:allow_host_loopback=yes"):
        with pytest.raises(SandboxError, match="unknown --network option"):
            apply(default, Requested(network=bad), True)
