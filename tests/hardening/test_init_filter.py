"""PID 1 takes on the workload's seccomp filter before it starts it: a filter that refuses what
PID 1 itself needs (write, read, wait4) or kills it must end the launch with exit 125 and a
reason, not hang it or pass for the workload's own status."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

import pytest
from conftest import requires_root

from pysandbox.sandbox.api import Sandbox
from pysandbox.sandbox.seccomp import BUILTIN_DIR
from pysandbox.types import SandboxError

REFUSED = {  # Docker's default profile less one call (ERRNO), or with the call made fatal (KILL)
    "write": ("SCMP_ACT_ERRNO", "refuses write(2) to the sandbox's init"),
    "read": ("SCMP_ACT_ERRNO", "refuses read(2) to the sandbox's init (Operation not permitted)"),
    "wait4": ("SCMP_ACT_ERRNO", "refuses wait4(2) to the sandbox's init (Operation not permitted)"),
    "write-kill": ("SCMP_ACT_KILL", "killed (SIGSYS) the sandbox's init"),
}


def _profile(dest: Path, case: str) -> Path:
    call = case.removesuffix("-kill")
    action, _ = REFUSED[case]
    doc = json.loads((BUILTIN_DIR / "default.json").read_text())
    doc["syscalls"][0]["names"] = [n for n in doc["syscalls"][0]["names"] if n != call]
    if action == "SCMP_ACT_KILL":
        doc["syscalls"].insert(0, {"names": [call], "action": action})
    path = dest / f"init-no-{case}.json"
    path.write_text(json.dumps(doc))
    path.chmod(0o644)
    return path


@pytest.mark.parametrize("case", list(REFUSED))
def test_a_filter_that_stops_init_fails_the_launch(run: Any, world_tmp: Path, case: str) -> None:
    path = _profile(world_tmp, case)
    proc = run("--security-opt", f"seccomp={path}", "--allow-unsafe", "--", "/bin/echo", "ran")
    assert proc.returncode == 125, proc.stderr
    assert proc.stderr.startswith("pysandbox: error: the profile's seccomp filter ")
    assert REFUSED[case][1] in proc.stderr and "must allow read, write" in proc.stderr
    assert proc.stderr.count("\n") == 1
    if case != "wait4":  # wait4 is refused only once the workload has been spawned
        assert "ran" not in proc.stdout


@requires_root
@pytest.mark.parametrize("case", ["write", "read", "write-kill"])
@pytest.mark.parametrize("mode", ["direct", "fork_server", "prewarm"])
def test_the_api_reports_it_in_each_launch_mode(
    busybox_rootfs: Path, world_tmp: Path, case: str, mode: str
) -> None:
    path = _profile(world_tmp, case)
    profile = world_tmp / f"init-no-{case}.yaml"
    profile.write_text(f"name: init-no-{case}\nseccomp: {{profile: {path}}}\n")
    with tempfile.TemporaryFile("w+") as out:
        box = Sandbox(
            str(profile), rootfs=busybox_rootfs, stdout=out, stderr=out, allow_unsafe=True,
            fork_server=mode == "fork_server", prewarm=mode == "prewarm",
        )  # fmt: skip
        try:
            for _ in range(2):  # the next launch is not poisoned by the last one's failure
                with pytest.raises(SandboxError) as info:
                    box.run(["/bin/echo", "ran"])
                assert REFUSED[case][1] in str(info.value)
        finally:
            box.close()
        out.seek(0)
        assert "ran" not in out.read()

