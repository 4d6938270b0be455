"""The real CLI in a subprocess, with this checkout's interpreter: one runner every suite shares."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

PSB = [sys.executable, "-m", "pysandbox"]


def run_psb(
    *args: str,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
    stdin: str | None = None,
    timeout: float = 120,
) -> subprocess.CompletedProcess[str]:
    """`python -m pysandbox ARGS`, output captured as text; `env` is added to this process's."""
    return subprocess.run(
        [*PSB, *args],
        input=stdin,
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        cwd=cwd,
        timeout=timeout,
        check=False,
    )
