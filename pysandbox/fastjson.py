"""JSON for the `pysandbox run` fast path: CPython's C scanner and encoder (`_json`) used directly.

`import json` brings `re` with it (json.scanner), and the two cost more to import than the rest
of a launch on the machines we measured. The C scanner and encoder are what `json.loads` and
`json.dumps` run anyway; this module only builds them without the Python wrappers.
"""

from __future__ import annotations

from _json import encode_basestring, encode_basestring_ascii, make_encoder, make_scanner

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


def _constant(name: str) -> float:
    raise ValueError(f"JSON constant {name} is not accepted")


class _Context:
    """The attributes `_json.make_scanner` reads from a json.JSONDecoder."""

    strict = True
    object_hook = None
    object_pairs_hook = None
    parse_float = float
    parse_int = int
    parse_constant = staticmethod(_constant)


_scan = make_scanner(_Context())  # type: ignore[arg-type]  # it reads only these attributes


def _refuse(value: object) -> object:
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


# json.dumps defaults: ASCII output, ", " and ": " separators, circular references checked.
_encode = make_encoder({}, _refuse, encode_basestring_ascii, None, ": ", ", ", False, False, False)
# json.dumps(sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False,
# default=str); JSONEncoder.encode would build this C encoder again on every call.
_canonical = make_encoder(None, str, encode_basestring, None, ":", ",", True, False, False)

quote = encode_basestring  # a str as a JSON string, non-ASCII characters kept


def loads(text: str | bytes) -> Any:
    """One JSON document, as json.loads reads it; ValueError when it is not one."""
    if isinstance(text, bytes):
        text = text.decode("utf-8")
    text = text.strip(" \t\n\r")
    try:
        value, end = _scan(text, 0)
    except StopIteration:
        raise ValueError("not a JSON document") from None
    if end != len(text):
        raise ValueError("extra data after the JSON document")
    return value


def dumps(value: Any) -> str:
    """json.dumps(value) with its defaults (NaN and infinities refused)."""
    return "".join(_encode(value, 0))


def canonical(value: Any) -> str:
    """Compact JSON with sorted keys and non-ASCII characters kept, NaN and infinities refused,
    anything else as its str(): the audit log's record bytes. TypeError when the keys of a
    mapping are of types that do not sort."""
    return "".join(_canonical(value, 0))
