"""Named volumes: create, ls, inspect, rm; `rm` refuses a volume held by a sandbox."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from pysandbox.images.volumes import use_volume, volume_in_use, volume_path

from .conftest import run_psb


def test_create_ls_inspect_rm(psb_home: Path) -> None:
    assert run_psb("volume", "create", "cache").stdout.strip() == "cache"
    assert run_psb("volume", "create", "cache").returncode == 0  # idempotent
    assert run_psb("volume", "ls", "-q").stdout.split() == ["cache"]
    (volume_path("cache", create=False) / "f").write_bytes(b"x" * 5000)
    doc = json.loads(run_psb("volume", "inspect", "-f", "json", "cache").stdout)[0]
    assert doc["name"] == "cache" and doc["in_use"] is False and doc["size"] >= 5000
    assert Path(doc["mountpoint"]) == psb_home / "volumes" / "cache" / "data"
    assert "Mountpoint:" in run_psb("volume", "inspect", "cache").stdout
    assert run_psb("volume", "rm", "cache").returncode == 0
    assert run_psb("volume", "ls", "-q").stdout.strip() == ""
    gone = run_psb("volume", "inspect", "cache")
    assert gone.returncode == 2 and "not found" in gone.stderr


def test_bad_names_are_refused() -> None:
    for name in ("../x", "a/b", ".hidden", "", "x" * 200):
        res = run_psb("volume", "create", name)
        assert res.returncode == 2 and res.stderr.startswith("pysandbox: error: invalid volume name")


def test_rm_refuses_a_volume_in_use() -> None:
    # a sandbox (here: another process) holds the volume for its lifetime
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys; from pysandbox.images.volumes import use_volume\n"
            "with use_volume('busy'):\n    print('held', flush=True); sys.stdin.read()",
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        assert volume_in_use("busy")
        res = run_psb("volume", "rm", "busy")
        assert res.returncode == 2 and "in use" in res.stderr
        assert "yes" in run_psb("volume", "ls").stdout
    finally:
        assert holder.stdin is not None
        holder.stdin.close()
        holder.wait(10)
    assert not volume_in_use("busy")
    assert run_psb("volume", "rm", "busy").returncode == 0


@pytest.mark.skipif(os.geteuid() != 0, reason="chown to another uid needs root")
def test_use_volume_claims_an_empty_volume_for_the_sandbox_root() -> None:
    with use_volume("claimed", owner=(123456, 123456)) as data:
        assert (data.stat().st_uid, data.stat().st_gid) == (123456, 123456)
    with use_volume("claimed", owner=(654321, 654321)) as data:  # already claimed: left alone
        assert data.stat().st_uid == 123456
