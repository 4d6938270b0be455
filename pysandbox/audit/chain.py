"""Tamper evidence: canonical record bytes, the hash chain, HMAC, and the chain walk.

A record's canonical bytes are compact UTF-8 JSON with the envelope keys in this fixed order,
then the event's own fields with sorted keys:

    {"seq":N,"prev":"<hex>","time":NS,"type":T,"sandbox":{"id":I,"name":M},"user":U,"profile":P,"fields":{...}}

`prev` is the digest of the previous record's canonical bytes (64 zeros for seq 1). The digest
is SHA-256, or HMAC-SHA256 with `PYSANDBOX_AUDIT_KEY`, so that whoever can edit the database but
does not hold the key cannot recompute the chain. The fixed prefix lets `verify` check position
and linkage with one `startswith` per record instead of parsing JSON.

On the `run` fast path: no json, hashlib only when verifying or keyed, no dataclasses.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from typing import Any

try:
    from _json import encode_basestring  # the C encoder json.dumps(ensure_ascii=False) uses
except ImportError:  # pragma: no cover - other Pythons
    from json.encoder import encode_basestring

GENESIS = "0" * 64
KEY_ENV = "PYSANDBOX_AUDIT_KEY"
ALG_SHA256 = "sha256"
ALG_HMAC = "hmac-sha256"
_KEY_CHECK_LABEL = b"pysandbox audit key check"


def _jstr(value: str | None) -> str:
    return "null" if value is None else encode_basestring(value)


_encode: Callable[[Any], str] | None = None
_encoded = 0


def fields_json(fields: dict[str, Any]) -> str:
    """json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str);
    NaN and infinities are refused (not JSON). The first events of a process go through a small
    encoder here, so a `pysandbox run` does not import json; a process that records many switches
    to json's C encoder."""
    global _encode, _encoded
    if _encode is not None:
        return _encode(fields)
    _encoded += 1
    if _encoded > 32:
        import json

        _encode = json.JSONEncoder(
            sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False, default=str
        ).encode
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


def canonical_body(
    seq: int,
    prev: str,
    time_ns: int,
    type_name: str,
    sandbox_id: str | None,
    sandbox_name: str | None,
    user: str,
    profile: str | None,
    fields_text: str,
) -> str:
    return (
        f'{{"seq":{seq},"prev":"{prev}","time":{time_ns},"type":{_jstr(type_name)},'
        f'"sandbox":{{"id":{_jstr(sandbox_id)},"name":{_jstr(sandbox_name)}}},'
        f'"user":{_jstr(user)},"profile":{_jstr(profile)},"fields":{fields_text}}}'
    )


def env_key() -> bytes | None:
    key = os.environ.get(KEY_ENV)
    return key.encode() if key else None


class Hasher:
    """Digest of canonical bytes: SHA-256, or HMAC-SHA256 when a key is given."""

    def __init__(self, key: bytes | None, light: bool = False) -> None:
        """light: CPython's built-in SHA-256 instead of OpenSSL's; the same digests, about twice as
        slow per record, but ~4 ms less to import, which is what one `pysandbox run` pays."""
        self.key = key
        self.light = light and not key
        self.alg = ALG_HMAC if key else ALG_SHA256
        self.digest: Callable[[bytes], bytes] = _hmac_sha256(key) if key else _sha256(light)

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
    "columns": "its indexed time, type or sandbox id differ from the record (row edited)",
}


def first_digest_mismatch(
    batches: Iterable[list[tuple[int, bytes, str]]], hasher: Hasher
) -> tuple[int | None, int]:
    """(first seq whose stored digest is not the digest of its canonical bytes, rows checked).

    The half of `verify` that needs Python: with the stored digests proven right, the other
    half (positions, links, gaps) is a comparison of stored values that SQLite does in C.
    """
    count = 0
    if hasher.key is None:
        from hashlib import sha256  # inlined: this loop is the verify rate

        for batch in batches:
            for seq, body, stored in batch:
                if sha256(body).hexdigest() != stored:
                    return seq, count + 1
            count += len(batch)
        return None, count
    digest = hasher.digest
    for batch in batches:
        for seq, body, stored in batch:
            if digest(body).hex() != stored:
                return seq, count + 1
        count += len(batch)
    return None, count
