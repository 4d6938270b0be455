"""Every command's --help renders (help text goes through rich markup: a stray [x] breaks it)."""

from __future__ import annotations

import subprocess

import pytest

COMMANDS = [
    [], ["run"], ["profile"], ["profile", "list"], ["profile", "show"], ["profile", "validate"], ["lint"],
    ["scan"], ["image"], ["image", "import"], ["image", "pull"], ["image", "ls"], ["image", "inspect"],
    ["image", "rm"], ["image", "prune"], ["volume"], ["volume", "create"], ["volume", "ls"],
    ["volume", "inspect"], ["volume", "rm"], ["audit"], ["audit", "log"], ["audit", "tail"],
    ["audit", "verify"], ["audit", "checkpoint"], ["audit", "export"], ["audit", "config"], ["export"],
    ["setup"],
]  # fmt: skip


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c) or "pysandbox")
def test_help_renders(command: list[str], psb: list[str]) -> None:
    res = subprocess.run([*psb, *command, "--help"], capture_output=True, text=True, timeout=60)
    assert res.returncode == 0, res.stderr
    assert "Traceback" not in res.stderr
    assert "usage" in res.stdout.lower()
