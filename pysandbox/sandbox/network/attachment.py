"""What `attach` returns: something the launcher closes when the sandbox ends."""

from __future__ import annotations


class Attachment:
    """Nothing to tear down (`none`, `host`); slirp's attachment stops its helper process."""

    def close(self) -> None:
        pass
