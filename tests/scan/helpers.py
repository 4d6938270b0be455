"""Helpers for the image scanner tests: scan through the engine or the CLI, pick findings."""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from psbcli import run_psb

from pysandbox.scanner.image.engine import scan_image
from pysandbox.scanner.image.scan import SCANNERS
from pysandbox.scanner.image.targets import open_target
from pysandbox.types import Finding

CLEAN_CONFIG = {
    "User": "1000",
    "Env": ["PATH=/bin:/usr/bin"],
    "Healthcheck": {"Test": ["CMD", "/bin/true"]},
    "Cmd": ["/bin/sh"],
}


@dataclass
class Built:
    path: Path
    digests: list[str]  # layer digests as findings report them, bottom first


def scan(path: Path, scanners: set[str] | None = None) -> list[Finding]:
    """The image rules over a target, through the same code the CLI runs (no trivy)."""
    return scan_image(open_target(str(path)), scanners or set(SCANNERS) - {"vuln"}).findings


def by_rule(findings: list[Finding], rule_id: str) -> list[Finding]:
    return [f for f in findings if f.rule_id == rule_id]


def run_cli(
    *args: str, cwd: Path | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return run_psb(*args, cwd=cwd, env=env, timeout=300)


def cli_json(*args: str, cwd: Path | None = None) -> tuple[int, dict[str, Any], str]:
    proc = run_cli(*args, "--format", "json", cwd=cwd)
    return proc.returncode, json.loads(proc.stdout) if proc.stdout.strip() else {}, proc.stderr
