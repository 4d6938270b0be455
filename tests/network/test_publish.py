"""Parsing of `-p/--publish`, as `docker run` spells it."""

from __future__ import annotations

import pytest

from pysandbox.sandbox.network import PortMapping, parse_publish
from pysandbox.types import EXIT_RUN_FAILURE, UserError


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("8080:80", PortMapping(8080, 80, "tcp", "0.0.0.0")),
        ("8080:80/udp", PortMapping(8080, 80, "udp", "0.0.0.0")),
        ("127.0.0.1:8080:80/tcp", PortMapping(8080, 80, "tcp", "127.0.0.1")),
        ("[::1]:8080:80", PortMapping(8080, 80, "tcp", "::1")),
    ],
)
def test_valid(spec: str, expected: PortMapping) -> None:
    assert parse_publish(spec) == expected


@pytest.mark.parametrize(
    ("spec", "why"),
    [
        ("80", "use HOSTPORT:CTRPORT"),
        ("8080:80/sctp", "neither tcp nor udp"),
        ("0:80", "not a number from 1 to 65535"),
        ("8080:70000", "not a number from 1 to 65535"),
        ("host:8080:80", "not an IP address"),
        ("[::1:8080:80", "unclosed ["),
        ("a:b", "not a number"),
    ],
)
def test_invalid(spec: str, why: str) -> None:
    with pytest.raises(UserError, match="bad --publish") as info:
        parse_publish(spec)
    assert why in str(info.value)
    assert info.value.exit_code == EXIT_RUN_FAILURE
