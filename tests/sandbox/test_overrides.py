"""CLI overrides of a profile: tightening is free, loosening needs --allow-unsafe; all are listed."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import Any

import pytest

from pysandbox.policies import capabilities
from pysandbox.policies.loader import load_profile
from pysandbox.policies.overrides import Requested, apply
from pysandbox.sandbox.spec import Volume, parse_size, parse_tmpfs, parse_user, parse_volume
from pysandbox.types import SandboxError

from .conftest import Psb, one_line_error

SECCOMP_FILE = Path(capabilities.__file__).parent / "seccomp" / "default.json"


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
        Requested(seccomp=str(SECCOMP_FILE)),  # a custom file cannot be ranked
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


def test_size_and_tmpfs_mode_parsers_refuse_what_the_kernel_would() -> None:
    assert parse_size("-1", "--memory-swap", unlimited=True) == -1
    for text in ("-1", "", "99999999999999999999999g", "8589934592g"):
        with pytest.raises(SandboxError, match="bad size"):
            parse_size(text, "--memory")
    assert parse_size("8589934591g", "--memory") == 8589934591 << 30  # just under 8 EiB
    assert parse_tmpfs("/t:mode=0").mode == 0 and parse_tmpfs("/t:mode=01777").mode == 0o1777
    for mode in ("-1", "+7", "0o7", " 7", "8", "17777"):
        with pytest.raises(SandboxError, match=r"bad tmpfs mode .*: use octal 0 to 7777"):
            parse_tmpfs(f"/t:mode={mode}")


@pytest.mark.parametrize(
    ("req", "expected"),
    [
        (Requested(memory=0), "bad value 0 for --memory: use a positive size"),
        (Requested(memory_swap=0), "bad value 0 for --memory-swap: .* or -1 for no swap limit"),
        (Requested(memory_swap=-2), "bad value -2 for --memory-swap"),
        (Requested(cap_add=("BOGUS",)), r"--cap-add: unknown capability 'BOGUS'.*capabilities\(7\)"),
        (Requested(cap_drop=("BOGUS",)), r"--cap-drop: unknown capability 'BOGUS'.*capabilities\(7\)"),
        (Requested(seccomp="/no/such/seccomp.json"), "seccomp=/no/such/seccomp.json: No such file"),
        (Requested(seccomp="/"), "seccomp=/: not a regular file"),
        (Requested(hostname="h" * 65), "longer than 64 characters"),
        (Requested(hostname=""), "bad --hostname ''"),
        (Requested(hostname="a b"), "RFC 1123"),
        (Requested(network="host", cap_add=("BOGUS",)), "unknown capability"),
    ],
)
def test_bad_values_are_refused_before_the_unsafe_check(req: Requested, expected: str) -> None:
    """Even with a loosening flag given, the bad value is named first (not "pass --allow-unsafe")."""
    for allow_unsafe in (False, True):
        with pytest.raises(SandboxError, match=expected):
            apply(load_profile("strict"), req, allow_unsafe)


def test_hostnames_follow_rfc_1123() -> None:
    """Up to 64 characters (the kernel's limit: longer ones were cut), none outside RFC 1123."""
    for name in ("h", "build-1", "my-box.example.org", "A1", "x" * 63, "x" * 31 + "." + "y" * 32):
        assert apply(load_profile("strict"), Requested(hostname=name))[0].hostname == name
    for name in ("x" * 65, "x" * 64, "a b", "a_b", "-a", "a-", "a..b", "h\u00e9"):
        with pytest.raises(SandboxError, match="--hostname"):
            apply(load_profile("strict"), Requested(hostname=name))


def test_lifting_a_limit_is_unsafe() -> None:
    """-1 (docker's unlimited swap, and no pids limit through the API) lifts the strict limit."""
    strict = load_profile("strict")
    for req in (Requested(memory_swap=-1), Requested(pids=-1), Requested(pids=0)):
        with pytest.raises(SandboxError, match="--allow-unsafe"):
            apply(strict, req)
    profile, overrides = apply(strict, Requested(memory_swap=-1), allow_unsafe=True)
    assert profile.limits.memory_swap == -1 and overrides[0].unsafe
    profile, overrides = apply(load_profile("default"), Requested(memory=64 << 20, memory_swap=-1))
    assert profile.limits.memory_swap == -1 and not any(o.unsafe for o in overrides)  # no swap limit to lift


def test_cap_add_all() -> None:
    profile, _ = apply(load_profile("strict"), Requested(cap_add=("all",)), allow_unsafe=True)
    assert set(profile.capabilities.keep) == set(capabilities.NAMES)


def test_network_mode_carries_its_namespace() -> None:
    """docker's semantics: none and slirp are a network namespace of the sandbox's own, even on a
    profile that shares the host's (tightening); host is no namespace of its own (loosening)."""
    permissive = load_profile("permissive")
    assert not permissive.namespaces.net and permissive.network.mode == "host"
    for mode in ("none", "slirp"):
        profile, overrides = apply(permissive, Requested(network=mode))
        assert profile.namespaces.net and profile.network.mode == mode
        assert [(o.field, o.unsafe) for o in overrides] == [
            ("network.mode", False),
            ("namespaces.net", False),
        ]
    profile, overrides = apply(load_profile("default"), Requested(network="host"), allow_unsafe=True)
    assert not profile.namespaces.net and profile.network.mode == "host"
    assert [(o.field, o.unsafe) for o in overrides] == [("network.mode", True), ("namespaces.net", True)]


def test_network_none_gives_permissive_its_own_netns(psb_mode: Psb) -> None:
    """`--network none` on a profile with namespaces.net: false ran on the host's network (slirp:
    tests/security/test_network.py, which has the delegation rootless slirp needs)."""
    done = psb_mode.run("--profile", "permissive", "--network", "none", "--rootfs", str(psb_mode.rootfs),
                        "--", "sh", "-c", "ip -o link | cut -d: -f2; readlink /proc/self/ns/net")  # fmt: skip
    assert done.returncode == 0, done.stderr
    *links, netns = done.stdout.split()
    assert links == ["lo"] and netns != os.readlink("/proc/self/ns/net")


def test_hostname_flag_gives_its_own_uts_namespace(psb_mode: Psb, profile_file: Any) -> None:
    """`--hostname` on a profile sharing the host's UTS namespace was ignored (the host's name shown)."""
    shared = profile_file("name: shared-uts\nnamespaces: {uts: false}\n")
    profile, overrides = apply(load_profile(str(shared)), Requested(hostname="box"))
    assert profile.namespaces.uts and not any(o.unsafe for o in overrides)
    done = psb_mode.run("--profile", str(shared), "--hostname", "box", "--rootfs", str(psb_mode.rootfs),
                        "--", "hostname")  # fmt: skip
    assert (done.returncode, done.stdout) == (0, "box\n"), done.stderr


def test_a_contradictory_profile_is_refused_by_run(psb_mode: Psb, profile_file: Any) -> None:
    host_ns = profile_file("name: hostns\nnamespaces: {net: false}\nnetwork: {mode: none}\n")
    done = psb_mode.run("--profile", str(host_ns), "--rootfs", str(psb_mode.rootfs), "--", "true")
    assert done.returncode == 125
    assert "namespaces.net: false (the host's network) contradicts network.mode: none" in one_line_error(
        done.stderr
    )
