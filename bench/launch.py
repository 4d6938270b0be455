"""Launch latency of `pysandbox run -- /bin/true` on a busybox rootfs, side by side with bwrap and runc.

Cold CLI (the venv's console script, a fresh interpreter per launch) is timed by hyperfine together
with `bwrap --unshare-all` and `runc run` on the same rootfs; the warm API (many launches from one
process, `Sandbox(...).run(["/bin/true"])`) is timed in-process right after. Prints the means and
the ratios against the targets: warm API <= 1.5x bwrap, cold CLI <= runc. Needs root (runc).

    .venv/bin/python bench/launch.py [--runs N]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent


def busybox_rootfs(dest: Path) -> Path:
    busybox = shutil.which("busybox") or "/bin/busybox"
    for d in ("bin", "etc", "proc", "dev", "sys", "tmp", "root"):
        (dest / d).mkdir(parents=True, exist_ok=True)
    shutil.copy2(busybox, dest / "bin" / "busybox")
    for applet in ("sh", "true"):
        (dest / "bin" / applet).symlink_to("busybox")
    (dest / "etc" / "passwd").write_text("root:x:0:0:root:/root:/bin/sh\n")
    (dest / "tmp").chmod(0o1777)
    return dest


def runc_bundle(bundle: Path, rootfs: Path) -> Path:
    bundle.mkdir()
    subprocess.run(["runc", "spec", "--bundle", str(bundle)], check=True)
    config_path = bundle / "config.json"
    config = json.loads(config_path.read_text())
    config["root"] = {"path": str(rootfs), "readonly": True}
    config["process"]["terminal"] = False
    config["process"]["args"] = ["/bin/true"]
    config_path.write_text(json.dumps(config))
    return bundle


def hyperfine(commands: dict[str, str], runs: int, env: dict[str, str], out: Path) -> dict[str, float]:
    args = ["hyperfine", "-N", "--warmup", "5", "--runs", str(runs), "--export-json", str(out)]
    for name, command in commands.items():
        args += ["-n", name, command]
    subprocess.run(args, check=True, env=env)
    data = json.loads(out.read_text())
    return {r["command"]: r["mean"] * 1000 for r in data["results"]}


def warm_api(rootfs: Path, runs: int, audit: str) -> float:
    from pysandbox.policies.loader import load_profile
    from pysandbox.sandbox.api import Sandbox

    profile = dataclasses.replace(load_profile("default"), audit=audit)  # type: ignore[arg-type]
    box = Sandbox(profile, rootfs=rootfs)
    for _ in range(5):
        box.run(["/bin/true"])
    start = time.perf_counter()
    for _ in range(runs):
        result = box.run(["/bin/true"])
        assert result.status == 0, result
    return (time.perf_counter() - start) / runs * 1000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=50)
    args = parser.parse_args()
    if os.geteuid() != 0:
        print("bench/launch.py needs root (runc run)", file=sys.stderr)
        return 2
    work = Path(tempfile.mkdtemp(prefix="psb-bench-launch-", dir="/var/tmp"))
    try:
        work.chmod(0o755)
        rootfs = busybox_rootfs(work / "rootfs")
        bundle = runc_bundle(work / "bundle", rootfs)
        home = work / "home"
        home.mkdir()
        os.environ["PYSANDBOX_HOME"] = str(home)
        env = dict(os.environ)
        # As an installed package has them: compiled modules (kept out of the checkout).
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = str(work / "pycache")
        quiet = work / "audit-off.yaml"
        quiet.write_text('name: default-audit-off\naudit: "off"\n')
        psb = VENV_BIN / "pysandbox"
        commands = {
            "pysandbox (cold CLI, default profile)": f"{psb} run --rootfs {rootfs} -- /bin/true",
            "pysandbox (cold CLI, audit off)": f"{psb} run --profile {quiet} --rootfs {rootfs} -- /bin/true",
            "bwrap --unshare-all": f"bwrap --unshare-all --bind {rootfs} / --proc /proc --dev /dev /bin/true",
            "runc run": f"runc --root {work / 'runc-state'} run --bundle {bundle} psb-bench-launch",
        }
        cold = hyperfine(commands, args.runs, env, work / "hyperfine.json")
        warm = {
            "pysandbox (warm API, default profile)": warm_api(rootfs, args.runs * 2, "events"),
            "pysandbox (warm API, audit off)": warm_api(rootfs, args.runs * 2, "off"),
        }
        bwrap, runc = cold["bwrap --unshare-all"], cold["runc run"]
        print("\nlaunch latency of /bin/true on a busybox rootfs (mean, one run on this machine)")
        for name, ms in {**cold, **warm}.items():
            print(f"  {name:40} {ms:8.2f} ms   {ms / bwrap:5.2f}x bwrap   {ms / runc:5.2f}x runc")
        print("targets:")
        for name in warm:
            verdict = "met" if warm[name] <= 1.5 * bwrap else "MISSED"
            print(f"  {name}: {warm[name] / bwrap:.2f}x bwrap (target <= 1.5x): {verdict}")
        for name in [n for n in cold if n.startswith("pysandbox")]:
            verdict = "met" if cold[name] <= runc else "MISSED"
            print(f"  {name}: {cold[name] / runc:.2f}x runc (target <= 1.0x): {verdict}")
        return 0
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
