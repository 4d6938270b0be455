"""`audit verify` and `audit checkpoint`: walk the chain of the store, compare with checkpoints.

What verify proves, and where:
- every record quotes the digest of the record before it (the first quotes 64 zeros): Python
  hashes each record's canonical bytes (chain.walk_chain), in worker processes over ranges of
  seq for a large log; the parent joins the ranges at their boundaries;
- the head record, which no later record quotes, matches its stored digest (the seal that an
  attacker without PYSANDBOX_AUDIT_KEY cannot forge);
- seq runs 1..N without a hole, and up to the highest seq ever issued (truncation);
- each body starts with its own seq (the same comparison as the link: each record's expected
  prefix); the indexed time, type and sandbox id are generated from the body by SQLite and
  cannot differ from it, so verify reads the body alone;
- in-log and exported checkpoints still find their digest at their seq.
Stored digests of other records are not read on the way: a break in the chain is diagnosed
afterwards (the record before it edited, or this one not chaining).
"""

from __future__ import annotations

import gc
import marshal
import os
import signal
import time

from pysandbox.audit.chain import (
    ALG_HMAC,
    ALG_SHA256,
    GENESIS,
    KEY_ENV,
    PROBLEMS,
    Hasher,
    Verdict,
    Walk,
    env_key,
    walk_chain,
)
from pysandbox.audit.checkpoint import Checkpoint
from pysandbox.audit.store import Store
from pysandbox.paths import check_absent
from pysandbox.types import UserError


def verify_log(
    store: Store | None = None,
    checkpoint: Checkpoint | None = None,
    checkpoint_origin: str = "the checkpoint",
) -> Verdict:
    """The verdict on the whole log; UserError (exit 2) when it cannot be checked at all."""
    key = env_key()
    store = store or Store(key=key, create=False)
    if not store.ready():
        check_absent(store.path)  # a home that is not a directory is no empty log
        return _empty_verdict(checkpoint, checkpoint_origin)
    meta = store.meta()
    alg = meta.get("alg", ALG_SHA256)
    if alg == ALG_HMAC and key is None:
        raise UserError(f"the audit log {store.path} is keyed (HMAC-SHA256): set {KEY_ENV} to verify it")
    if alg != ALG_HMAC and key is not None:
        # either the key was set after the log was created, or someone replaced a keyed chain
        return Verdict(
            False,
            0,
            0,
            "",
            1,
            f"the log is not keyed but {KEY_ENV} is set: its chain cannot be "
            "authenticated (rewritten without the key, or the key set after it was created)",
        )
    hasher = Hasher(key)
    if key is not None and meta.get("key_check") != hasher.key_check():
        raise UserError(f"{KEY_ENV} is not the key of the audit log {store.path}: set the right key")
    if checkpoint is not None and checkpoint.alg != alg:
        raise UserError(
            f"{checkpoint_origin} was taken with {checkpoint.alg} but the log uses {alg}: compare "
            "checkpoints of this log only"
        )
    anchors = {seq: (digest, "the in-log checkpoint") for seq, digest in store.checkpoints().items()}
    if checkpoint is not None and checkpoint.seq > 0:
        anchors[checkpoint.seq] = (checkpoint.head, checkpoint_origin)
    return _walk(store, hasher, anchors)


# records per worker process below which one process walks them all: a fork and a connection
# cost a few ms, ~3,000 records' walk (measured: 10,000 records walk faster in two processes,
# 5,000 in one)
PARALLEL_MIN = 5_000
MAX_WORKERS = 8
_RANK = {"gap": 0, "seq": 1, "digest": 2, "link": 3}


def _walk(store: Store, hasher: Hasher, anchors: dict[int, tuple[str, str]]) -> Verdict:
    """Walk the chain, in parallel over ranges of seq when the log is large, and name the first
    bad seq, whichever check found it."""
    lo, hi = store.bounds()
    issued = store.max_issued()
    problems: list[tuple[int, int, str]] = []  # (seq, rank among problems at one seq, message)
    if lo < 1 and hi:
        problems.append((lo, _RANK["seq"], PROBLEMS["seq"]))
    ranges = _split(lo, hi) if hi else []
    walks = _walk_ranges(store, hasher, ranges, set(anchors)) if ranges else []
    prev: str | None = GENESIS if lo == 1 else None
    marks: dict[int, str] = {}
    count = 0
    for (first, last), walk in zip(ranges, walks, strict=True):
        count += walk.count
        marks.update(walk.marks)
        found = []
        if walk.bad_seq is not None:
            found.append(_diagnose(store, hasher, walk.bad_seq, walk.kind))
        if prev is not None and walk.first_claim is not None and walk.first_claim != prev:
            found.append(_diagnose(store, hasher, first, "link"))
        if found or walk.count != last - first + 1:
            # seqs in a walk are positions: a missing record before them shifts them all
            gap = store.first_gap(lo, min(found)[0] if found else last)
            if gap is not None:
                found.append((gap, _RANK["gap"], PROBLEMS["gap"]))
        if found:
            problems.append(min(found))
            break  # whatever the later ranges hold comes after this seq
        prev = walk.last
    else:
        if hi and prev is not None and _stored_digest(store, hi) != prev:
            # the head is the one record no later record quotes: its stored digest seals it
            problems.append((hi, _RANK["digest"], PROBLEMS["digest"]))
    if lo > 1:
        problems.append((1, _RANK["gap"], PROBLEMS["gap"]))
    problems += _anchor_problems(anchors, marks, hi)
    if issued > hi:
        problems.append((hi + 1, 9, f"log ends at seq {hi} but seq {issued} was issued (truncated)"))
    if problems:
        seq, _, message = min(problems)
        return Verdict(False, seq - 1, seq - 1, "", seq, message)
    return Verdict(True, count, hi, prev or GENESIS)


def _diagnose(store: Store, hasher: Hasher, seq: int, kind: str) -> tuple[int, int, str]:
    """The record at `seq` broke the walk (kind: seq or link). If it, or the record
    before it, no longer matches its own stored digest, it was edited: that comes first."""
    problems = [(seq, _RANK[kind], PROBLEMS[kind])]
    for s in (seq - 1, seq):
        row = store.record(s) if s >= 1 else None
        if row is not None and hasher.digest(row[0]).hex() != row[1]:
            problems.append((s, _RANK["digest"], PROBLEMS["digest"]))
    return min(problems)


def _stored_digest(store: Store, seq: int) -> str | None:
    row = store.record(seq)
    return None if row is None else row[1]


def _anchor_problems(
    anchors: dict[int, tuple[str, str]], digests: dict[int, str], head_seq: int
) -> list[tuple[int, int, str]]:
    """Checkpoints: the digest they saw at their seq, which the walk must find there again."""
    problems = []
    for seq, (digest, origin) in anchors.items():
        if seq > head_seq:
            message = f"log ends at seq {head_seq} but {origin} has seq {seq} (truncated)"
            problems.append((head_seq + 1, 8, message))
        elif digests.get(seq, digest) != digest:
            problems.append((seq, 5, f"chain differs from {origin} (history up to here rewritten)"))
    return problems


def _split(lo: int, hi: int) -> list[tuple[int, int]]:
    workers = _workers(hi - lo + 1)
    step = -(-(hi - lo + 1) // workers)
    return [(a, min(hi, a + step - 1)) for a in range(lo, hi + 1, step)]


def _workers(records: int) -> int:
    """One per CPU this process may use, each with at least PARALLEL_MIN records."""
    try:
        cpus = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # pragma: no cover - not Linux
        cpus = os.cpu_count() or 1
    return max(1, min(cpus, MAX_WORKERS, records // PARALLEL_MIN))


def _walk_ranges(store: Store, hasher: Hasher, ranges: list[tuple[int, int]], wanted: set[int]) -> list[Walk]:
    """One worker per range: forked children for all but the first, which this process walks.

    SQLite connections must not cross a fork: this store's connection is closed first and
    every worker opens its own (the caller must hold no other connection to the log)."""
    if len(ranges) == 1:
        return [_walk_range(store, hasher, *ranges[0], wanted)]
    store.close()
    children: list[tuple[int, int, tuple[int, int]]] = []
    try:
        for lo, hi in ranges[1:]:
            children.append(_fork_walker(store, hasher, lo, hi, wanted))
        results = [_walk_range(store, hasher, *ranges[0], wanted)]
        while children:
            pid, fd, (lo, hi) = children.pop(0)
            result = _collect(pid, fd)
            # a worker that died is no pass: walk its range here instead
            results.append(result if result is not None else _walk_range(store, hasher, lo, hi, wanted))
        return results
    finally:
        for pid, fd, _ in children:
            os.close(fd)
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)


def _fork_walker(
    store: Store, hasher: Hasher, lo: int, hi: int, wanted: set[int]
) -> tuple[int, int, tuple[int, int]]:
    rfd, wfd = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - coverage does not follow forked children
        code = 1
        try:
            os.close(rfd)
            walk = _walk_range(Store(store.path, create=False), hasher, lo, hi, wanted)
            with os.fdopen(wfd, "wb") as out:
                out.write(marshal.dumps(walk.to_wire()))
            code = 0
        finally:
            os._exit(code)
    os.close(wfd)
    return pid, rfd, (lo, hi)


def _collect(pid: int, fd: int) -> Walk | None:
    try:
        with os.fdopen(fd, "rb") as pipe:
            data = pipe.read()
    finally:
        _, status = os.waitpid(pid, 0)
    if status != 0 or not data:
        return None
    return Walk.from_wire(marshal.loads(data))


def _walk_range(store: Store, hasher: Hasher, lo: int, hi: int, wanted: set[int]) -> Walk:
    # the walk makes a tuple per row and keeps none: collecting cycles among them is wasted work
    collecting = gc.isenabled()
    gc.disable()
    try:
        return walk_chain(store.records(lo, hi), lo, hasher, [s for s in wanted if lo <= s <= hi])
    finally:
        if collecting:
            gc.enable()
        store.close()


def _empty_verdict(checkpoint: Checkpoint | None, origin: str) -> Verdict:
    if checkpoint is not None and checkpoint.seq > 0:
        return Verdict(
            False, 0, 0, "", 1, f"the log is empty but {origin} has seq {checkpoint.seq} (truncated)"
        )
    return Verdict(True, 0, 0, "0" * 64)


def take_checkpoint(store: Store | None = None) -> tuple[Verdict, Checkpoint | None]:
    """A checkpoint of the head, only after the chain up to it verifies."""
    store = store or Store(key=env_key(), create=False)
    verdict = verify_log(store)
    if not verdict.ok:
        return verdict, None
    alg = store.meta().get("alg", ALG_SHA256) if store.ready() else Hasher(env_key()).alg
    cp = Checkpoint(verdict.head_seq, verdict.count, verdict.head_hash, alg, time.time_ns(), str(store.path))
    return verdict, cp
