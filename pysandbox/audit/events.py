"""The audit event types and the fields each one carries.

Every event also has an envelope (seq, time, type, sandbox, user, profile) that the recorder
fills in; the names below are the event's own fields, stored next to the envelope.
Kept import-free: the launcher's fast path imports this module.
"""

from __future__ import annotations

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing on the run path
if TYPE_CHECKING:
    from typing import Any

# Names the envelope uses: an event's own fields may not shadow them in JSON output.
RESERVED = frozenset({"seq", "time", "time_ns", "type", "sandbox", "user", "profile", "prev", "hash"})


class EventType:
    """A plain class, not a dataclass: this module is on the `run` fast path."""

    __slots__ = ("name", "optional", "required", "required_set", "severity", "summary")

    def __init__(
        self,
        name: str,
        required: tuple[str, ...],
        optional: tuple[str, ...],
        severity: str,
        summary: tuple[str, ...],
    ) -> None:
        self.name = name
        self.required = required
        self.required_set = frozenset(required)
        self.optional = optional
        self.severity = severity  # syslog/OTLP severity: info, notice, warning
        self.summary = summary  # fields shown first in `audit log` table rows


_TYPES = (
    EventType(
        "create",
        (),
        ("image", "rootfs", "command", "network", "overrides"),
        "info",
        ("image", "rootfs", "command"),
    ),
    EventType("start", (), ("pid", "command"), "info", ("pid",)),
    # duration and cpu_time in seconds, peak_memory in bytes; signal is null for a normal exit;
    # reason: set when pysandbox itself ended a running sandbox (the caller interrupted, an error)
    EventType(
        "exit",
        ("status", "signal"),
        ("duration", "peak_memory", "cpu_time", "oom_killed", "reason"),
        "info",
        ("status", "signal", "duration", "peak_memory", "cpu_time"),
    ),
    EventType("oom_kill", (), ("pid", "limit", "peak_memory"), "warning", ("pid", "limit")),
    EventType(
        "limit_hit", ("resource",), ("limit", "value", "count"), "notice", ("resource", "limit", "count")
    ),
    # `flag` (a CLI flag) or `mount` (a -v spec) names what was refused
    EventType(
        "policy_denied",
        ("rule",),
        ("flag", "mount", "message", "severity"),
        "warning",
        ("rule", "flag", "mount", "message"),
    ),
    # an unsafe override accepted because of --allow-unsafe (DESIGN.md: every override is audited)
    EventType(
        "policy_override",
        ("rule",),
        ("flag", "mount", "message", "severity"),
        "warning",
        ("rule", "flag", "mount", "message"),
    ),
    # `count` aggregates repeats of one syscall within the recorder's rate-limit window
    EventType(
        "seccomp_violation",
        ("syscall",),
        ("nr", "pid", "count", "window", "action", "arch"),
        "warning",
        ("syscall", "nr", "pid", "count"),
    ),
    EventType(
        "mount",
        ("source", "target"),
        ("options", "risk", "rule", "read_only"),
        "info",
        ("source", "target", "options", "risk"),
    ),
    EventType(
        "image_import",
        ("image",),
        ("digest", "source", "layers", "size"),
        "info",
        ("image", "digest", "source"),
    ),
    EventType(
        "scan", ("target",), ("counts", "verdict", "tool", "fail_on"), "info", ("target", "verdict", "counts")
    ),
)

EVENT_TYPES: dict[str, EventType] = {t.name: t for t in _TYPES}


def check_fields(type_name: str, fields: dict[str, Any]) -> EventType:
    """The event type, or ValueError when the launcher passes an unknown type or misses a field."""
    spec = EVENT_TYPES.get(type_name)
    if spec is None:
        raise ValueError(f"unknown audit event type {type_name!r}")
    if not fields.keys() >= spec.required_set:
        missing = [n for n in spec.required if n not in fields]
        raise ValueError(f"audit event {type_name!r} lacks field(s) {', '.join(missing)}")
    if not RESERVED.isdisjoint(fields):
        clash = sorted(RESERVED.intersection(fields))
        raise ValueError(f"audit event {type_name!r} uses reserved field name(s) {', '.join(clash)}")
    return spec


def type_names() -> list[str]:
    return list(EVENT_TYPES)
