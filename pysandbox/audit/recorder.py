"""What the launcher tells the audit log. STUB owned by the audit work (issue 7).

Interface used by the launcher:
  Recorder(sandbox_id, name, profile_name)
  Recorder.event(type, durable=False, **fields)  durable: fsync'd before returning
  Recorder.close()
"""

from __future__ import annotations

from typing import Any


class Recorder:
    def __init__(self, sandbox_id: str, name: str, profile: str) -> None:
        self.sandbox_id, self.name, self.profile = sandbox_id, name, profile

    def event(self, type: str, durable: bool = False, **fields: Any) -> None:
        pass

    def close(self) -> None:
        pass
