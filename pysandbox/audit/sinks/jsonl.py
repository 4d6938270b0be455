"""JSON lines file sink: one object per line, appended with a single write per batch."""

from __future__ import annotations

import json
import os
from typing import Any

from pysandbox.audit.sinks.config import SinkSpec


class JsonlSink:
    def __init__(self, spec: SinkSpec) -> None:
        self.key = spec.key
        self.path = spec.target

    def send(self, events: list[dict[str, Any]]) -> None:
        data = "".join(json.dumps(ev, ensure_ascii=False) + "\n" for ev in events).encode()
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            # O_APPEND: lines of concurrent sandboxes interleave but never tear within one write
            os.write(fd, data)
        finally:
            os.close(fd)
