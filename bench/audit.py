"""Audit log benchmark: durable append rate (1 and 8 writer processes, fsync'd batches and an
fsync per event) and `verify` rate, side by side with a plain SQLite insert loop of the same rows.

    .venv/bin/python bench/audit.py [--events 100000] [--fsync-events 2000] [--writers 8]

Prints one table; ratios are pysandbox / plain SQLite from the same run on the same machine.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

BATCH = 256  # events per fsync'd commit in the batched mode
TARGETS = {"batched": 50_000.0, "fsync": 500.0, "verify": 500_000.0}

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


def write_pysandbox(home: Path, n: int, every: int, wid: int) -> None:
    os.environ["PYSANDBOX_HOME"] = str(home)
    from pysandbox.audit.recorder import Recorder

    rec = Recorder(f"{wid:04d}{os.getpid():012x}", f"bench-{wid}", "strict")
    for i in range(n):
        rec.event("exit", durable=(i + 1) % every == 0, **fields(i))
    rec.close()


def write_plain(db: Path, n: int, every: int, wid: int) -> None:
    """The reference: the same JSON rows, WAL, synchronous=FULL, BEGIN IMMEDIATE, no hashing."""
    import json

    conn = sqlite3.connect(db, timeout=60, isolation_level=None)
    conn.execute("PRAGMA synchronous=FULL")
    sandbox = f"{wid:04d}{os.getpid():012x}"
    batch: list[tuple[int, str, str, str]] = []
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
        if (i + 1) % every == 0 or i == n - 1:
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


def run_writers(kind: str, target: Path, total: int, every: int, writers: int) -> float:
    """Events per second of `writers` processes writing `total` events together (wall clock)."""
    per = total // writers
    if writers == 1:
        start = time.perf_counter()
        (write_pysandbox if kind == "pysandbox" else write_plain)(target, per, every, 0)
        return per / (time.perf_counter() - start)
    procs = [
        subprocess.Popen(
            worker_argv(kind, target, per, every, w), stdin=subprocess.PIPE, stdout=subprocess.PIPE
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


def worker_argv(kind: str, target: Path, n: int, every: int, wid: int) -> list[str]:
    return [sys.executable, __file__, "--worker", kind, str(target), str(n), str(every), str(wid)]


def worker(kind: str, target: str, n: int, every: int, wid: int) -> None:
    if kind == "pysandbox":
        os.environ["PYSANDBOX_HOME"] = target
        import importlib

        for module in ("pysandbox.audit.recorder", "pysandbox.audit.store"):  # before the clock starts
            importlib.import_module(module)
    print("ready", flush=True)
    sys.stdin.readline()
    if kind == "pysandbox":
        write_pysandbox(Path(target), n, every, wid)
    else:
        write_plain(Path(target), n, every, wid)


def verify_rate(home: Path, key: str | None) -> tuple[float, int]:
    os.environ["PYSANDBOX_HOME"] = str(home)
    if key:
        os.environ["PYSANDBOX_AUDIT_KEY"] = key
    else:
        os.environ.pop("PYSANDBOX_AUDIT_KEY", None)
    from pysandbox.audit.verify import verify_log

    start = time.perf_counter()
    verdict = verify_log()
    elapsed = time.perf_counter() - start
    if not verdict.ok:
        raise SystemExit(f"verify failed: {verdict.line()}")
    return verdict.count / elapsed, verdict.count


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


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--events", type=int, default=100_000, help="events per batched run")
    ap.add_argument("--fsync-events", type=int, default=2_000, help="events per fsync-per-event run")
    ap.add_argument("--writers", type=int, default=8)
    ap.add_argument("--dir", default="/var/tmp", help="where the databases go (a real disk, not tmpfs)")
    args = ap.parse_args()
    root = Path(tempfile.mkdtemp(prefix="psb-bench-audit-", dir=args.dir))
    rows: list[tuple[str, float, float, str, float | None]] = []
    try:
        for label, total, every, writers in (
            ("append, fsync per 256 events, 1 writer", args.events, BATCH, 1),
            (f"append, fsync per 256 events, {args.writers} writers", args.events, BATCH, args.writers),
            ("append, fsync per event, 1 writer", args.fsync_events, 1, 1),
            (f"append, fsync per event, {args.writers} writers", args.fsync_events, 1, args.writers),
        ):
            home = fresh(root, "psb")
            ours = run_writers("pysandbox", home, total, every, writers)
            plain_db = fresh(root, "plain") / "plain.db"
            prepare_plain(plain_db)
            ref = run_writers("plain", plain_db, total, every, writers)
            target = TARGETS["batched" if every > 1 else "fsync"]
            rows.append((label, ours, ref, "events/s", target))
            if every > 1 and writers == 1:
                keep_home, keep_plain = root / "verify-psb", root / "verify-plain.db"
                shutil.copytree(home, keep_home)
                shutil.copy(plain_db, keep_plain)
        ref_scan = scan_rate(root / "verify-plain.db")
        ours, count = verify_rate(root / "verify-psb", None)
        rows.append((f"verify sha256 ({count} events)", ours, ref_scan, "events/s", TARGETS["verify"]))
        keyed = fresh(root, "keyed")
        os.environ["PYSANDBOX_AUDIT_KEY"] = "bench-key"
        run_writers("pysandbox", keyed, args.events, BATCH, 1)
        ours, count = verify_rate(keyed, "bench-key")
        rows.append((f"verify hmac-sha256 ({count} events)", ours, ref_scan, "events/s", None))
        os.environ.pop("PYSANDBOX_AUDIT_KEY", None)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    print(f"{'measure':<44} {'pysandbox':>12} {'plain sqlite':>13} {'ratio':>6}  {'target':>9}  ok")
    for label, ours, ref, _unit, target in rows:
        ok = "-" if target is None else ("yes" if ours >= target else "NO")
        shown = "-" if target is None else f"{target:,.0f}"
        print(f"{label:<44} {ours:>12,.0f} {ref:>13,.0f} {ours / ref:>6.2f}  {shown:>9}  {ok}")
    print("(events/s; the plain SQLite reference for verify is a scan of the same rows with no checks)")
    return 0


if __name__ == "__main__":
    if sys.argv[1:2] == ["--worker"]:
        kind, target, n, every, wid = sys.argv[2:7]
        worker(kind, target, int(n), int(every), int(wid))
        raise SystemExit(0)
    raise SystemExit(main())
