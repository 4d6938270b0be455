"""CLI overrides of a profile: tightening is free, loosening needs --allow-unsafe; all are listed."""

from __future__ import annotations

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
