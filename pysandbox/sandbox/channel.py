"""The launcher <-> sandbox channel: SOCK_SEQPACKET pairs and fd passing, on `_socket` directly.

The `socket` module would add enum, selectors and array to every `pysandbox run` (several ms to
import); the launch needs only a socket pair and SCM_RIGHTS, which the C module has.
"""

from __future__ import annotations

import sys
from _socket import (
    AF_UNIX,
    CMSG_SPACE,
    MSG_CMSG_CLOEXEC,
    MSG_DONTWAIT,
    SCM_RIGHTS,
    SOCK_SEQPACKET,
    SOL_SOCKET,
    socketpair,
)
from _socket import socket as Sock

__all__ = ["MSG_DONTWAIT", "Sock", "pair", "recv_fds", "send_fds"]

_INT = 4  # sizeof(int): SCM_RIGHTS carries an array of C ints


def pair() -> tuple[Sock, Sock]:
    """A connected SOCK_SEQPACKET pair, close-on-exec."""
    return socketpair(AF_UNIX, SOCK_SEQPACKET)


def send_fds(sock: Sock, data: bytes, fds: list[int]) -> None:
    rights = b"".join(fd.to_bytes(_INT, sys.byteorder, signed=True) for fd in fds)
    sock.sendmsg([data], [(SOL_SOCKET, SCM_RIGHTS, rights)] if fds else [])


def recv_fds(sock: Sock, bufsize: int, maxfds: int, flags: int = 0) -> tuple[bytes, list[int]]:
    """One message and the fds that came with it (none when it carried none), close-on-exec: a
    received fd is inheritable otherwise, and PID 1 would pass its end of the launch channel (the
    fork server's launches) on to the workload, which could then talk to the launcher."""
    data, ancillary, _, _ = sock.recvmsg(bufsize, CMSG_SPACE(maxfds * _INT), flags | MSG_CMSG_CLOEXEC)
    fds: list[int] = []
    for level, kind, payload in ancillary:
        if level == SOL_SOCKET and kind == SCM_RIGHTS:
            whole = len(payload) - len(payload) % _INT
            for i in range(0, whole, _INT):
                fds.append(int.from_bytes(payload[i : i + _INT], sys.byteorder, signed=True))
    return data, fds
