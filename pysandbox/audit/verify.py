"""`audit verify` and `audit checkpoint`: walk the chain of the store, compare with checkpoints."""

from __future__ import annotations

import time

from pysandbox.audit.chain import (
    ALG_HMAC,
    ALG_SHA256,
    KEY_ENV,
    PROBLEMS,
    Hasher,
    Verdict,
    env_key,
    first_digest_mismatch,
)
from pysandbox.audit.checkpoint import Checkpoint
from pysandbox.audit.store import Store
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


def _walk(store: Store, hasher: Hasher, anchors: dict[int, tuple[str, str]]) -> Verdict:
    """Two halves at once: SQLite checks positions, links and index copies in C (releasing the
    GIL) while Python proves every stored digest; the verdict names the first bad seq."""
    import threading

    outcome: list[tuple[int, str] | BaseException | None] = []

    def structure() -> None:
        reader = Store(store.path, create=False)
        try:
            outcome.append(reader.first_structural_problem())
        except BaseException as exc:  # re-raised below: a check that did not run is no pass
            outcome.append(exc)
        finally:
            reader.close()

    thread = threading.Thread(target=structure, daemon=True)
    thread.start()
    bad_digest, count = first_digest_mismatch(store.chain_rows(), hasher)
    thread.join()
    found = outcome[0] if outcome else RuntimeError("the structure check did not run")
    if isinstance(found, BaseException):
        raise found
    problems: list[tuple[int, int, str]] = []  # (seq, rank among problems at one seq, message)
    if found is not None:
        problems.append((found[0], _RANK[found[1]], PROBLEMS[found[1]]))
    if bad_digest is not None:
        problems.append((bad_digest, _RANK["digest"], PROBLEMS["digest"]))
    head_seq, head_digest, _ = store.head()
    problems += _anchor_problems(store, anchors, head_seq)
    issued = store.max_issued()
    if issued > head_seq:
        problems.append(
            (head_seq + 1, 9, f"log ends at seq {head_seq} but seq {issued} was issued (truncated)")
        )
    if problems:
        seq, _, message = min(problems)
        return Verdict(False, seq - 1, seq - 1, "", seq, message)
    return Verdict(True, count, head_seq, head_digest)


_RANK = {"gap": 0, "seq": 1, "digest": 2, "link": 3, "columns": 4}


def _anchor_problems(
    store: Store, anchors: dict[int, tuple[str, str]], head_seq: int
) -> list[tuple[int, int, str]]:
    """Checkpoints: the digest they saw at their seq, which must still be there."""
    problems = []
    stored = store.digests_at([s for s in anchors if s <= head_seq]) if anchors else {}
    for seq, (digest, origin) in anchors.items():
        if seq > head_seq:
            message = f"log ends at seq {head_seq} but {origin} has seq {seq} (truncated)"
            problems.append((head_seq + 1, 8, message))
        elif stored.get(seq, digest) != digest:
            problems.append((seq, 5, f"chain differs from {origin} (history up to here rewritten)"))
    return problems


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
