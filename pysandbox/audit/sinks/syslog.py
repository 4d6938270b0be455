"""Syslog sink: RFC 5424 messages over UDP, a unix datagram socket, or TCP (RFC 6587 octet counting).

    <PRI>1 2026-11-30T19:29:00.123456Z host pysandbox 4242 exit [pysandbox@32473 seq="7" ...] {json}

MSGID is the event type; the structured data carries seq and sandbox; MSG is the event as JSON.
32473 is the private enterprise number RFC 5612 reserves for documentation and examples.
"""

from __future__ import annotations

import json
import os
import socket
from typing import Any

from pysandbox.audit.sinks.config import FACILITIES, SinkSpec

_SEVERITY = {"warning": 4, "notice": 5, "info": 6}
SD_ID = "pysandbox@32473"


def _sd_value(value: object) -> str:
    return str(value).replace("\\", "\\\\").replace('"', '\\"').replace("]", "\\]")


def _timestamp(rfc3339_ns: str) -> str:
    # RFC 5424 allows at most 6 fractional digits
    return rfc3339_ns[:26] + "Z" if len(rfc3339_ns) > 27 else rfc3339_ns


def _header_token(text: str, limit: int) -> str:
    clean = "".join(c for c in text if 33 <= ord(c) <= 126)
    return clean[:limit] or "-"


class SyslogSink:
    def __init__(self, spec: SinkSpec) -> None:
        from pysandbox.audit.export import severity_of

        self.key = spec.key
        self.transport, _, rest = spec.target.partition(":")
        self.address = rest if self.transport == "unix" else rest.removeprefix("//")
        self.facility = FACILITIES[spec.option("facility", "local0")]
        self.app = _header_token(spec.option("app_name", "pysandbox"), 48)
        self.timeout = float(spec.option("timeout", 5.0))
        self.host = _header_token(socket.gethostname(), 255)
        self._severity_of = severity_of

    def format(self, ev: dict[str, Any]) -> bytes:
        pri = self.facility * 8 + _SEVERITY[self._severity_of(ev["type"])]
        sandbox = ev.get("sandbox") or {}
        params = [
            ("seq", ev["seq"]),
            ("sandbox", sandbox.get("id")),
            ("name", sandbox.get("name")),
            ("user", ev.get("user")),
            ("profile", ev.get("profile")),
        ]
        sd = " ".join(f'{k}="{_sd_value(v)}"' for k, v in params if v is not None)
        msg = json.dumps(ev, ensure_ascii=True, separators=(",", ":"))
        msgid = _header_token(ev["type"], 32)
        head = f"<{pri}>1 {_timestamp(ev['time'])} {self.host} {self.app} {os.getpid()} {msgid}"
        return f"{head} [{SD_ID} {sd}] {msg}".encode()

    def send(self, events: list[dict[str, Any]]) -> None:
        messages = [self.format(ev) for ev in events]
        if self.transport == "tcp":
            self._send_tcp(messages)
        else:
            self._send_datagrams(messages)

    def _send_datagrams(self, messages: list[bytes]) -> None:
        family = socket.AF_UNIX if self.transport == "unix" else socket.AF_INET
        target: Any = self.address
        if self.transport == "udp":
            host, _, port = self.address.rpartition(":")
            host = host.strip("[]")
            family = socket.AF_INET6 if ":" in host else socket.AF_INET
            target = (host, int(port))
        with socket.socket(family, socket.SOCK_DGRAM) as sock:
            sock.setblocking(False)  # a full socket buffer drops the copy, never stalls the sandbox
            for message in messages:
                sock.sendto(message, target)

    def _send_tcp(self, messages: list[bytes]) -> None:
        host, _, port = self.address.rpartition(":")
        with socket.create_connection((host.strip("[]"), int(port)), timeout=self.timeout) as sock:
            sock.sendall(b"".join(b"%d %s" % (len(m), m) for m in messages))
            # wait for the peer to take the bytes: a half-close then read until it closes or times out
            sock.shutdown(socket.SHUT_WR)
            try:
                while sock.recv(4096):
                    pass
            except TimeoutError:
                pass
