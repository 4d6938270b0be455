"""Bring an interface up from inside a network namespace with two ioctls (no `ip` binary there)."""

from __future__ import annotations

import fcntl
import struct
from _socket import AF_INET, SOCK_DGRAM
from _socket import socket as Sock  # not the socket module: it imports enum and selectors

SIOCGIFFLAGS = 0x8913
SIOCSIFFLAGS = 0x8914
IFF_UP = 0x1
_IFREQ = "16sH22x"  # struct ifreq: the name, then ifr_flags at the start of the 24-byte union


def _ioctl(request: int, name: str, value: int) -> bytes:
    sock = Sock(AF_INET, SOCK_DGRAM)
    try:
        return fcntl.ioctl(sock.fileno(), request, struct.pack(_IFREQ, name.encode(), value))
    finally:
        sock.close()


def flags(name: str) -> int:
    return int(struct.unpack(_IFREQ, _ioctl(SIOCGIFFLAGS, name, 0))[1])


def bring_up(name: str = "lo") -> None:
    current = flags(name)
    if current & IFF_UP:
        return
    _ioctl(SIOCSIFFLAGS, name, current | IFF_UP)
