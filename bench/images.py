"""Image import and first run: pysandbox vs umoci (and skopeo + umoci), side by side on one archive.

Builds a multi-layer OCI image with umoci (busybox root + layers of small and large files), then
times, best of N:
  - `pysandbox image import` of the OCI layout  vs  `umoci unpack` of the same layout
  - `pysandbox image import` of a docker-archive  vs  `skopeo copy` to OCI + `umoci unpack`
  - import + first `pysandbox run IMAGE true`  vs  umoci unpack + `runc run` of its bundle
and prints the ratios (pysandbox / peer: below 1.0 means pysandbox is faster).
Run: .venv/bin/python bench/images.py [--repeat N]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

PY = sys.executable
BUSYBOX = shutil.which("busybox") or "/bin/busybox"
SKOPEO = ("skopeo", "copy", "--quiet", "--insecure-policy")


def sh(*argv: str, env: dict[str, str] | None = None) -> None:
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)


def build_rootfs(root: Path) -> None:
    for d in ("bin", "etc", "tmp", "proc", "dev", "sys"):
        (root / d).mkdir(parents=True, exist_ok=True)
    shutil.copy2(BUSYBOX, root / "bin" / "busybox")
    for applet in ("sh", "true", "ls", "cat"):
        (root / "bin" / applet).symlink_to("busybox")
    (root / "etc" / "passwd").write_text("root:x:0:0:root:/root:/bin/sh\n")


def build_layer(root: Path, index: int) -> None:
    """~1500 small files in nested dirs and a few MB of incompressible data."""
    base = root / f"opt/app{index}"
    for d in range(30):
        sub = base / f"pkg{d}"
        sub.mkdir(parents=True)
        for f in range(50):
            (sub / f"mod{f}.py").write_text(f"# module {index}.{d}.{f}\n" + "x = 1\n" * 40)
    (base / "blob.bin").write_bytes(os.urandom(4 << 20))


def build_image(work: Path, layers: int) -> tuple[Path, Path]:
    layout = work / "oci"
    rootfs = work / "rootfs"
    build_rootfs(rootfs)
    sh("umoci", "init", "--layout", str(layout))
    sh("umoci", "new", "--image", f"{layout}:bench")
    sh("umoci", "insert", "--image", f"{layout}:bench", str(rootfs), "/")
    for i in range(layers):
        layer = work / f"layer{i}"
        build_layer(layer, i)
        sh("umoci", "insert", "--image", f"{layout}:bench", str(layer), "/")
    sh("umoci", "config", "--image", f"{layout}:bench", "--config.cmd", "/bin/true")
    archive = work / "bench-docker.tar"
    sh(*SKOPEO, f"oci:{layout}:bench", f"docker-archive:{archive}:bench:1")
    return layout, archive


def best(fn: Callable[[], None], setup: Callable[[], None], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        setup()
        subprocess.run(["sync"], check=False)
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--layers", type=int, default=3)
    args = ap.parse_args()
    for tool in ("umoci", "skopeo", "runc"):
        if not shutil.which(tool):
            print(f"images bench: {tool} not installed (make setup installs it)", file=sys.stderr)
            return 1
    work = Path(tempfile.mkdtemp(prefix="psb-bench-images-", dir="/var/tmp"))
    try:
        layout, archive = build_image(work, args.layers)
        home = work / "home"
        env = {**os.environ, "PYSANDBOX_HOME": str(home)}
        bundle = work / "bundle"
        oci_copy = work / "oci-copy"
        rootless = ["--rootless"] if os.geteuid() != 0 else []

        def reset() -> None:
            for p in (home, bundle, oci_copy):
                subprocess.run(["rm", "-rf", str(p)], check=False)

        def psb_import(src: Path) -> Callable[[], None]:
            return lambda: sh(
                PY, "-m", "pysandbox", "image", "import", "-q", str(src), "-t", "bench:1", env=env
            )

        def umoci_unpack(src: Path) -> None:
            sh("umoci", "unpack", *rootless, "--image", f"{src}:bench", str(bundle))

        def skopeo_umoci() -> None:
            sh(*SKOPEO, f"docker-archive:{archive}", f"oci:{oci_copy}:bench")
            umoci_unpack(oci_copy)

        def psb_first_run() -> None:
            psb_import(layout)()
            sh(PY, "-m", "pysandbox", "run", "--profile", "strict", "bench:1", "/bin/true", env=env)

        def umoci_runc() -> None:
            umoci_unpack(layout)
            config = json.loads((bundle / "config.json").read_text())
            config["process"]["terminal"] = False  # no tty here
            (bundle / "config.json").write_text(json.dumps(config))
            sh("runc", "run", "--bundle", str(bundle), f"psb-bench-{os.getpid()}")

        rows = [
            ("import OCI layout", psb_import(layout), "umoci unpack", lambda: umoci_unpack(layout)),
            ("import docker-archive", psb_import(archive), "skopeo copy + umoci unpack", skopeo_umoci),
            ("import + first run", psb_first_run, "umoci unpack + runc run", umoci_runc),
        ]
        size = sum(p.stat().st_size for p in (layout / "blobs" / "sha256").iterdir())
        print(f"image: busybox + {args.layers} layers, {size / 1e6:.1f} MB compressed; best of {args.repeat}")
        print(f"{'pysandbox':28} {'s':>7}   {'peer':28} {'s':>7}   ratio")
        for name, fn, peer_name, peer in rows:
            try:
                ours = best(fn, reset, args.repeat)
                theirs = best(peer, reset, args.repeat)
            except subprocess.CalledProcessError as exc:
                err = exc.stderr.decode(errors="replace").strip().splitlines()[-1:] if exc.stderr else []
                print(f"{name:28} failed: {' '.join(exc.cmd[:3])}: {' '.join(err)}")
                continue
            print(f"{name:28} {ours:7.3f}   {peer_name:28} {theirs:7.3f}   {ours / theirs:5.2f}")
        reset()
    finally:
        subprocess.run(["rm", "-rf", str(work)], check=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
