"""Sandbox networking. STUB owned by the network work (issue 3).

Interface used by the launcher:
  setup_inside(mode)                       in the sandbox (own netns): bring lo up
  attach(mode, pid, publish) -> Attachment in the launcher, after the child unshared its netns
  Attachment.close()
"""

from __future__ import annotations


class Attachment:
    def close(self) -> None:
        pass


def setup_inside(mode: str) -> None:
    pass


def attach(mode: str, pid: int, publish: tuple[str, ...] = ()) -> Attachment:
    return Attachment()
