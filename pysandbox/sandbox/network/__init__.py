"""Sandbox networking: `none` (own netns, lo up), `host` (no netns), `slirp` (rootless NAT).

Interface used by the launcher:
  check(mode, publish) -> tuple[PortMapping, ...]   before forking: rejects bad -p early
  setup_inside(mode)                       in the sandbox (own netns): bring lo up
  attach(mode, pid, publish) -> Attachment in the launcher, after the child unshared its netns
  Attachment.close()
  resolv_conf(mode) -> text for the sandbox's /etc/resolv.conf, or None to leave it alone
"""

from __future__ import annotations

from pysandbox.sandbox.network.attachment import Attachment
from pysandbox.sandbox.network.publish import PortMapping, parse_publish
from pysandbox.types import EXIT_RUN_FAILURE, SandboxError, UserError

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing on the run path
if TYPE_CHECKING:
    from collections.abc import Iterable

MODES = ("none", "host", "slirp")
__all__ = ["MODES", "Attachment", "PortMapping", "attach", "check", "parse_publish", "resolv_conf",
           "setup_inside"]  # fmt: skip


def check(mode: str, publish: Iterable[str | PortMapping] = ()) -> tuple[PortMapping, ...]:
    if mode not in MODES:
        raise UserError(f"unknown --network {mode!r}: use none, host or slirp", EXIT_RUN_FAILURE)
    mappings = tuple(p if isinstance(p, PortMapping) else parse_publish(p) for p in publish)
    if mappings and mode != "slirp":
        raise UserError(f"--publish needs --network slirp (the network is {mode!r})", EXIT_RUN_FAILURE)
    return mappings


def setup_inside(mode: str) -> None:
    if mode == "host":
        return
    from pysandbox.sandbox.network.loopback import bring_up

    try:
        bring_up("lo")
    except OSError as exc:
        raise SandboxError(f"cannot bring up lo in the sandbox's network namespace: {exc.strerror}") from None


def attach(mode: str, pid: int, publish: Iterable[str | PortMapping] = (), *,
           allow_host_loopback: bool = False) -> Attachment:  # fmt: skip
    mappings = check(mode, publish)
    if mode != "slirp":
        return Attachment()
    from pysandbox.sandbox.network import slirp

    return slirp.start(pid, mappings, allow_host_loopback)


def resolv_conf(mode: str) -> str | None:
    if mode == "slirp":
        from pysandbox.sandbox.network.slirp import DNS

        return f"nameserver {DNS}\n"
    return None
