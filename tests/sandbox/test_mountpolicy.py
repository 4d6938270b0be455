"""The profile's mount policy on `-v`: refused binds fail before anything is mounted (exit 125,
one line) and are recorded as policy_denied; what the policy allows still works."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from .conftest import Psb, one_line_error

RO_ONLY = "name: ro-only\nmounts: {allowed_options: [ro, nosuid, nodev]}\n"


def _refused(psb: Psb, *args: str) -> str:
    done = psb.run(*args)
    assert done.returncode == 125, (args, done.stdout, done.stderr)
    return one_line_error(done.stderr)


def test_a_bind_mode_outside_allowed_options_is_refused(
    psb_mode: Psb, world_dir: Path, profile_file: Callable[[str], Path]
) -> None:
    data = world_dir / "data"
    data.mkdir()
    data.chmod(0o777)
    (data / "in.txt").write_text("host\n")
    (data / "in.txt").chmod(0o666)
    profile = str(profile_file(RO_ONLY))
    r = str(psb_mode.user_rootfs)
    line = _refused(psb_mode, "--profile", profile, "--rootfs", r, "-v", f"{data}:/mnt", "--",
                    "/bin/sh", "-c", "echo sandbox > /mnt/in.txt")  # fmt: skip
    assert "does not allow rw binds" in line and "bind it with :ro" in line
    assert (data / "in.txt").read_text() == "host\n"  # the workload never ran
    done = psb_mode.run(
        "--profile", profile, "--rootfs", r, "-v", f"{data}:/mnt:ro", "--", "/bin/cat", "/mnt/in.txt"
    )
    assert (done.returncode, done.stdout) == (0, "host\n"), done.stderr


def test_denied_host_paths_and_disabled_volumes_are_refused(
    psb_self: Psb, world_dir: Path, profile_file: Callable[[str], Path]
) -> None:
    r = str(psb_self.user_rootfs)
    line = _refused(
        psb_self, "--profile", "strict", "--rootfs", r, "-v", "/etc:/host-etc:ro", "--", "/bin/true"
    )
    assert "exposes /etc" in line and "bind a narrower directory" in line
    none = str(profile_file("name: no-volumes\nmounts: {allow_volumes: false}\n"))
    line = _refused(
        psb_self, "--profile", none, "--rootfs", r, "-v", f"{world_dir}:/mnt:ro", "--", "/bin/true"
    )
    assert "allows no volumes" in line
