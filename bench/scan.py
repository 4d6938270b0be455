#!/usr/bin/env python3
"""Scan of one larger image: `pysandbox scan --scanners secret,config` vs `trivy image --input
--scanners secret,misconfig`, side by side on the same docker-archive.

The image is a debootstrap'ed Debian minimal root (bookworm, variant minbase) packed as a gzip
docker-archive, built once and cached under bench/.cache/scan/. Without debootstrap (or network to
the Debian mirror) it falls back to a root assembled from the host's /usr/bin, /usr/lib/x86_64-linux-gnu
and /etc. Each tool runs RUNS times; trivy gets a fresh cache dir per run so that it analyses the
layers every time, as pysandbox does (trivy otherwise caches per-layer analysis results).
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
CACHE = HERE / ".cache" / "scan"
ARCHIVE = CACHE / "debian-minbase.tar"
RUNS = int(os.environ.get("BENCH_RUNS", "3"))
BIN = Path(sys.executable).parent
MIRROR = os.environ.get("DEBIAN_MIRROR", "http://deb.debian.org/debian")


def build_rootfs(dest: Path) -> str:
    if shutil.which("debootstrap") and os.geteuid() == 0:
        proc = subprocess.run(
            ["debootstrap", "--variant=minbase", "bookworm", str(dest), MIRROR],
            capture_output=True,
            text=True,
        )
        if proc.returncode == 0:
            return "debootstrap bookworm minbase"
        print(
            f"debootstrap failed ({proc.stderr.strip().splitlines()[-1:]}); using the host's files",
            file=sys.stderr,
        )
        shutil.rmtree(dest, ignore_errors=True)
    for part in ("usr/bin", "usr/lib/x86_64-linux-gnu", "etc"):
        shutil.copytree(
            "/" + part, dest / part, symlinks=True, ignore_dangling_symlinks=True, dirs_exist_ok=True
        )
    return "host /usr/bin + /usr/lib/x86_64-linux-gnu + /etc"


def pack(rootfs: Path, dest: Path, what: str) -> None:
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tf:
        for entry in sorted(rootfs.iterdir()):
            if entry.name not in ("proc", "sys", "dev"):
                tf.add(entry, arcname=entry.name)
    layer = raw.getvalue()
    compressed = gzip.compress(layer, compresslevel=6, mtime=0)
    diff_id = "sha256:" + hashlib.sha256(layer).hexdigest()
    config = {
        "architecture": "amd64",
        "os": "linux",
        "config": {"Cmd": ["/bin/bash"]},
        "rootfs": {"type": "layers", "diff_ids": [diff_id]},
        "history": [{"created_by": f"ADD rootfs.tar / # {what}"}],
    }
    config_bytes = json.dumps(config).encode()
    config_name = hashlib.sha256(config_bytes).hexdigest() + ".json"
    layer_name = hashlib.sha256(compressed).hexdigest() + "/layer.tar"
    manifest = json.dumps(
        [{"Config": config_name, "RepoTags": ["bench/debian:minbase"], "Layers": [layer_name]}]
    )
    tmp = dest.with_suffix(".tmp")
    with tarfile.open(tmp, "w") as tf:
        for name, data in (
            (config_name, config_bytes),
            (layer_name, compressed),
            ("manifest.json", manifest.encode()),
        ):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
    os.replace(tmp, dest)


def ensure_image() -> None:
    if ARCHIVE.exists():
        return
    CACHE.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=CACHE) as tmp:
        root = Path(tmp) / "root"
        root.mkdir()
        print("building the bench image (once)...", file=sys.stderr)
        what = build_rootfs(root)
        pack(root, ARCHIVE, what)


def timed(argv: list[str], env: dict[str, str] | None = None) -> float:
    start = time.perf_counter()
    proc = subprocess.run(
        argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env={**os.environ, **(env or {})}
    )
    elapsed = time.perf_counter() - start
    if proc.returncode not in (0, 1):
        raise SystemExit(f"{argv[0]} failed ({proc.returncode}): {proc.stderr.strip()[-300:]}")
    return elapsed


def main() -> int:
    ensure_image()
    trivy = shutil.which("trivy") or str(BIN / "trivy")
    ours = [
        str(BIN / "python"),
        "-m",
        "pysandbox",
        "scan",
        str(ARCHIVE),
        "--scanners",
        "secret,config",
        "--format",
        "json",
        "--no-progress",
    ]
    psb_times, trivy_times = [], []
    for _ in range(RUNS):
        psb_times.append(timed(ours, {"PYSANDBOX_HOME": tempfile.mkdtemp(prefix="psb-bench-")}))
        with tempfile.TemporaryDirectory(prefix="trivy-bench-") as cache:
            trivy_times.append(
                timed(
                    [
                        trivy,
                        "image",
                        "--input",
                        str(ARCHIVE),
                        "--scanners",
                        "secret,misconfig",
                        "--skip-db-update",
                        "--offline-scan",
                        "--skip-check-update",
                        "--quiet",
                        "--format",
                        "json",
                        "--cache-dir",
                        cache,
                    ]
                )
            )
    size = ARCHIVE.stat().st_size / 2**20
    p, t = statistics.median(psb_times), statistics.median(trivy_times)
    print(f"image: {ARCHIVE.name} ({size:.0f} MiB compressed), {RUNS} runs each, median wall time")
    print(f"{'pysandbox scan --scanners secret,config':48} {p:7.2f} s")
    print(f"{'trivy image --scanners secret,misconfig':48} {t:7.2f} s")
    print(f"ratio pysandbox/trivy: {p / t:.2f} (target <= 1.00)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
