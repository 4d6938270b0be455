"""Helpers of the export suite: `pysandbox export` through the real CLI, runc containers that are
always deleted."""

from __future__ import annotations

import shutil
import subprocess
import uuid
from pathlib import Path
from typing import Any

from psbcli import PSB as PSB  # re-exported: the suite builds argv from it
from psbcli import run_psb


def export(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    done = run_psb("export", *args)
    if check:
        assert done.returncode == 0, done.stderr
    return done


def export_workload(profile: str, fmt: str, out: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    """Export PROFILE as FMT for `busybox:1.36 sh -c id` into OUT."""
    return export(
        "--profile",
        profile,
        "--format",
        fmt,
        "--image",
        "busybox:1.36",
        "-o",
        str(out),
        *extra,
        "--",
        "sh",
        "-c",
        "id",
    )


def runc_run(bundle: Path, user: Any | None = None) -> subprocess.CompletedProcess[str]:
    """`runc run` the bundle to completion (as root, or rootless as `user`), then delete it."""
    cid = f"psb-export-{uuid.uuid4().hex[:12]}"
    state = bundle.parent / f"runc-state-{cid}"
    state.mkdir(mode=0o700)
    if user is not None:
        shutil.chown(state, user.uid, user.gid)
    argv = ["runc", "--root", str(state), "run", "--bundle", str(bundle), cid]
    try:
        if user is None:
            return subprocess.run(argv, capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)
        result: subprocess.CompletedProcess[str] = user.run(argv, stdin=subprocess.DEVNULL, timeout=120)
        return result
    finally:
        delete = ["runc", "--root", str(state), "delete", "--force", cid]
        if user is None:
            subprocess.run(delete, capture_output=True, timeout=60)
        else:
            user.run(delete, timeout=60)
        shutil.rmtree(state, ignore_errors=True)
