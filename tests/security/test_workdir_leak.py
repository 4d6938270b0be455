"""CVE-2024-21626 class: a working directory (or an fd) that still points into the host.

runc leaked an fd of the host's cgroup directory into the container; `-w /proc/self/fd/N` then gave
the workload a cwd outside its root. Here every small N and the /proc paths that lead outside a
root in other runtimes are tried as the working directory: the sandbox either refuses to start or
starts with a cwd from which the host secret is unreachable."""

from __future__ import annotations

import pytest

from .attackkit import MODES, PROFILES, Kit, host_diff, host_snapshot, parse

WORKDIRS = [f"/proc/self/fd/{n}" for n in range(3, 10)] + [
    "/proc/1/cwd/../../../..",
    "/proc/self/cwd/../../..",
]


@pytest.mark.parametrize("profile", PROFILES)
@pytest.mark.parametrize("mode", MODES)
def test_workdir_through_proc_cannot_reach_the_host(kit: Kit, mode: str, profile: str) -> None:
    before = host_snapshot(kit)
    for workdir in [*WORKDIRS, f"/proc/1/root{kit.secret.path.parent}"]:
        proc = kit.run_attack(mode, profile, ["/attack", "fd-leak", str(kit.secret.path)], ("-w", workdir))
        assert kit.secret.content not in proc.stdout + proc.stderr
        if proc.returncode == 0:
            assert parse(proc.stdout)["fd-leak"][0] == "BLOCKED", (workdir, proc.stdout)
        else:
            assert proc.returncode in (125, 126), (workdir, proc.returncode, proc.stderr)
            assert proc.stderr.startswith("pysandbox: error:") and proc.stderr.count("\n") == 1, proc.stderr
    assert host_diff(before, host_snapshot(kit)) == {}
