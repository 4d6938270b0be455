"""Bring an interface up from inside a network namespace with two ioctls (no `ip` binary there)."""

from __future__ import annotations

import fcntl
import socket
import struct

SIOCGIFFLAGS = 0x8913
SIOCSIFFLAGS = 0x8914
IFF_UP = 0x1
_IFREQ = "16sH22x"  # struct ifreq: the name, then ifr_flags at the start of the 24-byte union


def flags(name: str) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        reply = fcntl.ioctl(sock.fileno(), SIOCGIFFLAGS, struct.pack(_IFREQ, name.encode(), 0))
    return int(struct.unpack(_IFREQ, reply)[1])


def bring_up(name: str = "lo") -> None:
    current = flags(name)
    if current & IFF_UP:
        return
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        fcntl.ioctl(sock.fileno(), SIOCSIFFLAGS, struct.pack(_IFREQ, name.encode(), current | IFF_UP))
