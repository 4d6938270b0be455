"""`-p/--publish [HOSTIP:]HOSTPORT:CTRPORT[/tcp|udp]`, as `docker run` spells it."""

from __future__ import annotations

from pysandbox.record import record
from pysandbox.types import UserError, is_decimal

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing on the run path
if TYPE_CHECKING:
    from typing import Literal

DEFAULT_HOST_ADDR = "0.0.0.0"  # docker's default: every host address


@record(frozen=True)
class PortMapping:
    host_port: int
    container_port: int
    proto: Literal["tcp", "udp"] = "tcp"
    host_addr: str = DEFAULT_HOST_ADDR

    def __str__(self) -> str:
        return f"{self.host_addr}:{self.host_port}:{self.container_port}/{self.proto}"


def parse_publish(spec: str) -> PortMapping:
    text, _, proto = spec.strip().partition("/")
    proto = proto or "tcp"
    if proto not in ("tcp", "udp"):
        raise _bad(spec, f"protocol {proto!r} is neither tcp nor udp")
    if text.startswith("["):  # [::1]:8080:80
        addr, sep, rest = text[1:].partition("]:")
        if not sep:
            raise _bad(spec, "unclosed [ around the host address")
        parts = [addr, *rest.split(":")]
    else:
        parts = text.split(":")
    if len(parts) == 2:
        parts.insert(0, DEFAULT_HOST_ADDR)
    if len(parts) != 3:
        raise _bad(spec, "use HOSTPORT:CTRPORT, optionally HOSTIP:HOSTPORT:CTRPORT and /tcp or /udp")
    addr, host_port, ctr_port = parts
    import ipaddress  # only with -p: kept off the run fast path

    try:
        ipaddress.ip_address(addr)
    except ValueError:
        raise _bad(spec, f"{addr!r} is not an IP address") from None
    return PortMapping(_port(spec, host_port), _port(spec, ctr_port), proto, addr)  # type: ignore[arg-type]


def _port(spec: str, text: str) -> int:
    if not is_decimal(text) or not 1 <= int(text) <= 65535:
        raise _bad(spec, f"port {text!r} is not a number from 1 to 65535")
    return int(text)


def _bad(spec: str, why: str) -> UserError:
    from pysandbox.types import EXIT_RUN_FAILURE

    return UserError(f"bad --publish {spec!r}: {why}", EXIT_RUN_FAILURE)
