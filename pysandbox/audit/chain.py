"""Tamper evidence: canonical record bytes, the hash chain, HMAC, and the chain walk.

A record's canonical bytes are compact UTF-8 JSON with the envelope keys in this fixed order,
then the event's own fields with sorted keys:

    {"seq":N,"prev":"<hex>","time":NS,"type":T,"sandbox":{"id":I,"name":M},"user":U,"profile":P,"fields":{...}}

`prev` is the digest of the previous record's canonical bytes (64 zeros for seq 1). The digest
is SHA-256, or HMAC-SHA256 with `PYSANDBOX_AUDIT_KEY`, so that whoever can edit the database but
does not hold the key cannot recompute the chain. Because the prefix is fixed, `verify` checks
seq and prev by comparing each record's first bytes with the prefix they must be, without
parsing JSON. (The store's indexed time, type and sandbox id are generated from the record.)

On the `run` fast path: no json module, hashlib only when verifying, bulk writing or keyed.
"""

from __future__ import annotations

import os
from bisect import bisect_left

from pysandbox.fastjson import canonical
from pysandbox.fastjson import quote as encode_basestring

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing on the run path
if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Sequence
    from typing import Any

GENESIS = "0" * 64
KEY_ENV = "PYSANDBOX_AUDIT_KEY"
ALG_SHA256 = "sha256"
ALG_HMAC = "hmac-sha256"
_KEY_CHECK_LABEL = b"pysandbox audit key check"


def _jstr(value: str | None) -> str:
    return "null" if value is None else encode_basestring(value)


def fields_json(fields: dict[str, Any]) -> str:
    """The canonical JSON of an event's own fields; NaN and infinities are refused (not JSON)."""
    try:
        return canonical(fields)
    except TypeError:  # keys of mixed types do not sort: the slow encoder stringifies them first
        return _canon(fields)


def _canon(value: Any) -> str:
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, str):
        return encode_basestring(value)
    if isinstance(value, int):
        return int.__repr__(value)
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            raise ValueError(f"audit field value {value!r} is not JSON")
        return float.__repr__(value)
    if isinstance(value, dict):
        items = sorted((k if isinstance(k, str) else _key(k), v) for k, v in value.items())
        return "{" + ",".join(encode_basestring(k) + ":" + _canon(v) for k, v in items) + "}"
    if isinstance(value, list | tuple):
        return "[" + ",".join(_canon(v) for v in value) + "]"
    return encode_basestring(str(value))


def _key(key: object) -> str:
    return _canon(key).strip('"') if isinstance(key, bool | int | float) or key is None else str(key)


def envelope_tail(
    type_name: str, sandbox_id: str | None, sandbox_name: str | None, user: str, profile: str | None
) -> str:
    """What follows `"time":NS,` in every record of one type from one sandbox, up to the fields."""
    return (
        f'"type":{_jstr(type_name)},"sandbox":{{"id":{_jstr(sandbox_id)},"name":{_jstr(sandbox_name)}}},'
        f'"user":{_jstr(user)},"profile":{_jstr(profile)},"fields":'
    )


def canonical_body(seq: int, prev: str, time_ns: int, tail: str, fields_text: str) -> str:
    """The record; `tail` from envelope_tail. (The store inlines this format in its append loop.)"""
    return f'{{"seq":{seq},"prev":"{prev}","time":{time_ns},{tail}{fields_text}}}'


def env_key() -> bytes | None:
    key = os.environ.get(KEY_ENV)
    return key.encode() if key else None


class Hasher:
    """Digest of canonical bytes: SHA-256, or HMAC-SHA256 when a key is given."""

    def __init__(self, key: bytes | None, light: bool = False) -> None:
        """light: CPython's built-in SHA-256 instead of OpenSSL's; the same digests, slower per
        record, but ~2-4 ms less to import, which is what one `pysandbox run` pays."""
        self.key = key
        self.light = light and not key
        self.alg = ALG_HMAC if key else ALG_SHA256
        self.digest: Callable[[bytes], bytes] = _hmac_sha256(key) if key else _sha256(self.light)

    def hexdigest(self) -> Callable[[bytes], str]:
        """The hex digest as one call: the append loop's hot path."""
        if self.key is None and not self.light:
            from hashlib import sha256

            hexdigest: Callable[[Any], str] = type(sha256()).hexdigest
            return lambda body: hexdigest(sha256(body))
        digest = self.digest
        return lambda body: digest(body).hex()

    def hex_bytes_many(self) -> Callable[[Sequence[bytes]], Iterable[bytes]]:
        """Hex digests (as ASCII bytes, as they appear in the records) of many records: for an
        unkeyed chain, C-level maps and no Python frame per record."""
        from binascii import hexlify

        if self.key is None:
            from hashlib import sha256

            # one sha256(body) per record: fewer instructions than copies of an empty hash
            # followed by update (EVP_MD_CTX_copy and a cleanse per copy)
            raw: Callable[[Any], bytes] = type(sha256()).digest
            return lambda bodies: map(hexlify, map(raw, map(sha256, bodies)))
        return lambda bodies: map(hexlify, map(self.digest, bodies))

    def key_check(self) -> str:
        """A value stored in the log that tells a wrong key from tampering, without revealing the key."""
        return _hmac_sha256(self.key)(_KEY_CHECK_LABEL).hex() if self.key else ""


def _sha256(light: bool) -> Callable[[bytes], bytes]:
    if light:
        try:
            import _sha256

            builtin: Callable[[bytes], Any] = _sha256.sha256
            return lambda body: builtin(body).digest()
        except ImportError:  # pragma: no cover - Python 3.12 renamed it
            pass
    from hashlib import sha256

    return lambda body: sha256(body).digest()


def _hmac_sha256(key: bytes) -> Callable[[bytes], bytes]:
    """RFC 2104 with the padded-key states computed once: per record two copies instead of a key setup."""
    from hashlib import sha256

    if len(key) > 64:
        key = sha256(key).digest()
    key = key.ljust(64, b"\0")
    inner = sha256(bytes(b ^ 0x36 for b in key))
    outer = sha256(bytes(b ^ 0x5C for b in key))

    def digest(body: bytes) -> bytes:
        i = inner.copy()
        i.update(body)
        o = outer.copy()
        o.update(i.digest())
        return o.digest()

    return digest


class Verdict:
    __slots__ = ("bad_seq", "count", "head_hash", "head_seq", "ok", "problem")

    def __init__(
        self,
        ok: bool,
        count: int,
        head_seq: int,
        head_hash: str,
        bad_seq: int | None = None,
        problem: str = "",
    ) -> None:
        self.ok, self.count, self.head_seq, self.head_hash = ok, count, head_seq, head_hash
        self.bad_seq, self.problem = bad_seq, problem

    def line(self) -> str:
        if self.ok and self.count == 0:
            return "ok: the audit log is empty"
        if self.ok:
            return f"ok: {self.count} events verified (seq 1..{self.head_seq}), head {self.head_hash}"
        return f"audit log tampered at seq {self.bad_seq}: {self.problem}"


PROBLEMS = {
    "gap": "record missing (deleted)",
    "seq": "record carries another sequence number than its position (reordered or renumbered)",
    "digest": "content does not match its digest (record edited or forged)",
    "link": "does not chain to the previous record (previous record rewritten, or this one forged)",
}


class Walk:
    """What the walk of one range of consecutive records found.

    first_claim: the `prev` the first record quotes (the caller checks it against the record
    before the range); last: the hex digest of the last record walked; bad_seq: the first seq
    whose record is not as the chain says, and `kind` (a key of PROBLEMS: seq or link);
    marks: the digests at the asked seqs (checkpoints).
    """

    __slots__ = ("bad_seq", "count", "first_claim", "first_seq", "kind", "last", "marks")

    def __init__(self, first_seq: int = 1) -> None:
        self.first_seq = first_seq
        self.count = 0
        self.first_claim: str | None = None
        self.last: str | None = None
        self.bad_seq: int | None = None
        self.kind = ""
        self.marks: dict[int, str] = {}

    def to_wire(self) -> tuple[int, int, str | None, str | None, int | None, str, dict[int, str]]:
        """Plain values, for marshal between processes."""
        return (self.first_seq, self.count, self.first_claim, self.last, self.bad_seq, self.kind, self.marks)

    @classmethod
    def from_wire(cls, data: Any) -> Walk:
        walk = cls()
        (walk.first_seq, walk.count, walk.first_claim, walk.last, walk.bad_seq, walk.kind, walk.marks) = data
        return walk


# What every record must start with: its position and the digest of the record before it.
_PREFIX = b'{"seq":%d,"prev":"%s",'


def walk_chain(
    batches: Iterable[Sequence[bytes]],
    first_seq: int,
    hasher: Hasher,
    marks: Iterable[int] = (),
) -> Walk:
    """Hash every record (its canonical bytes) of a range of consecutive seqs and check that
    each starts with its own seq and the digest of the record before it.

    Per batch: the digests, the expected prefixes and their comparison are C-level maps over
    the batch, with no Python frame per record (that is the verify rate). The walk stops at the
    first bad record. Seqs are positions from first_seq: after a missing record they are off,
    but the caller reports the gap, which comes first.
    """
    hex_many = hasher.hex_bytes_many()
    prefix = _PREFIX.__mod__
    startswith = bytes.startswith
    wanted = sorted(marks)
    walk = Walk(first_seq)
    pos = first_seq
    last: bytes | None = None
    for bodies in batches:
        digests = list(hex_many(bodies))
        if last is None:
            last = _quoted_prev(bodies[0], pos)
            walk.first_claim = last.decode("ascii", "replace")
        n = len(bodies)
        prevs = [last]
        prevs += digests[:-1]
        if not all(map(startswith, bodies, map(prefix, zip(range(pos, pos + n), prevs, strict=True)))):
            i, walk.kind = _first_bad(bodies, pos, prevs)
            walk.bad_seq = pos + i
            walk.count += i
            _take_marks(walk, wanted, pos, digests[:i])
            return walk
        _take_marks(walk, wanted, pos, digests)
        last = digests[-1]
        pos += n
        walk.count += n
    walk.last = last.decode() if last is not None and walk.count else None
    return walk


def _quoted_prev(body: bytes, seq: int) -> bytes:
    """The `prev` a record quotes, cut at its offset."""
    start = 16 + len(str(seq))
    return body[start : start + 64]


def _first_bad(bodies: Sequence[bytes], pos: int, prevs: list[bytes]) -> tuple[int, str]:
    """Index and kind of the first record of a batch that is not as expected (slow path)."""
    for i, body in enumerate(bodies):
        seq = pos + i
        if not body.startswith(b'{"seq":%d,' % seq):
            return i, "seq"
        if not body.startswith(_PREFIX % (seq, prevs[i])):
            return i, "link"
    raise AssertionError("a batch that did not compare equal has no bad record")


def _take_marks(walk: Walk, wanted: list[int], pos: int, digests: list[bytes]) -> None:
    """The digests at the wanted seqs (sorted) that fall in this batch: two bisections per
    batch, not a pass over every checkpoint of the log."""
    for seq in wanted[bisect_left(wanted, pos) : bisect_left(wanted, pos + len(digests))]:
        walk.marks[seq] = digests[seq - pos].decode()
