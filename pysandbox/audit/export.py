"""Records as the outside world sees them: JSON objects, JSON lines, OTLP/JSON logs."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterable
from typing import Any

from pysandbox import __version__
from pysandbox.audit.events import EVENT_TYPES

# OTLP SeverityNumber (logs data model): INFO=9, INFO2=10 (syslog notice), WARN=13
_OTLP_SEVERITY = {"info": (9, "INFO"), "notice": (10, "INFO2"), "warning": (13, "WARN")}


def rfc3339_ns(time_ns: int) -> str:
    secs, frac = divmod(time_ns, 1_000_000_000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(secs)) + f".{frac:09d}Z"


def event_object(body: str | bytes) -> dict[str, Any]:
    """The JSON object of one stored record: envelope, then the event's own fields at top level."""
    rec = json.loads(body)
    return {
        "seq": rec["seq"],
        "time": rfc3339_ns(rec["time"]),
        "type": rec["type"],
        "sandbox": rec["sandbox"],
        "user": rec["user"],
        "profile": rec["profile"],
        **rec["fields"],
    }


def severity_of(type_name: str) -> str:
    spec = EVENT_TYPES.get(type_name)
    return spec.severity if spec else "info"


def to_jsonl(bodies: Iterable[str]) -> Iterable[str]:
    for body in bodies:
        yield json.dumps(event_object(body), ensure_ascii=False)


def to_otlp(bodies: Iterable[str]) -> dict[str, Any]:
    """An OTLP ExportLogsServiceRequest in the protobuf JSON mapping (what /v1/logs accepts)."""
    records = [_otlp_record(json.loads(body)) for body in bodies]
    resource = [
        _kv("service.name", "pysandbox"),
        _kv("service.version", __version__),
        _kv("host.name", socket.gethostname()),
    ]
    return {
        "resourceLogs": [
            {
                "resource": {"attributes": resource},
                "scopeLogs": [
                    {"scope": {"name": "pysandbox.audit", "version": __version__}, "logRecords": records}
                ],
            }
        ]
    }


def _otlp_record(rec: dict[str, Any]) -> dict[str, Any]:
    number, text = _OTLP_SEVERITY[severity_of(rec["type"])]
    attributes = [
        _kv("event.name", f"pysandbox.{rec['type']}"),
        _kv("pysandbox.seq", rec["seq"]),
        _kv("pysandbox.sandbox.id", rec["sandbox"]["id"]),
        _kv("pysandbox.sandbox.name", rec["sandbox"]["name"]),
        _kv("user.name", rec["user"]),
        _kv("pysandbox.profile", rec["profile"]),
    ]
    return {
        "timeUnixNano": str(rec["time"]),
        "observedTimeUnixNano": str(rec["time"]),
        "severityNumber": number,
        "severityText": text,
        "body": _any_value(rec["fields"]),
        "attributes": [a for a in attributes if a["value"]],
    }


def _kv(key: str, value: Any) -> dict[str, Any]:
    return {"key": key, "value": _any_value(value)}


def _any_value(value: Any) -> dict[str, Any]:
    if value is None:
        return {}
    if isinstance(value, bool):
        return {"boolValue": value}
    if isinstance(value, int):
        return {"intValue": str(value)}  # int64 is a string in the protobuf JSON mapping
    if isinstance(value, float):
        return {"doubleValue": value}
    if isinstance(value, list):
        return {"arrayValue": {"values": [_any_value(v) for v in value]}}
    if isinstance(value, dict):
        return {"kvlistValue": {"values": [_kv(str(k), v) for k, v in value.items()]}}
    return {"stringValue": str(value)}
