"""Cost of pysandbox's seccomp filters on a syscall-heavy loop: no filter vs `default` vs `strict`.

A small static C program (seccomp_loop.c) times N x syscall(SYS_getpid), N x read(/dev/zero, 1) and
N/10 x a refused keyctl. It runs unfiltered, and under each profile's filter loaded as the sandbox
loads it (no_new_privs, then the cached libseccomp program through seccomp(2), then execve).
A fourth configuration, `allow-all` (defaultAction SCMP_ACT_ALLOW), is the floor every seccomp filter
pays: once a task has any filter its syscalls take the kernel's slower entry path, even when the
per-filter action cache (Linux >= 5.11) answers "allow" without running the BPF program.
Rounds are interleaved and pinned to one CPU so that the noise of this shared VM hits every
configuration alike; ratios use the best (minimum) of the rounds, as timeit does, and medians are
printed beside them. Target: allowed syscalls <= 1.10x the unfiltered time.

    .venv/bin/python bench/seccomp.py [--iterations N] [--rounds R]
"""

from __future__ import annotations

import argparse
import ctypes
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pysandbox.policies.model import DOCKER_DEFAULT_CAPS
from pysandbox.sandbox import seccomp

HERE = Path(__file__).resolve().parent
PR_SET_NO_NEW_PRIVS = 38
ALLOW_ALL = {"defaultAction": "SCMP_ACT_ALLOW", "syscalls": []}
CONFIGS: tuple[tuple[str, str | None, tuple[str, ...]], ...] = (
    ("none", None, ()),
    ("allow-all", "allow-all.json", ()),
    ("default", "default", DOCKER_DEFAULT_CAPS),
    ("strict", "strict", ()),
)


def build(workdir: Path) -> Path:
    gcc = shutil.which("gcc")
    if gcc is None:
        sys.exit("bench/seccomp.py: gcc is needed (apt-get install gcc libc6-dev)")
    exe = workdir / "seccomp_loop"
    subprocess.run([gcc, "-O2", "-static", "-o", str(exe), str(HERE / "seccomp_loop.c")], check=True)
    return exe


def run_once(exe: Path, prog: seccomp.Program | None, iterations: int) -> list[float]:
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            os.close(r)
            os.dup2(w, 1)
            ctypes.CDLL(None).prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)
            if prog is not None:
                seccomp.load(prog)
            os.execv(str(exe), [str(exe), str(iterations)])
        finally:
            os._exit(127)
    os.close(w)
    with os.fdopen(r) as fh:
        out = fh.read()
    _, status = os.waitpid(pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"bench/seccomp.py: the loop failed: {out!r}")
    return [float(x) for x in out.split()]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--iterations", type=int, default=300_000)
    ap.add_argument("--rounds", type=int, default=21)
    args = ap.parse_args()
    os.sched_setaffinity(0, {max(os.sched_getaffinity(0))})
    with tempfile.TemporaryDirectory(prefix="psb-bench-seccomp-") as tmp:
        os.environ.setdefault("PYSANDBOX_HOME", str(Path(tmp) / "home"))
        exe = build(Path(tmp))
        allow_all = Path(tmp) / "allow-all.json"
        allow_all.write_text(json.dumps(ALLOW_ALL))
        programs = {
            name: (seccomp.plan(str(allow_all) if spec == "allow-all.json" else spec, caps) if spec else None)
            for name, spec, caps in CONFIGS
        }
        samples: dict[str, list[list[float]]] = {name: [] for name in programs}
        for _ in range(args.rounds):
            for name, prog in programs.items():
                samples[name].append(run_once(exe, prog, args.iterations))
    best = {name: [min(s[i] for s in runs) for i in range(3)] for name, runs in samples.items()}
    median = {
        name: [statistics.median(s[i] for s in runs) for i in range(3)] for name, runs in samples.items()
    }
    print(f"seccomp: {args.iterations} calls per loop, {args.rounds} interleaved rounds, CPU ns per call")
    print(
        "filter     getpid best (median) ratio | read(/dev/zero) best (median) ratio | refused keyctl ratio"
    )
    worst = 0.0
    for name in programs:
        (g, rd, den), (gm, rdm, _) = best[name], median[name]
        rg, rr, rk = g / best["none"][0], rd / best["none"][1], den / best["none"][2]
        if name in ("default", "strict"):
            worst = max(worst, rg, rr)
        row = f"{name:10} {g:8.1f} ({gm:6.1f}) {rg:5.2f}x | {rd:15.1f} ({rdm:6.1f}) {rr:5.2f}x"
        print(f"{row} | {den:8.1f} {rk:5.2f}x")
    floor = max(best["allow-all"][0] / best["none"][0], best["allow-all"][1] / best["none"][1])
    verdict = "meets" if worst <= 1.10 else "MISSES"
    print(
        f"allowed syscalls under default/strict: worst {worst:.2f}x unfiltered ({verdict} the 1.10x target)"
    )
    print(f"any filter at all (allow-all): {floor:.2f}x")


if __name__ == "__main__":
    main()
