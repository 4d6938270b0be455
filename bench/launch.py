"""Launch latency of `pysandbox run -- /bin/true` on a busybox rootfs, side by side with bwrap and runc.

Cold CLI (the venv's `pysandbox` console script as `make` installs it, a fresh interpreter per
launch; default, audit-off and strict profiles) is timed by hyperfine together with `bwrap
--unshare-all` and `runc run` on the same rootfs, then bwrap hardened as far as it can go toward the
default profile (seccomp, masks: a like-for-like row for context); the warm API (many launches from
one process, `Sandbox(...).run(["/bin/true"])`, default profile with audit on and off, directly,
through the fork server and with prewarm, and from a caller holding 200 MB more, made before or
after its Sandbox) is timed
in-process right after, back to back; then, for context, with prewarm and the caller idle 10 ms
after each run (paced). For context too, the cold commands once more in turn (interleaved), so
that a drift of the VM's speed falls on all of them alike. Prints the means and the ratios
against the targets: warm API <= 1.5x bwrap, cold CLI <= runc. Needs root (runc).

    .venv/bin/python bench/launch.py [--runs N]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import shlex
import shutil
import statistics
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


Stats = tuple[float, float]  # (mean, median) in ms
PACE_MS = 10  # the paced rows' idle time after each run


BWRAP = "bwrap --unshare-all"
HARDENED = "bwrap, hardened like `default` (no overlay)"


def bwrap_hardened(rootfs: Path, bpf: Path) -> str:
    """bwrap doing what pysandbox's default profile does on top of namespaces, as far as bwrap
    0.8 can: Docker's seccomp filter (the program pysandbox loads, through --seccomp), Docker's
    masked paths that exist here, a read-only /sys, a fresh /tmp, a new session. Not the overlay
    root (no --overlay before bwrap 0.9) nor the read-only /proc subtrees. A shell command: the
    filter comes on an fd (hyperfine subtracts the shell's start-up)."""
    from pysandbox.policies.model import DOCKER_MASKED_PATHS

    args = ["bwrap", "--unshare-all", "--die-with-parent", "--new-session", "--ro-bind", str(rootfs), "/",
            "--proc", "/proc", "--dev", "/dev", "--ro-bind", "/sys", "/sys", "--tmpfs", "/tmp"]  # fmt: skip
    for path in DOCKER_MASKED_PATHS:
        if os.path.isdir(path):
            args += ["--tmpfs", path, "--remount-ro", path]
        elif os.path.exists(path):
            args += ["--ro-bind", "/dev/null", path]
    return " ".join([*args, "--seccomp", "9", "/bin/true", f"9<{bpf}"])


def default_bpf(dest: Path) -> Path:
    from pysandbox.policies.loader import load_profile
    from pysandbox.sandbox import seccomp

    profile = load_profile("default")
    keep = tuple(f"CAP_{c}" for c in profile.capabilities.keep)
    program = seccomp.plan(profile.seccomp.profile, keep)
    assert program is not None
    dest.write_bytes(program.code)
    return dest


def hyperfine(
    commands: dict[str, str], runs: int, env: dict[str, str], out: Path, shell: bool = False
) -> dict[str, Stats]:
    args = ["hyperfine", "--warmup", "5", "--runs", str(runs), "--export-json", str(out)]
    if not shell:
        args.append("-N")
    for name, command in commands.items():
        args += ["-n", name, command]
    subprocess.run(args, check=True, env=env)
    data = json.loads(out.read_text())
    return {r["command"]: (r["mean"] * 1000, r["median"] * 1000) for r in data["results"]}


def interleaved(commands: dict[str, str], rounds: int, env: dict[str, str]) -> dict[str, Stats]:
    """The cold commands in turn, one launch of each a round, the order reversed every other round:
    hyperfine times each command in a block of its own, so a change in the VM's speed between
    blocks (other tenants' load) lands on one command's figure and moves the ratios; here it
    lands on all of them alike. Each launch is one posix_spawn and wait, timed by this process."""
    argvs = {name: shlex.split(command) for name, command in commands.items()}
    times: dict[str, list[float]] = {name: [] for name in argvs}
    for _ in range(3):  # warm-up, as hyperfine's
        for argv in argvs.values():
            _spawn_and_wait(argv, env)
    for i in range(rounds):
        names = list(argvs) if i % 2 == 0 else list(reversed(argvs))
        for name in names:
            start = time.perf_counter()
            _spawn_and_wait(argvs[name], env)
            times[name].append((time.perf_counter() - start) * 1000)
    return {name: (statistics.mean(t), statistics.median(t)) for name, t in times.items()}


def _spawn_and_wait(argv: list[str], env: dict[str, str]) -> None:
    with open(os.devnull, "wb") as null:
        pid = os.posix_spawnp(argv[0], argv, env, file_actions=[(os.POSIX_SPAWN_DUP2, null.fileno(), 1)])
    _, status = os.waitpid(pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{argv[0]} failed ({os.waitstatus_to_exitcode(status)}): {shlex.join(argv)}")


def warm_api_process(rootfs: Path, runs: int, audit: str, heap_mb: int = 0, mode: str = "direct") -> Stats:
    """`warm_api` in a process of its own: each configuration pays for what it loads (the audit
    log's modules), not for what an earlier one left in memory (fork copies the page tables)."""
    argv = [sys.executable, __file__, "--warm", audit, "--rootfs", str(rootfs), "--runs", str(runs),
            "--heap-mb", str(heap_mb), "--mode", mode]  # fmt: skip
    done = subprocess.run(argv, check=True, capture_output=True, text=True)
    mean, median = json.loads(done.stdout)
    return float(mean), float(median)


def warm_api(rootfs: Path, runs: int, audit: str, heap_mb: int = 0, mode: str = "direct") -> Stats:
    """heap_mb: the caller then holds that much more memory, touched, as a long-running program
    does (the Sandbox, and its fork server, are made before it grows). mode: direct, fork-server,
    prewarm1, prewarm2 (Sandbox(prewarm=N), with its default fork server: the prewarm thread
    starts the next sandbox once each run has returned; back to back, as here, that set-up
    competes with the next run for the two cores, and with only one ahead the run waits for
    it), prewarm2+in-run (fork_server=False: each run starts the next sandbox while its workload
    runs); "+paced" leaves PACE_MS idle (untimed) after each run, as a caller that does other work
    between runs; "+late": the caller holds heap_mb before it makes its Sandbox."""
    from pysandbox.policies.loader import load_profile
    from pysandbox.sandbox.api import Sandbox

    profile = dataclasses.replace(load_profile("default"), audit=audit)  # type: ignore[arg-type]
    prewarm = int(mode.partition("prewarm")[2][:1] or 0)
    fork_server = False if "in-run" in mode else ("fork-server" in mode or None)
    late = "+late" in mode
    heap = _touched_mb(heap_mb) if late else []
    box = Sandbox(profile, rootfs=rootfs, fork_server=fork_server, prewarm=prewarm)
    if not late:
        heap = _touched_mb(heap_mb)
    for _ in range(5):
        box.run(["/bin/true"])
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        result = box.run(["/bin/true"])
        times.append((time.perf_counter() - start) * 1000)
        assert result.status == 0, result
        if "paced" in mode:
            time.sleep(PACE_MS / 1000)
    box.close()
    del heap
    return statistics.mean(times), statistics.median(times)


def _touched_mb(mb: int) -> list[bytearray]:
    """`mb` MiB of memory, every page written (resident, as a long-running program's heap)."""
    return [bytearray(b"\1" * (1 << 20)) for _ in range(mb)]


def report(
    cold: dict[str, Stats],
    warm: dict[str, Stats],
    context: dict[str, Stats],
    paced: dict[str, Stats],
    turns: dict[str, Stats],
    after: Stats,
) -> None:
    """Means and medians (a shared machine's stragglers move the mean), ratios, target verdicts.
    The paced rows are context: the targets are judged on runs back to back, as bwrap's are.
    after: bwrap timed again after the warm rows (context)."""
    bwrap, runc = cold[BWRAP], cold["runc run"]
    print("\nlaunch latency of /bin/true on a busybox rootfs (one run on this machine)")
    print(f"  {'':45} {'mean':>8}    {'median':>8}    x bwrap (mean/median)  x runc (mean/median)")
    for name, (mean, median) in {**cold, **context, **warm, **paced}.items():
        ratios = f"{mean / bwrap[0]:5.2f} / {median / bwrap[1]:5.2f}          "
        ratios += f"{mean / runc[0]:5.2f} / {median / runc[1]:5.2f}"
        print(f"  {name:45} {mean:8.2f} ms {median:8.2f} ms   {ratios}")
    hardened = context[HARDENED]
    print(f"like for like (context, no target): x {HARDENED} (mean / median)")
    for name, (mean, median) in warm.items():
        print(f"  {name}: {mean / hardened[0]:.2f}x / {median / hardened[1]:.2f}x")
    print(f"paced (context, no target: the caller idles {PACE_MS} ms after each run) x bwrap (mean / median)")
    for name, (mean, median) in paced.items():
        print(f"  {name}: {mean / bwrap[0]:.2f}x / {median / bwrap[1]:.2f}x")
    drift = f"{after[0] / bwrap[0]:.2f}x / {after[1] / bwrap[1]:.2f}x the first"
    print(f"bwrap again, after the warm rows (context): {after[0]:.2f} ms / {after[1]:.2f} ms ({drift}); "
          "the warm rows x it:")  # fmt: skip
    for name, (mean, median) in warm.items():
        print(f"  {name}: {mean / after[0]:.2f}x / {median / after[1]:.2f}x")
    runc_turns = turns["runc run"]
    print("interleaved (context: the cold commands in turn, one launch each a round) x runc (mean / median)")
    for name, (mean, median) in turns.items():
        print(f"  {name:45} {mean:8.2f} ms {median:8.2f} ms   "
              f"{mean / runc_turns[0]:5.2f} / {median / runc_turns[1]:5.2f}")  # fmt: skip
    print("targets (mean / median):")
    for name, (mean, median) in warm.items():
        ok = ["met" if v <= 1.5 * b else "MISSED" for v, b in ((mean, bwrap[0]), (median, bwrap[1]))]
        print(f"  {name}: {mean / bwrap[0]:.2f}x / {median / bwrap[1]:.2f}x bwrap (target <= 1.5x): "
              f"{ok[0]} / {ok[1]}")  # fmt: skip
    for name, (mean, median) in cold.items():
        if not name.startswith("pysandbox"):
            continue
        ok = ["met" if v <= r else "MISSED" for v, r in ((mean, runc[0]), (median, runc[1]))]
        print(f"  {name}: {mean / runc[0]:.2f}x / {median / runc[1]:.2f}x runc (target <= 1.0x): "
              f"{ok[0]} / {ok[1]}")  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--warm", choices=["events", "off"], help=argparse.SUPPRESS)
    parser.add_argument("--rootfs", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--heap-mb", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--mode", default="direct", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.warm:
        print(json.dumps(warm_api(args.rootfs, args.runs, args.warm, args.heap_mb, args.mode)))
        return 0
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
        # As `make` installs it: compiled modules beside the sources, whatever the environment says
        # about writing them (PYTHONDONTWRITEBYTECODE).
        subprocess.run([sys.executable, "-m", "compileall", "-q", str(REPO / "pysandbox")], check=True)
        quiet = work / "audit-off.yaml"
        quiet.write_text('name: default-audit-off\naudit: "off"\n')
        psb = VENV_BIN / "pysandbox"
        # ...and the bundle of the `run` path's modules (pysandbox/importcache.py), which a user's
        # first runs write, here whatever the environment says too (a profile's first run in a
        # new home validates it and writes nothing: two runs of each)
        writing = {k: v for k, v in env.items() if k != "PYTHONDONTWRITEBYTECODE"}
        for profile in ("default", "default", "strict", "strict"):
            argv = [str(psb), "run", "--profile", profile, "--rootfs", str(rootfs), "--", "/bin/true"]
            subprocess.run(argv, env=writing, check=True)
        commands = {
            "pysandbox (cold CLI, default profile)": f"{psb} run --rootfs {rootfs} -- /bin/true",
            "pysandbox (cold CLI, audit off)": f"{psb} run --profile {quiet} --rootfs {rootfs} -- /bin/true",
            "pysandbox (cold CLI, strict profile)": f"{psb} run --profile strict --rootfs {rootfs} "
            "-- /bin/true",
            BWRAP: f"bwrap --unshare-all --bind {rootfs} / --proc /proc --dev /dev /bin/true",
            "runc run": f"runc --root {work / 'runc-state'} run --bundle {bundle} psb-bench-launch",
        }
        cold = hyperfine(commands, args.runs, env, work / "hyperfine.json")
        turns = interleaved(commands, args.runs, env)
        hardened = bwrap_hardened(rootfs, default_bpf(work / "default.bpf"))
        context = hyperfine({HARDENED: hardened}, args.runs, env, work / "hyperfine-shell.json", shell=True)
        n = args.runs * 2
        warm = {
            "pysandbox (warm API, default profile)": warm_api_process(rootfs, n, "events"),
            "pysandbox (warm API, default profile, prewarm=2)": warm_api_process(
                rootfs, n, "events", mode="prewarm2"
            ),
            "pysandbox (warm API, default profile, prewarm=2, in-run)": warm_api_process(
                rootfs, n, "events", mode="prewarm2+in-run"
            ),
            "pysandbox (warm API, audit off)": warm_api_process(rootfs, n, "off"),
            "pysandbox (warm API, audit off, fork server)": warm_api_process(
                rootfs, n, "off", mode="fork-server"
            ),
            "pysandbox (warm API, audit off, prewarm=1)": warm_api_process(rootfs, n, "off", mode="prewarm1"),
            "pysandbox (warm API, audit off, prewarm=2)": warm_api_process(rootfs, n, "off", mode="prewarm2"),
            "pysandbox (warm API, audit off, prewarm=2, in-run)": warm_api_process(
                rootfs, n, "off", mode="prewarm2+in-run"
            ),
            "pysandbox (warm, audit off, 200 MB caller)": warm_api_process(rootfs, n, "off", 200),
            "pysandbox (warm, same, fork server)": warm_api_process(rootfs, n, "off", 200, "fork-server"),
            "pysandbox (warm, same, prewarm=2)": warm_api_process(rootfs, n, "off", 200, "prewarm2"),
            "pysandbox (warm, same, prewarm=2, in-run)": warm_api_process(
                rootfs, n, "off", 200, "prewarm2+in-run"
            ),
            "pysandbox (warm, same, 200 MB before the Sandbox, prewarm=2)": warm_api_process(
                rootfs, n, "off", 200, "prewarm2+late"
            ),
        }
        paced = {
            "pysandbox (warm API, audit off, prewarm=2, paced)": warm_api_process(
                rootfs, n, "off", mode="prewarm2+paced"
            ),
            "pysandbox (warm API, default profile, prewarm=2, paced)": warm_api_process(
                rootfs, n, "events", mode="prewarm2+paced"
            ),
            "pysandbox (warm API, default profile, prewarm=2, in-run, paced)": warm_api_process(
                rootfs, n, "events", mode="prewarm2+in-run+paced"
            ),
        }
        # bwrap once more, right after the warm rows: hyperfine timed it minutes earlier, and the
        # VM's speed drifts by more than the margins judged here (context: the verdicts stay on
        # the first figure)
        after = hyperfine({BWRAP: commands[BWRAP]}, args.runs, env, work / "hyperfine-after.json")[BWRAP]
        report(cold, warm, context, paced, turns, after)
        return 0
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
