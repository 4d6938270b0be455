"""`audit log` and `audit tail`: filters, `--since` parsing, and the table view."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from pysandbox.audit.events import EVENT_TYPES
from pysandbox.audit.export import event_object
from pysandbox.audit.store import Store, Stored
from pysandbox.paths import check_absent
from pysandbox.types import UserError

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_DURATION = re.compile(r"^(\d+)([smhdw])$")
# the log stores times as SQLite INTEGER nanoseconds: 1677-09-21 .. 2262-04-11 (UTC)
_MIN_NS, _MAX_NS = -(2**63), 2**63 - 1
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_FORMS = "write 1h, 30m, 2d or 2026-01-31T12:00:00Z"


def parse_since(text: str, now_ns: int | None = None) -> int:
    """`1h`, `30m`, `2d`, `45s`, `1w`, or an RFC 3339 time (UTC when no offset): a time in ns.

    Earlier than the log can hold means every event (clamped); later is refused: no event can
    carry such a time, so it is a typo, not an empty answer."""
    now_ns = time.time_ns() if now_ns is None else now_ns
    match = _DURATION.match(text.strip())
    if match:
        digits = match.group(1)
        if len(digits) > 20:  # longer ago than the log reaches (and int() refuses 4,300+ digits)
            return _MIN_NS
        return max(_MIN_NS, now_ns - int(digits) * _UNITS[match.group(2)] * 1_000_000_000)
    try:
        when = datetime.fromisoformat(text.strip().replace("z", "Z"))
    except ValueError:
        raise UserError(f"--since {text!r} is neither a duration nor a time: {_FORMS}") from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    ns = (when - _EPOCH) // timedelta(microseconds=1) * 1000
    if ns > _MAX_NS:
        latest = (_EPOCH + timedelta(microseconds=_MAX_NS // 1000)).strftime("%Y-%m-%dT%H:%M:%SZ")
        raise UserError(
            f"--since {text!r} is after {latest}, the latest time the audit log can hold: "
            f"give an earlier time, or {_FORMS}"
        )
    return max(_MIN_NS, ns)


@dataclass(frozen=True)
class Filter:
    sandbox: str | None = None
    types: tuple[str, ...] = ()
    since_ns: int | None = None
    after_seq: int = 0

    def __post_init__(self) -> None:
        if self.sandbox is not None and not self.sandbox.strip():
            # an empty id prefix would match every sandbox
            raise UserError("--sandbox is empty: give a sandbox id, id prefix or name")

    def sql(self) -> tuple[str, list[object]]:
        clauses: list[str] = []
        params: list[object] = []
        if self.sandbox:
            # an id, a unique id prefix (as docker accepts), or a sandbox name
            name = "json_extract(body, '$.sandbox.name')"
            clauses.append(f"(sandbox_id = ? OR sandbox_id LIKE ? ESCAPE '\\' OR {name} = ?)")
            prefix = self.sandbox.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            params += [self.sandbox, prefix, self.sandbox]
        if self.types:
            clauses.append(f"type IN ({','.join('?' * len(self.types))})")
            params += list(self.types)
        if self.since_ns is not None:
            clauses.append("time_ns >= ?")
            params.append(self.since_ns)
        if self.after_seq:
            clauses.append("seq > ?")
            params.append(self.after_seq)
        return " AND ".join(clauses), params


def check_types(types: Iterable[str]) -> tuple[str, ...]:
    values = list(types)
    if any(not v.replace(",", "").strip() for v in values):
        # no type at all would mean no filter: every event
        raise UserError(f"--type is empty: use one of {', '.join(EVENT_TYPES)}")
    names = tuple(t for part in values for t in part.split(",") if t)
    unknown = [t for t in names if t not in EVENT_TYPES]
    if unknown:
        raise UserError(f"unknown event type {unknown[0]!r}: use one of {', '.join(EVENT_TYPES)}")
    return names


def select(
    flt: Filter, limit: int | None = None, newest: bool = False, store: Store | None = None
) -> list[Stored]:
    """Matching records in seq order (with newest: the last `limit` of them)."""
    store = store or Store(create=False)
    if not store.ready():
        check_absent(store.path)
        return []
    where, params = flt.sql()
    rows = store.query(where, params, order="DESC" if newest else "ASC", limit=limit)
    return rows[::-1] if newest else rows


def as_json(rows: Iterable[Stored]) -> str:
    return json.dumps([event_object(r.body) for r in rows], indent=2, ensure_ascii=False)


SANDBOX_WIDTH = 22  # `tail -f` cannot know its rows in advance; `log` widens to fit them


def header(width: int = SANDBOX_WIDTH) -> str:
    return f"{'SEQ':>6}  {'TIME (UTC)':<23}  {'TYPE':<17}  {'SANDBOX':<{width}}  DETAILS"


def sandbox_label(ev: dict[str, Any]) -> str:
    sandbox = ev["sandbox"]
    if not sandbox.get("id"):
        return "-"
    return str(sandbox["id"])[:12] + (f" ({sandbox['name']})" if sandbox.get("name") else "")


def table_row(ev: dict[str, Any], width: int = SANDBOX_WIDTH) -> str:
    when = ev["time"][:23].replace("T", " ")
    return f"{ev['seq']:>6}  {when:<23}  {ev['type']:<17}  {sandbox_label(ev):<{width}}  {details(ev)}"


def details(ev: dict[str, Any]) -> str:
    envelope = {"seq", "time", "type", "sandbox", "user", "profile"}
    spec = EVENT_TYPES.get(ev["type"])
    first = [k for k in (spec.summary if spec else ()) if k in ev]
    rest = sorted(k for k in ev if k not in envelope and k not in first)
    parts = [f"{k}={_show(ev[k])}" for k in (*first, *rest) if ev[k] not in (None, [], {}) or k in _ALWAYS]
    if ev.get("profile"):
        parts.append(f"profile={ev['profile']}")
    parts.append(f"user={ev['user']}")
    return " ".join(parts)


_ALWAYS = {"status", "signal"}  # an exit shows both even when null


def _show(value: Any) -> str:
    if isinstance(value, str):
        return value if value and " " not in value else json.dumps(value, ensure_ascii=False)
    if isinstance(value, list) and value and all(isinstance(v, str) for v in value):
        return json.dumps(" ".join(value), ensure_ascii=False)
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def as_table(rows: Iterable[Stored]) -> str:
    events = [event_object(r.body) for r in rows]
    if not events:
        return "no audit events match"
    width = min(48, max(SANDBOX_WIDTH, *(len(sandbox_label(ev)) for ev in events)))
    return "\n".join([header(width), *(table_row(ev, width) for ev in events)])
