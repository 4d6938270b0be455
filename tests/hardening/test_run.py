"""Hardening through `pysandbox run`: what a real sandbox's workload sees, as root and rootless."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

from pysandbox.policies import capabilities
from pysandbox.policies.model import DOCKER_DEFAULT_CAPS
from pysandbox.sandbox.seccomp import BUILTIN_DIR

from .childproc import status_fields

DOCKER_MASK = capabilities.mask(DOCKER_DEFAULT_CAPS)
SETS = ("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb")


def _status(proc: subprocess.CompletedProcess[str]) -> dict[str, str]:
    assert proc.returncode == 0, proc.stderr
    return status_fields(proc.stdout)


def test_strict_workload_status(run: Any) -> None:
    fields = _status(run("--profile", "strict", "--", "cat", "/proc/self/status"))
    assert {k: int(fields[k], 16) for k in SETS} == dict.fromkeys(SETS, 0)
    assert (fields["NoNewPrivs"], fields["Seccomp"]) == ("1", "2")
    assert fields["Uid"].split() == ["65534"] * 4


def test_default_workload_status(run: Any) -> None:
    fields = _status(run("--profile", "default", "--", "cat", "/proc/self/status"))
    want = {"CapInh": 0, "CapPrm": DOCKER_MASK, "CapEff": DOCKER_MASK, "CapBnd": DOCKER_MASK, "CapAmb": 0}
    assert {k: int(fields[k], 16) for k in SETS} == want
    assert (fields["NoNewPrivs"], fields["Seccomp"]) == ("1", "2")


def test_cap_add_and_drop(run: Any) -> None:
    added = _status(run("--cap-add", "NET_ADMIN", "--allow-unsafe", "--", "cat", "/proc/self/status"))
    assert int(added["CapEff"], 16) == DOCKER_MASK | 1 << capabilities.number("NET_ADMIN")
    dropped = _status(run("--cap-drop", "ALL", "--", "cat", "/proc/self/status"))
    assert int(dropped["CapEff"], 16) == int(dropped["CapBnd"], 16) == 0


def _sets(proc: subprocess.CompletedProcess[str]) -> dict[str, int]:
    fields = _status(proc)
    return {k: int(fields[k], 16) for k in SETS}


def test_non_root_user_has_no_capabilities(run: Any) -> None:
    """`-u 1000` under default: Docker's 14 capabilities bound the workload but it holds none of
    them (once it held all 14 in every set, ambient included: root in all but name)."""
    status = _sets(run("-u", "1000", "--", "cat", "/proc/self/status"))
    assert status == {"CapInh": 0, "CapPrm": 0, "CapEff": 0, "CapBnd": DOCKER_MASK, "CapAmb": 0}
    chown = run("-u", "1000", "--", "chown", "0", "/tmp")
    assert chown.returncode == 1 and "Operation not permitted" in chown.stderr
    # an image's (or a profile's) non-root user, without -u, is treated the same
    assert _sets(run("-u", "1000:1000", "--", "cat", "/proc/self/status"))["CapEff"] == 0


def test_setuid_fails_for_a_non_root_user(cli: Any) -> None:
    """The host root (python3 in /usr): setuid(0) is EPERM, unless SETUID is granted."""
    probe = (
        "import errno, os\n"
        "try:\n    os.setuid(0)\nexcept OSError as exc:\n    print(errno.errorcode[exc.errno])\n"
        "else:\n    print('uid', os.getuid())\n"
    )
    python = os.path.realpath("/usr/bin/python3")
    denied = cli("-u", "1000", "--", python, "-c", probe)
    assert denied.returncode == 0 and denied.stdout == "EPERM\n", denied.stderr
    granted = cli("-u", "1000", "--cap-add", "SETUID", "--", python, "-c", probe)
    assert granted.returncode == 0 and granted.stdout == "uid 0\n", granted.stderr


def test_cap_add_is_what_a_non_root_user_holds(run: Any) -> None:
    """podman's rule: a non-root user holds exactly what --cap-add names, in all but the bounding set."""
    nbs = 1 << capabilities.number("NET_BIND_SERVICE")
    kept = _sets(run("-u", "1000", "--cap-add", "NET_BIND_SERVICE", "--", "cat", "/proc/self/status"))
    assert kept == {"CapInh": nbs, "CapPrm": nbs, "CapEff": nbs, "CapBnd": DOCKER_MASK, "CapAmb": nbs}
    admin = 1 << capabilities.number("NET_ADMIN")
    added = _sets(
        run("-u", "1000", "--cap-add", "net_admin", "--allow-unsafe", "--", "cat", "/proc/self/status")
    )
    assert added == {"CapInh": admin, "CapPrm": admin, "CapEff": admin, "CapBnd": DOCKER_MASK | admin,
                     "CapAmb": admin}  # fmt: skip
    only = ("-u", "1000", "--cap-drop", "ALL", "--cap-add", "NET_BIND_SERVICE", "--allow-unsafe")
    assert _sets(run(*only, "--", "cat", "/proc/self/status")) == dict.fromkeys(SETS, nbs)


GRANTING_PROFILE = """\
name: web
user: {uid: 1000, gid: 1000}
capabilities: {keep: [NET_BIND_SERVICE, CHOWN], grant_non_root: [NET_BIND_SERVICE]}
"""


def test_a_profile_grants_and_cap_drop_takes_it_back(run: Any, world_tmp: Path) -> None:
    path = world_tmp / "granting.yaml"
    path.write_text(GRANTING_PROFILE)
    path.chmod(0o644)
    nbs, chown = (1 << capabilities.number(c) for c in ("NET_BIND_SERVICE", "CHOWN"))
    status = _sets(run("--profile", str(path), "--", "cat", "/proc/self/status"))
    assert status == {"CapInh": nbs, "CapPrm": nbs, "CapEff": nbs, "CapBnd": nbs | chown, "CapAmb": nbs}
    dropped = _sets(
        run("--profile", str(path), "--cap-drop", "NET_BIND_SERVICE", "--", "cat", "/proc/self/status")
    )
    assert dropped == {"CapInh": 0, "CapPrm": 0, "CapEff": 0, "CapBnd": chown, "CapAmb": 0}
    # the profile's own user is non-root: granting it more (CHOWN, in keep) loosens the profile
    refused = run("--profile", str(path), "--cap-add", "CHOWN", "--", "true")
    assert refused.returncode == 125 and "capabilities.grant_non_root" in refused.stderr
    assert "--allow-unsafe" in refused.stderr and refused.stderr.count("\n") == 1


def test_root_inside_is_unchanged_by_a_grant(run: Any) -> None:
    fields = _sets(run("--cap-add", "NET_BIND_SERVICE", "--", "cat", "/proc/self/status"))
    assert fields == {"CapInh": 0, "CapPrm": DOCKER_MASK, "CapEff": DOCKER_MASK, "CapBnd": DOCKER_MASK,
                      "CapAmb": 0}  # fmt: skip


def test_strict_rlimits(run: Any) -> None:
    proc = run("--profile", "strict", "--", "cat", "/proc/self/limits")
    assert proc.returncode == 0, proc.stderr
    limits = {line[:26].strip(): line[26:].split()[:2] for line in proc.stdout.splitlines()[1:]}
    assert limits["Max open files"] == ["1024", "1024"] and limits["Max core file size"] == ["0", "0"]


def test_custom_seccomp_file(run: Any, world_tmp: Path) -> None:
    """`--security-opt seccomp=FILE` (a file cannot be ranked against the profile's: --allow-unsafe):
    Docker's profile without mkdir; mkdir then fails with EPERM."""
    doc = json.loads((BUILTIN_DIR / "default.json").read_text())
    doc["syscalls"][0]["names"] = [n for n in doc["syscalls"][0]["names"] if n not in ("mkdir", "mkdirat")]
    path = world_tmp / "no-mkdir.json"
    path.write_text(json.dumps(doc))
    path.chmod(0o644)
    proc = run("--security-opt", f"seccomp={path}", "--allow-unsafe", "--", "mkdir", "/tmp/x")
    assert proc.returncode == 1 and "Operation not permitted" in proc.stderr
    assert run("--", "mkdir", "/tmp/x").returncode == 0


def test_unconfined_needs_allow_unsafe_under_strict(run: Any) -> None:
    refused = run("--profile", "strict", "--security-opt", "seccomp=unconfined", "--", "true")
    assert refused.returncode == 125 and refused.stderr.startswith("pysandbox: error:")
    unsafe = ("--profile", "strict", "--security-opt", "seccomp=unconfined", "--allow-unsafe")
    fields = _status(run(*unsafe, "--", "cat", "/proc/self/status"))
    assert fields["Seccomp"] == "0" and fields["NoNewPrivs"] == "1"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{broken", "not valid JSON"),
        ('{"defaultAction": "SCMP_ACT_NOPE"}', "unsupported action"),
        # Once dropped in silence (list("mkdir"): five unknown names), so mkdir was allowed.
        ('{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": "mkdir", "action": "SCMP_ACT_ERRNO"}]}',
         'syscalls[0].names: must be a list of strings, not a string: write ["mkdir"]'),
    ],
)  # fmt: skip
def test_bad_seccomp_file_fails_closed(run: Any, world_tmp: Path, content: str, message: str) -> None:
    path = world_tmp / f"bad-{abs(hash(content))}.json"
    path.write_text(content)
    path.chmod(0o644)
    proc = run("--security-opt", f"seccomp={path}", "--allow-unsafe", "--", "true")
    assert proc.returncode == 125
    assert (
        proc.stderr.startswith("pysandbox: error:")
        and message in proc.stderr
        and proc.stderr.count("\n") == 1
    )


def test_lsm_not_available_here(run: Any, world_tmp: Path) -> None:
    path = world_tmp / "selinux.yaml"
    path.write_text("name: selinux\nlsm: {selinux_label: 'system_u:system_r:container_t:s0'}\n")
    path.chmod(0o644)
    proc = run("--profile", str(path), "--", "true")
    assert proc.returncode == 125
    assert "SELinux is not available here" in proc.stderr and proc.stderr.count("\n") == 1
