"""Audit log benchmark: durable append rate (1 and 8 writer processes; batched, and an fsync per
event) and `verify` rate, side by side with a plain SQLite insert loop of the same rows.

    .venv/bin/python bench/audit.py [--events 100000] [--fsync-events 2000] [--writers 8] [--repeat 3]

Prints the load average (this is a shared machine: read the figures with it), then one table;
each figure is the median of --repeat runs, pysandbox and the reference taking turns, and the
ratio is pysandbox / plain SQLite from the same invocation.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from pysandbox.audit.recorder import BATCH_EVENTS, BATCH_SECONDS  # noqa: E402

TARGETS = {"batched": 50_000.0, "fsync": 500.0, "verify": 500_000.0}
BATCHED, PER_EVENT = "batched", "per-event"

PLAIN_SCHEMA = """
CREATE TABLE IF NOT EXISTS events (
    seq INTEGER PRIMARY KEY, time_ns INTEGER NOT NULL, type TEXT NOT NULL, sandbox_id TEXT, body TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS by_sandbox ON events(sandbox_id);
CREATE INDEX IF NOT EXISTS by_type ON events(type);
CREATE INDEX IF NOT EXISTS by_time ON events(time_ns)
"""


def fields(i: int) -> dict[str, object]:
    return {
        "status": i % 256,
        "signal": None,
        "duration": 0.125,
        "peak_memory": 4096 * (i % 977),
        "cpu_time": 0.5,
    }


# -- the two writers -----------------------------------------------------------------------------


def write_pysandbox(home: Path, n: int, mode: str, wid: int) -> None:
    """Recorder.event for every event: durable each time, or left to the recorder's batching
    (a commit, fsync'd, per BATCH_EVENTS events or BATCH_SECONDS), then close (durable)."""
    os.environ["PYSANDBOX_HOME"] = str(home)
    from pysandbox.audit.recorder import Recorder

    durable = mode == PER_EVENT
    rec = Recorder(f"{wid:04d}{os.getpid():012x}", f"bench-{wid}", "strict")
    for i in range(n):
        rec.event("exit", durable=durable, **fields(i))
    rec.close()


def write_plain(db: Path, n: int, mode: str, wid: int) -> None:
    """The reference: the same JSON rows and indexes, WAL, synchronous=FULL, BEGIN IMMEDIATE,
    committed as the recorder commits (per event, or per BATCH_EVENTS / BATCH_SECONDS); no
    hashing, no chain."""
    import json

    conn = sqlite3.connect(db, timeout=60, isolation_level=None)
    conn.execute("PRAGMA synchronous=FULL")
    sandbox = f"{wid:04d}{os.getpid():012x}"
    batch: list[tuple[int, str, str, str]] = []
    limit_ns = int(BATCH_SECONDS * 1e9)
    for i in range(n):
        now = time.time_ns()
        body = json.dumps(
            {
                "time": now,
                "type": "exit",
                "sandbox": {"id": sandbox, "name": f"bench-{wid}"},
                "user": "root",
                "profile": "strict",
                "fields": fields(i),
            },
            sort_keys=True,
            separators=(",", ":"),
        )
        batch.append((now, "exit", sandbox, body))
        if mode == PER_EVENT or len(batch) >= BATCH_EVENTS or now - batch[0][0] >= limit_ns or i == n - 1:
            conn.execute("BEGIN IMMEDIATE")
            conn.executemany("INSERT INTO events (time_ns, type, sandbox_id, body) VALUES (?,?,?,?)", batch)
            conn.execute("COMMIT")
            batch.clear()
    conn.close()


def prepare_plain(db: Path) -> None:
    conn = sqlite3.connect(db, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    for statement in PLAIN_SCHEMA.split(";"):
        conn.execute(statement)
    conn.close()


# -- runs ----------------------------------------------------------------------------------------


def run_writers(kind: str, target: Path, total: int, mode: str, writers: int) -> float:
    """Events per second of `writers` processes writing `total` events together (wall clock)."""
    per = total // writers
    if writers == 1:
        start = time.perf_counter()
        (write_pysandbox if kind == "pysandbox" else write_plain)(target, per, mode, 0)
        return per / (time.perf_counter() - start)
    procs = [
        subprocess.Popen(
            worker_argv(kind, target, per, mode, w), stdin=subprocess.PIPE, stdout=subprocess.PIPE
        )
        for w in range(writers)
    ]
    for p in procs:  # each worker has imported everything and says so before the clock starts
        assert p.stdout is not None and p.stdout.readline().strip() == b"ready"
    start = time.perf_counter()
    for p in procs:
        assert p.stdin is not None
        p.stdin.write(b"go\n")
        p.stdin.close()
    for p in procs:
        if p.wait() != 0:
            raise SystemExit(f"{kind} writer failed")
        if p.stdout:
            p.stdout.close()
    return per * writers / (time.perf_counter() - start)


def worker_argv(kind: str, target: Path, n: int, mode: str, wid: int) -> list[str]:
    return [sys.executable, __file__, "--worker", kind, str(target), str(n), mode, str(wid)]


def worker(kind: str, target: str, n: int, mode: str, wid: int) -> None:
    if kind == "pysandbox":
        os.environ["PYSANDBOX_HOME"] = target
        import importlib

        for module in ("pysandbox.audit.recorder", "pysandbox.audit.store"):  # before the clock starts
            importlib.import_module(module)
    print("ready", flush=True)
    sys.stdin.readline()
    if kind == "pysandbox":
        write_pysandbox(Path(target), n, mode, wid)
    else:
        write_plain(Path(target), n, mode, wid)


def verify_rate(home: Path, key: str | None) -> float:
    os.environ["PYSANDBOX_HOME"] = str(home)
    if key:
        os.environ["PYSANDBOX_AUDIT_KEY"] = key
    else:
        os.environ.pop("PYSANDBOX_AUDIT_KEY", None)
    from pysandbox.audit.verify import verify_log

    start = time.perf_counter()
    verdict = verify_log()
    elapsed = time.perf_counter() - start
    os.environ.pop("PYSANDBOX_AUDIT_KEY", None)
    if not verdict.ok:
        raise SystemExit(f"verify failed: {verdict.line()}")
    return verdict.count / elapsed


def scan_rate(db: Path) -> float:
    """The reference for verify: reading the same rows back from plain SQLite, nothing checked."""
    conn = sqlite3.connect(db)
    conn.text_factory = bytes
    start = time.perf_counter()
    count = 0
    cur = conn.execute("SELECT seq, body FROM events ORDER BY seq")
    while rows := cur.fetchmany(4096):
        count += len(rows)
    elapsed = time.perf_counter() - start
    conn.close()
    return count / elapsed


def fresh(root: Path, name: str) -> Path:
    path = root / name
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir()
    return path


Row = tuple[str, float, float, float | None]


def median_pair(repeat: int, ours: Callable[[], float], ref: Callable[[], float]) -> tuple[float, float]:
    """Medians of `repeat` runs of each, taking turns so that both meet the same noise."""
    a, b = [], []
    for _ in range(repeat):
        a.append(ours())
        b.append(ref())
    return statistics.median(a), statistics.median(b)


def append_rows(root: Path, args: argparse.Namespace) -> list[Row]:
    rows: list[Row] = []
    for mode, total, writers in (
        (BATCHED, args.events, 1),
        (BATCHED, args.events, args.writers),
        (PER_EVENT, args.fsync_events, 1),
        (PER_EVENT, args.fsync_events, args.writers),
    ):

        def ours(total: int = total, mode: str = mode, writers: int = writers) -> float:
            return run_writers("pysandbox", fresh(root, "psb"), total, mode, writers)

        def ref(total: int = total, mode: str = mode, writers: int = writers) -> float:
            db = fresh(root, "plain") / "plain.db"
            prepare_plain(db)
            return run_writers("plain", db, total, mode, writers)

        what = (
            f"fsync per {BATCH_EVENTS} events or {BATCH_SECONDS * 1000:.0f} ms"
            if mode == BATCHED
            else "fsync per event"
        )
        label = f"append, {what}, {writers} writer{'s' if writers > 1 else ''}"
        rows.append(
            (label, *median_pair(args.repeat, ours, ref), TARGETS["batched" if mode == BATCHED else "fsync"])
        )
    return rows


def verify_rows(root: Path, args: argparse.Namespace) -> list[Row]:
    logs = fresh(root, "logs")
    plain = logs / "plain.db"
    prepare_plain(plain)
    write_plain(plain, args.events, BATCHED, 0)
    rows: list[Row] = []
    for key, label, target in (
        (None, "verify, sha256", TARGETS["verify"]),
        ("bench-key", "verify, hmac-sha256", None),
    ):
        home = fresh(root, f"verify-{label[-6:]}")
        if key:
            os.environ["PYSANDBOX_AUDIT_KEY"] = key
        write_pysandbox(home, args.events, BATCHED, 0)
        os.environ.pop("PYSANDBOX_AUDIT_KEY", None)

        def ours(home: Path = home, key: str | None = key) -> float:
            return verify_rate(home, key)

        ours_rate, ref = median_pair(args.repeat, ours, lambda: scan_rate(plain))
        rows.append((f"{label} ({args.events} events)", ours_rate, ref, target))
    return rows


def load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} {five:.2f} {fifteen:.2f}"


def main() -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--events", type=int, default=100_000, help="events per batched run and verified log")
    ap.add_argument("--fsync-events", type=int, default=2_000, help="events per fsync-per-event run")
    ap.add_argument("--writers", type=int, default=8)
    ap.add_argument("--repeat", type=int, default=3, help="runs per figure (the median is shown)")
    ap.add_argument("--dir", default="/var/tmp", help="where the databases go (a real disk, not tmpfs)")
    args = ap.parse_args()
    cpus = len(os.sched_getaffinity(0))
    print(
        f"load average at start: {load()} ({cpus} CPUs); SQLite {sqlite3.sqlite_version}, "
        f"Python {sys.version.split()[0]}; databases in {args.dir}"
    )
    root = Path(tempfile.mkdtemp(prefix="psb-bench-audit-", dir=args.dir))
    try:
        rows = append_rows(root, args) + verify_rows(root, args)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    width = max(len(r[0]) for r in rows)
    print(f"{'measure':<{width}}  {'pysandbox':>10}  {'plain sqlite':>12}  {'ratio':>5}  {'target':>8}  met")
    for label, ours, ref, target in rows:
        met = "-" if target is None else ("yes" if ours >= target else "no")
        shown = "-" if target is None else f"{target:,.0f}"
        print(f"{label:<{width}}  {ours:>10,.0f}  {ref:>12,.0f}  {ours / ref:>5.2f}  {shown:>8}  {met}")
    print(
        f"(events/s, median of {args.repeat}; the plain SQLite reference for verify is a scan of the "
        "same rows with no checks)"
    )
    print(f"load average at end: {load()}")
    return 0


if __name__ == "__main__":
    if sys.argv[1:2] == ["--worker"]:
        kind, target, n, mode, wid = sys.argv[2:7]
        worker(kind, target, int(n), mode, int(wid))
        raise SystemExit(0)
    raise SystemExit(main())
