"""The escape-attempt suite: real attacks inside real sandboxes, as root and rootless, under `strict`
and `default`. Each attack must be blocked under strict; under default, blocked wherever Docker
blocks it (and, where Docker allows a call, allowed, so that `default` stays Docker-equivalent).
The host must be unchanged after every run (see attackkit.host_snapshot). The attacks run through
`pysandbox run` and, in the -prewarm modes, through the Python API in a sandbox started ahead."""

from __future__ import annotations

import re
from typing import Any

import pytest

from .attackkit import API_MODES, MODES, PROFILES, TMP_SIZE, Kit, parse

SECCOMP = r"^(pid \d+: |mknod: )?EPERM$"  # refused by the filter (or the kernel's own permission wall)
ANY = r".*"
NO_FDS = r"^0 fds above 2, cwd /$"

# attack -> {profile: (outcome, detail regex)}
EXPECT: dict[str, dict[str, tuple[str, str]]] = {
    "mount": {"strict": ("BLOCKED", SECCOMP), "default": ("BLOCKED", SECCOMP)},
    "unshare-user": {"strict": ("BLOCKED", SECCOMP), "default": ("BLOCKED", SECCOMP)},
    "clone-newns": {"strict": ("BLOCKED", SECCOMP), "default": ("BLOCKED", SECCOMP)},
    "setns": {"strict": ("BLOCKED", r"^EPERM \(\d+ namespaces tried\)$"),
              "default": ("BLOCKED", r"^EPERM \(\d+ namespaces tried\)$")},
    "ptrace": {"strict": ("BLOCKED", SECCOMP), "default": ("BLOCKED", r"^pid \d+: (ESRCH|EPERM)$")},
    # Docker allows ptrace inside the container (kernel >= 4.8); strict does not.
    "ptrace-child": {"strict": ("BLOCKED", SECCOMP), "default": ("SUCCEEDED", ANY)},
    "keyctl": {"strict": ("BLOCKED", SECCOMP), "default": ("BLOCKED", SECCOMP)},
    "bpf": {"strict": ("BLOCKED", SECCOMP), "default": ("BLOCKED", SECCOMP)},
    "perf_event_open": {"strict": ("BLOCKED", SECCOMP), "default": ("BLOCKED", SECCOMP)},
    "userfaultfd": {"strict": ("BLOCKED", SECCOMP), "default": ("BLOCKED", SECCOMP)},
    # Docker's current default profile allows io_uring; strict does not.
    "io_uring_setup": {"strict": ("BLOCKED", SECCOMP), "default": ("SUCCEEDED", ANY)},
    "open_by_handle_at": {"strict": ("BLOCKED", SECCOMP), "default": ("BLOCKED", SECCOMP)},
    "kexec_load": {"strict": ("BLOCKED", SECCOMP), "default": ("BLOCKED", SECCOMP)},
    "init_module": {"strict": ("BLOCKED", SECCOMP), "default": ("BLOCKED", SECCOMP)},
    "reboot": {"strict": ("BLOCKED", SECCOMP), "default": ("BLOCKED", SECCOMP)},
    "swapon": {"strict": ("BLOCKED", SECCOMP), "default": ("BLOCKED", SECCOMP)},
    "mknod-block": {"strict": ("BLOCKED", SECCOMP), "default": ("BLOCKED", ANY)},
    "proc-sys": {"strict": ("BLOCKED", ANY), "default": ("BLOCKED", ANY)},
    "core_pattern": {"strict": ("BLOCKED", ANY), "default": ("BLOCKED", ANY)},
    "sysrq-trigger": {"strict": ("BLOCKED", ANY), "default": ("BLOCKED", ANY)},
    "release_agent": {"strict": ("BLOCKED", ANY), "default": ("BLOCKED", ANY)},
    "kcore": {"strict": ("BLOCKED", ANY), "default": ("BLOCKED", ANY)},
    "proc-keys": {"strict": ("BLOCKED", ANY), "default": ("BLOCKED", ANY)},
    "proc-root": {"strict": ("BLOCKED", ANY), "default": ("BLOCKED", ANY)},
    "fd-leak": {"strict": ("BLOCKED", NO_FDS), "default": ("BLOCKED", NO_FDS)},
    "setuid": {"strict": ("BLOCKED", r"^uid 65534 stays euid 65534$"), "default": ("BLOCKED", ANY)},
    "fill-tmp": {"strict": ("BLOCKED", r"^ENOSPC bytes=\d+$"), "default": ("BLOCKED", r"^ENOSPC bytes=\d+$")},
}  # fmt: skip

HOST_ROOT_ATTACKS = ("proc-root", "fd-leak", "mount", "unshare-user", "core_pattern", "proc-sys",
                     "release_agent", "open_by_handle_at", "mknod-block", "fill-tmp")  # fmt: skip
CASES = [(m, p, a) for m in (*MODES, *API_MODES) for p in PROFILES for a in EXPECT]


@pytest.mark.parametrize(("mode", "profile", "attack"), CASES, ids=[f"{p}-{m}-{a}" for m, p, a in CASES])
def test_attack(attack_all: Any, mode: str, profile: str, attack: str) -> None:
    run = attack_all(mode, profile)
    assert run.returncode == 0, run.stderr
    assert attack in run.results, f"no result for {attack}: {run.stderr}"
    outcome, detail = run.results[attack]
    want, pattern = EXPECT[attack][profile]
    assert (outcome, bool(re.search(pattern, detail))) == (want, True), f"{attack}: {outcome} {detail}"
    assert run.host_changes == {}
    if attack == "fill-tmp":
        assert int(detail.rsplit("=", 1)[1]) <= TMP_SIZE[profile]


@pytest.mark.parametrize("mode", MODES)
def test_setuid_binary_gains_nothing_for_a_non_root_user(kit: Kit, mode: str, tmp_path_factory: Any) -> None:
    """Under default the workload is root; as uid 1000 a setuid-root binary must still not raise euid.
    The control (a profile that unsafely disables no_new_privs) shows the attack is real."""
    blocked = kit.run_attack(mode, "default", ["/attack", "setuid"], ("-u", "1000:1000"))
    assert parse(blocked.stdout).get("setuid", ("?", blocked.stderr))[0] == "BLOCKED", (
        blocked.stdout + blocked.stderr
    )
    control_profile = kit.world_tmp / "no-nnp.yaml"
    control_profile.write_text(
        "name: no-nnp\nuser: {uid: 0, gid: 0}\nseccomp: {profile: default}\nno_new_privs: false\n"
        "capabilities: {keep: [SETUID, SETGID]}\n"
    )
    control_profile.chmod(0o644)
    args = [
        "--profile",
        str(control_profile),
        "--allow-unsafe",
        "--rootfs",
        str(kit.rootfs[mode]),
        "-u",
        "1000:1000",
    ]
    control = kit.run(mode, [*args, "--", "/attack", "setuid"])
    assert parse(control.stdout).get("setuid", ("?", control.stderr))[0] == "SUCCEEDED", (
        control.stdout + control.stderr
    )


@pytest.mark.parametrize("profile", PROFILES)
@pytest.mark.parametrize("mode", MODES)
def test_host_root_layout(kit: Kit, mode: str, profile: str) -> None:
    """No --rootfs: the host's /usr, /etc... are bound read-only; host files elsewhere stay unreachable."""
    from .attackkit import host_diff, host_snapshot

    before = host_snapshot(kit)
    proc = kit.run(mode, ["--profile", profile, "-v", f"{kit.exe.parent}:/a:ro", "--", "/a/attack", "all",
                          str(kit.secret.path), str(kit.host_pid), "/tmp"])  # fmt: skip
    assert host_diff(before, host_snapshot(kit)) == {}
    results = parse(proc.stdout)
    assert proc.returncode == 0, proc.stderr
    for attack in HOST_ROOT_ATTACKS:
        assert results.get(attack, ("missing", ""))[0] == "BLOCKED", f"{attack}: {results.get(attack)}"
