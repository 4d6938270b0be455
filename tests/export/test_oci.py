"""`--format oci`: the bundle runs under real runc with the restrictions `pysandbox run` applies.

Each case runs the same probe (capability sets, NoNewPrivs, Seccomp, id, hostname, read-only root,
masked /proc files, rlimits, /tmp, /sys, and the escape attempts of tests/security/attack.c) under
`pysandbox run` and under runc, and compares the two outputs."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from pysandbox.policies import capabilities
from pysandbox.policies.model import DOCKER_DEFAULT_CAPS

from .helpers import PSB, export, runc_run
from .probe import ARGV, ATTACKS, facts, outcomes

# strict without cgroup limits: what runc can run rootless on a cgroup v1 host (no delegation there).
ROOTLESS_PROFILE = """\
name: strict-rootless
user: {uid: 65534, gid: 65534}
hostname: sandbox
capabilities: {keep: []}
seccomp: {profile: strict}
filesystem: {read_only_root: true, tmp_size: 64m, sys: none}
rlimits:
  - {name: nofile, soft: 1024, hard: 1024}
  - {name: core, soft: 0, hard: 0}
"""


def pysandbox_run(profile: str, rootfs: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    argv = [*PSB, "run", "--profile", profile, "--rootfs", str(rootfs), *extra, "--", *ARGV]
    return subprocess.run(argv, capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)


def compare(ours: subprocess.CompletedProcess[str], theirs: subprocess.CompletedProcess[str]) -> list[str]:
    assert ours.returncode == 0, ours.stderr
    assert theirs.returncode == 0, theirs.stderr
    assert facts(theirs.stdout) == facts(ours.stdout)
    got, want = outcomes(theirs.stdout), outcomes(ours.stdout)
    assert set(want) == set(ATTACKS), ours.stdout
    assert got == want
    return facts(ours.stdout)


def export_bundle(profile: str, rootfs: Path, bundle: Path) -> None:
    """The OCI bundle of PROFILE over ROOTFS running the attack program."""
    export("--profile", profile, "--format", "oci", "--rootfs", str(rootfs), "-o", str(bundle), "--", *ARGV)


@pytest.mark.parametrize("profile", ["strict", "default"])
def test_runc_as_root_matches_pysandbox_run(profile: str, attack_rootfs: Path, scratch: Path) -> None:
    bundle = scratch / "bundle"
    export_bundle(profile, attack_rootfs, bundle)
    # A profile without a hostname: `run` names the host after the sandbox, the bundle "pysandbox".
    extra = () if profile == "strict" else ("--hostname", "pysandbox")
    lines = compare(pysandbox_run(profile, attack_rootfs, *extra), runc_run(bundle))
    if profile == "strict":
        assert "CapEff:\t0000000000000000" in lines and "CapBnd:\t0000000000000000" in lines
        assert "NoNewPrivs:\t1" in lines and "Seccomp:\t2" in lines
        assert "id uid=65534(nobody) gid=65534(nogroup)" in lines
        assert "hostname sandbox" in lines and "root read-only" in lines
        assert "rlimits nofile=1024 nproc=512 core=0 fsize=2097152" in lines
        assert "sys 0" in lines
    else:
        assert "CapEff:\t00000000a80425fb" in lines and "CapInh:\t0000000000000000" in lines
        assert "id uid=0(root) gid=0(root)" in lines and "root writable" in lines
    assert "/proc/keys 0 bytes" in lines and "/proc/timer_list 0 bytes" in lines
    assert "/proc/sys read-only" in lines and "tmp tmpfs" in lines


NON_ROOT_PROFILE = """\
name: nonroot
user: {uid: 1000, gid: 1000}
capabilities: {keep: [KEEP], grant_non_root: [GRANT]}
""".replace("KEEP", ", ".join(DOCKER_DEFAULT_CAPS))


@pytest.mark.parametrize("grant", ["", "NET_BIND_SERVICE"])
def test_runc_as_root_matches_pysandbox_run_for_a_non_root_user(
    grant: str, attack_rootfs: Path, scratch: Path
) -> None:
    """Docker's capabilities as the bounding set of uid 1000: it holds only what is granted, in
    effective, permitted, inheritable and ambient, under runc as under `pysandbox run`."""
    profile = scratch / "nonroot.yaml"
    profile.write_text(NON_ROOT_PROFILE.replace("GRANT", grant))
    bundle = scratch / "bundle"
    export_bundle(str(profile), attack_rootfs, bundle)
    held = capabilities.mask([grant] if grant else [])
    proc = json.loads((bundle / "config.json").read_text())["process"]
    assert proc["user"] == {"uid": 1000, "gid": 1000}
    sets = proc["capabilities"]
    assert sets["bounding"] == [f"CAP_{c}" for c in capabilities.validate(DOCKER_DEFAULT_CAPS)]
    assert all(sets[s] == ([f"CAP_{grant}"] if grant else []) for s in _HELD)
    lines = compare(pysandbox_run(str(profile), attack_rootfs, "--hostname", "pysandbox"), runc_run(bundle))
    assert f"CapEff:\t{held:016x}" in lines and f"CapAmb:\t{held:016x}" in lines
    assert (
        f"CapInh:\t{held:016x}" in lines
        and f"CapBnd:\t{capabilities.mask(DOCKER_DEFAULT_CAPS):016x}" in lines
    )
    assert "id uid=1000(user) gid=1000(user)" in lines


_HELD = ("effective", "permitted", "inheritable", "ambient")


def test_runc_as_root_blocks_every_escape_attempt(attack_rootfs: Path, scratch: Path) -> None:
    bundle = scratch / "bundle"
    export_bundle("strict", attack_rootfs, bundle)
    result = runc_run(bundle)
    assert result.returncode == 0, result.stderr
    assert outcomes(result.stdout) == dict.fromkeys(ATTACKS, "BLOCKED"), result.stdout


def test_runc_as_root_runs_the_permissive_bundle(attack_rootfs: Path, scratch: Path) -> None:
    """permissive shares the host's network from a user namespace, where no sysfs can be mounted:
    the bundle binds the host's /sys read-only, submounts included, as `pysandbox run` does."""
    bundle = scratch / "bundle"
    export_bundle("permissive", attack_rootfs, bundle)
    lines = compare(pysandbox_run("permissive", attack_rootfs, "--hostname", "pysandbox"), runc_run(bundle))
    assert "sys 1" in lines and "id uid=0(root) gid=0(root)" in lines
    mounts = scratch / "mounts"
    export("--profile", "permissive", "--format", "oci", "--rootfs", str(attack_rootfs), "-o", str(mounts),
           "--", "grep", " /sys", "/proc/self/mounts")  # fmt: skip
    theirs = runc_run(mounts)
    assert theirs.returncode == 0, theirs.stderr
    masked = json.loads((mounts / "config.json").read_text())["linux"]["maskedPaths"]
    fields = [line.split() for line in theirs.stdout.splitlines()]
    options = [f[3].split(",") for f in fields if f[1] not in masked]
    assert len(options) > 1, theirs.stdout  # the host's submounts (cgroup hierarchies) came along
    assert all({"ro", "nosuid", "nodev", "noexec"} <= set(o) for o in options), theirs.stdout


@pytest.mark.parametrize(
    ("profile", "sys_mounts"),
    [
        ("strict", []),
        ("default", [{"destination": "/sys", "type": "sysfs", "source": "sysfs",
                      "options": ["nosuid", "noexec", "nodev", "ro"]}]),
        ("permissive", [{"destination": "/sys", "type": "none", "source": "/sys",
                         "options": ["rbind", "nosuid", "noexec", "nodev", "ro", "rro", "rnosuid", "rnoexec",
                                     "rnodev"]}]),
    ],
)  # fmt: skip
def test_sys_is_a_sysfs_unless_the_user_namespace_has_the_host_network(
    profile: str, sys_mounts: list[dict[str, Any]]
) -> None:
    done = export("--profile", profile, "--format", "oci")
    cfg = json.loads(done.stdout)
    assert [m for m in cfg["mounts"] if m["destination"] == "/sys"] == sys_mounts
    assert ("/sys is the host's, bound read-only" in done.stderr) == (profile == "permissive")


def test_config_carries_the_profile(attack_rootfs: Path, scratch: Path) -> None:
    bundle = scratch / "bundle"
    done = export("--profile", "strict", "--format", "oci", "--rootfs", str(attack_rootfs), "-o", str(bundle))
    cfg = json.loads((bundle / "config.json").read_text())
    assert cfg["ociVersion"].startswith("1.")
    proc, linux = cfg["process"], cfg["linux"]
    assert proc["args"] == ["/bin/sh"] and proc["user"] == {"uid": 65534, "gid": 65534}
    assert all(
        proc["capabilities"][s] == []
        for s in ("bounding", "effective", "inheritable", "permitted", "ambient")
    )
    assert proc["noNewPrivileges"] is True and cfg["root"]["readonly"] is True
    assert {"type": "RLIMIT_NOFILE", "hard": 1024, "soft": 1024} in proc["rlimits"]
    assert {n["type"] for n in linux["namespaces"]} == {
        "pid",
        "network",
        "ipc",
        "uts",
        "mount",
        "cgroup",
        "user",
    }
    assert "/proc/kcore" in linux["maskedPaths"] and "/proc/sys" in linux["readonlyPaths"]
    res = linux["resources"]
    assert res["memory"] == {"limit": 512 << 20, "swap": 512 << 20}
    assert res["pids"] == {"limit": 256} and res["cpu"] == {"quota": 100000, "period": 100000}
    assert linux["seccomp"]["defaultAction"] == "SCMP_ACT_ERRNO"
    assert (bundle / "rootfs" / "bin" / "busybox").is_file()
    # owned by the mapped root (runc 1.1 does not idmap the rootfs), setuid bit kept
    host_root = linux["uidMappings"][0]["hostID"]
    assert (bundle / "rootfs" / "bin" / "busybox").stat().st_uid == host_root
    assert (bundle / "rootfs" / "suid-attack").stat().st_mode & 0o4000
    assert "mounts.denied_host_paths is not expressible in oci" in done.stderr
    # and our own config auditor finds nothing to say about it
    audited = subprocess.run(
        [*PSB, "audit", "config", "--fail-on", "info", str(bundle / "config.json")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert audited.returncode == 0 and "no findings" in audited.stdout, audited.stdout
    assert "audit is not expressible in oci" in done.stderr


def _user_rootfs(src: Path, dest: Path, user: Any) -> Path:
    shutil.copytree(src, dest, symlinks=True)
    subprocess.run(["chown", "-hR", f"{user.uid}:{user.gid}", str(dest)], check=True)
    (dest / "suid-attack").chmod(0o4755)
    return dest


@pytest.mark.rootless
@pytest.mark.skipif(os.geteuid() != 0, reason="creates the unprivileged test user's files as root")
def test_runc_rootless_matches_pysandbox_run(test_user: Any, attack_rootfs: Path, scratch: Path) -> None:
    shutil.chown(scratch, test_user.uid, test_user.gid)
    rootfs = _user_rootfs(attack_rootfs, scratch / "rootfs", test_user)
    profile = scratch / "strict-rootless.yaml"
    profile.write_text(ROOTLESS_PROFILE)
    home = scratch / "home"
    home.mkdir()
    shutil.chown(home, test_user.uid, test_user.gid)
    env = {"PYSANDBOX_HOME": str(home)}
    bundle = scratch / "bundle"
    done = test_user.pysandbox(
        "export",
        "--profile",
        str(profile),
        "--format",
        "oci",
        "--rootfs",
        str(rootfs),
        "-o",
        str(bundle),
        "--",
        *ARGV,
        env=env,
    )
    assert done.returncode == 0, done.stderr
    ours = test_user.pysandbox(
        "run",
        "--profile",
        str(profile),
        "--rootfs",
        str(rootfs),
        "--",
        *ARGV,
        env=env,
        stdin=subprocess.DEVNULL,
    )
    lines = compare(ours, runc_run(bundle, test_user))
    assert "CapEff:\t0000000000000000" in lines and "NoNewPrivs:\t1" in lines and "Seccomp:\t2" in lines
    assert "id uid=65534(nobody) gid=65534(nogroup)" in lines and "root read-only" in lines
    cfg = json.loads((bundle / "config.json").read_text())
    assert cfg["linux"]["uidMappings"][0]["hostID"] == test_user.uid


@pytest.mark.rootless
@pytest.mark.skipif(os.geteuid() != 0, reason="creates the unprivileged test user's files as root")
def test_rootless_export_says_runc_cannot_limit_on_cgroup_v1(test_user: Any, scratch: Path) -> None:
    home = scratch / "home"
    home.mkdir()
    shutil.chown(home, test_user.uid, test_user.gid)
    done = test_user.pysandbox(
        "export", "--profile", "strict", "--format", "oci", env={"PYSANDBOX_HOME": str(home)}
    )
    assert done.returncode == 0, done.stderr
    assert "rootless runc applies linux.resources only in a cgroup v2 subtree" in done.stderr
    assert json.loads(done.stdout)["linux"]["uidMappings"][0]["hostID"] == test_user.uid


def test_image_bundle_applies_the_image_config(scratch: Path, busybox_rootfs: Path) -> None:
    """Layers flattened (whiteouts, opaque dirs), Cmd/Env/WorkingDir/User applied as `run` does."""
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from images.imgbuild import D, Entry, F, docker_archive, layer_tar, tar_dir

    base = scratch / "base.tar"
    tree = scratch / "base"
    shutil.copytree(busybox_rootfs, tree, symlinks=True)
    (tree / "etc" / "removed").write_text("gone\n")
    (tree / "opq").mkdir()
    (tree / "opq" / "old").write_text("old\n")
    tar_dir(tree, base)
    top = layer_tar(
        [
            D("data"),
            F("data/hello", "hello from layer 2\n"),
            Entry("etc/.wh.removed"),
            D("opq"),
            Entry("opq/.wh..wh..opq"),
            F("opq/new", "new\n"),
        ]
    )
    script = (
        'echo "$GREETING"; pwd; id -u; cat /data/hello; ls /opq; '
        "[ -e /etc/removed ] && echo present || echo removed"
    )
    cfg = {
        "Cmd": ["/bin/sh", "-c", script],
        "Env": ["PATH=/bin", "GREETING=hi"],
        "WorkingDir": "/data",
        "User": "1000",
    }
    archive = docker_archive(scratch / "img.tar", [base.read_bytes(), top], cfg, ["export-test:1"])
    imported = subprocess.run(
        [*PSB, "image", "import", "--quiet", str(archive)], capture_output=True, text=True
    )
    assert imported.returncode == 0, imported.stderr
    bundle = scratch / "bundle"
    export("--profile", "default", "--format", "oci", "--image", "export-test:1", "-o", str(bundle))
    ours = subprocess.run(
        [*PSB, "run", "--profile", "default", "export-test:1"],
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=120,
    )
    theirs = runc_run(bundle)
    assert ours.returncode == 0, ours.stderr
    assert theirs.returncode == 0, theirs.stderr
    assert theirs.stdout == ours.stdout == "hi\n/data\n1000\nhello from layer 2\nnew\nremoved\n"


def test_output_that_is_a_file_is_named_a_file(scratch: Path) -> None:
    existing = scratch / "notes.txt"
    existing.write_text("keep me\n")
    done = export("--profile", "strict", "--format", "oci", "-o", str(existing), check=False)
    assert done.returncode == 2 and done.stderr == (
        f"pysandbox: error: {existing} is a file, not a bundle directory: give -o a new directory path\n"
    )
    assert existing.read_text() == "keep me\n"
