"""HTTP sink: POST a JSON array of events per batch; any 2xx acknowledges the whole batch.

Receivers may see a batch twice after a lost acknowledgement: `seq` identifies each event.
"""

from __future__ import annotations

import json
import urllib.request
from typing import Any

from pysandbox import __version__
from pysandbox.audit.sinks.config import SinkSpec


class HttpSink:
    def __init__(self, spec: SinkSpec) -> None:
        self.key = spec.key
        self.url = spec.target
        self.timeout = float(spec.option("timeout", 5.0))
        self.headers = {
            "Content-Type": "application/json",
            "User-Agent": f"pysandbox/{__version__}",
            **dict(spec.option("headers", ())),
        }

    def send(self, events: list[dict[str, Any]]) -> None:
        data = json.dumps(events, ensure_ascii=False).encode()
        request = urllib.request.Request(self.url, data=data, headers=self.headers, method="POST")
        with urllib.request.urlopen(request, timeout=self.timeout) as response:  # raises on 4xx/5xx
            response.read()
