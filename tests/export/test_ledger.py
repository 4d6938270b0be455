"""No profile feature is dropped silently: every exporter carries each one, says it cannot, or
finds it unset; and the CLI writes atomically or not at all."""

from __future__ import annotations

from pathlib import Path

import pytest

from pysandbox.policies.export import Request, export
from pysandbox.policies.export.unsupported import profile_features

from .helpers import export as cli_export

EVERYTHING = """\
name: everything
namespaces: {uts: false, cgroup: false}
idmap: {mode: auto, size: 4096}
user: {uid: 1000, gid: 1000, additional_gids: [10]}
capabilities: {keep: [CHOWN, NET_BIND_SERVICE], grant_non_root: [NET_BIND_SERVICE]}
seccomp: {profile: default}
no_new_privs: true
filesystem: {read_only_root: false, tmp_size: 16m, upper_size: 32m, sys: none,
             masked_paths: [/proc/kcore, /proc/cpuinfo]}
mounts: {denied_host_paths: [/etc], risky: refuse, allow_volumes: false}
network: {mode: slirp}
limits: {memory: 128m, memory_swap: 256m, cpus: 0.5, cpuset_cpus: "0", pids: 64, io_weight: 100}
rlimits: [{name: nofile, soft: 64, hard: 64}]
lsm: {apparmor_profile: pysandbox-test, selinux_label: "system_u:system_r:container_t:s0"}
audit: full
"""


def requests(profile: str) -> list[Request]:
    return [
        Request(profile=profile, fmt="oci"),
        Request(profile=profile, fmt="kubernetes", image="busybox:1.36"),
        Request(profile=profile, fmt="docker-args"),
    ]


def test_feature_list_follows_the_profile_model() -> None:
    features = profile_features()
    assert {"capabilities.keep", "limits.pids", "rlimits", "mounts.risky", "filesystem.masked_paths"} <= set(
        features
    )
    assert "name" not in features and "description" not in features


@pytest.mark.parametrize("profile", ["strict", "default", "everything"])
def test_every_feature_is_accounted_for(profile: str, tmp_path: Path) -> None:
    if profile == "everything":
        path = tmp_path / "everything.yaml"
        path.write_text(EVERYTHING)
        profile = str(path)
    for req in requests(profile):
        result = export(req)
        assert result.ledger.missing() == [], req.fmt
        noted = [n.feature for n in result.ledger.notes if not n.partial]
        assert not set(noted) & set(result.ledger.carried), req.fmt  # never both carried and refused
        assert len(noted) == len(set(noted)), req.fmt


def test_each_unexpressible_feature_is_one_stderr_line(tmp_path: Path) -> None:
    path = tmp_path / "everything.yaml"
    path.write_text(EVERYTHING)
    done = cli_export("--profile", str(path), "--format", "kubernetes", "--image", "busybox:1.36")
    lines = [line for line in done.stderr.splitlines() if line.startswith("pysandbox: note: ")]
    for feature in (
        "limits.pids",
        "limits.cpuset_cpus",
        "limits.io_weight",
        "limits.memory_swap",
        "rlimits",
        "namespaces.uts",
        "namespaces.cgroup",
        "idmap.size",
        "filesystem.sys",
        "filesystem.masked_paths",
        "mounts.denied_host_paths",
        "mounts.allow_volumes",
        "audit",
        "capabilities.grant_non_root",
    ):
        assert (
            sum(line.startswith(f"pysandbox: note: {feature} is not expressible") for line in lines) == 1
        ), feature
    oci = cli_export("--profile", str(path), "--format", "oci")
    assert "note: network.mode is not expressible in oci" in oci.stderr
    assert "note: filesystem.upper_size is not expressible in oci" in oci.stderr


def test_bundle_is_all_or_nothing(tmp_path: Path, busybox_rootfs: Path) -> None:
    taken = tmp_path / "taken"
    taken.mkdir()
    (taken / "keep").write_text("mine\n")
    done = cli_export(
        "--profile",
        "strict",
        "--format",
        "oci",
        "--rootfs",
        str(busybox_rootfs),
        "-o",
        str(taken),
        check=False,
    )
    assert done.returncode == 2 and "exists and is not empty" in done.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["taken"]
    assert [p.name for p in taken.iterdir()] == ["keep"]
    missing = cli_export(
        "--profile",
        "strict",
        "--format",
        "oci",
        "--rootfs",
        str(tmp_path / "nope"),
        "-o",
        str(tmp_path / "b"),
        check=False,
    )
    assert missing.returncode == 2 and missing.stderr.count("\n") == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["taken"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--profile", "nosuch", "--format", "oci"], "profile 'nosuch' not found"),
        (["--profile", "strict", "--format", "lxc"], "unknown format 'lxc'"),
        (["--profile", "strict", "--format", "seccomp", "--seccomp-format", "x"], "unknown --seccomp-format"),
        (["--profile", "strict", "--format", "oci", "--rootfs", "/"], "an OCI bundle with a root filesystem"),
        (["--profile", "strict", "--format", "oci", "--image", "nosuch:1", "-o", "/tmp/x"], "image"),
    ],
)
def test_bad_input(args: list[str], message: str) -> None:
    done = cli_export(*args, check=False)
    assert done.returncode == 2, done.stderr
    assert done.stderr.startswith("pysandbox: error: ") and message in done.stderr
    assert len(done.stderr.splitlines()) == 1 and "Traceback" not in done.stderr
