from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from psbcli import run_psb

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def lint_cli(tmp_path: Path) -> Callable[..., subprocess.CompletedProcess[str]]:
    """Run `python -m pysandbox lint ARGS` in tmp_path (so no config file of the checkout is found)."""

    def run(
        *args: str, stdin: str | None = None, cwd: Path | None = None
    ) -> subprocess.CompletedProcess[str]:
        return run_psb("lint", *args, env={"PYTHONPATH": str(ROOT)}, cwd=cwd or tmp_path, stdin=stdin)

    return run
