"""Every command's --help renders (help text goes through rich markup: a stray [x] breaks it), and
what every command shares (its --output) refuses bad input the same way."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

COMMANDS = [
    [], ["run"], ["profile"], ["profile", "list"], ["profile", "show"], ["profile", "validate"], ["lint"],
    ["scan"], ["image"], ["image", "import"], ["image", "pull"], ["image", "ls"], ["image", "inspect"],
    ["image", "rm"], ["image", "prune"], ["volume"], ["volume", "create"], ["volume", "ls"],
    ["volume", "inspect"], ["volume", "rm"], ["audit"], ["audit", "log"], ["audit", "tail"],
    ["audit", "verify"], ["audit", "checkpoint"], ["audit", "export"], ["audit", "config"], ["export"],
    ["setup"], ["ps"], ["kill"],
]  # fmt: skip


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c) or "pysandbox")
def test_help_renders(command: list[str], psb: list[str]) -> None:
    res = subprocess.run([*psb, *command, "--help"], capture_output=True, text=True, timeout=60)
    assert res.returncode == 0, res.stderr
    assert "Traceback" not in res.stderr
    assert "usage" in res.stdout.lower()


# Every command that writes -o: `Path("")` is `Path(".")`, which once ended in a ValueError traceback.
EMPTY_OUTPUT = [
    ["lint", "Dockerfile"], ["scan", "rootfs"], ["export", "--profile", "strict", "-f", "seccomp"],
    ["export", "--profile", "strict", "-f", "docker-args"], ["export", "--profile", "strict", "-f", "oci"],
    ["audit", "export"], ["audit", "checkpoint"], ["audit", "config", "compose.yaml"],
]  # fmt: skip


@pytest.mark.parametrize(
    "command", EMPTY_OUTPUT, ids=lambda c: " ".join(c[:2]) + (f" {c[-1]}" if "-f" in c else "")
)
def test_empty_output_path_is_a_usage_error(command: list[str], psb: list[str], tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text("FROM debian:12\n")
    (tmp_path / "rootfs" / "etc").mkdir(parents=True)
    (tmp_path / "rootfs" / "etc" / "passwd").write_text("root:x:0:0:root:/root:/bin/sh\n")
    (tmp_path / "compose.yaml").write_text("services:\n  web:\n    image: nginx:1.27\n")
    before = sorted(p.name for p in tmp_path.iterdir())
    res = subprocess.run(
        [*psb, *command, "-o", ""], capture_output=True, text=True, timeout=300, cwd=tmp_path
    )
    assert res.returncode == 2, res.stderr
    assert res.stderr.startswith("pysandbox: error: output path '.' is empty"), res.stderr
    assert len(res.stderr.splitlines()) == 1 and res.stdout == ""
    assert sorted(p.name for p in tmp_path.iterdir()) == before  # nothing written, not even a side file
