import datetime as dt

import pytest

from pysandbox.scanner import ignore
from pysandbox.types import Finding, Location, Severity, UserError

TODAY = dt.date(2025, 6, 1)


def _f(rule: str, path: str = "/x", aliases: tuple[str, ...] = (), **extra: object) -> Finding:
    return Finding(rule, Severity.HIGH, "t", "m", Location(path), aliases=aliases, extra=dict(extra))


def test_entries_reasons_and_expiry():
    entries = ignore.parse_text(
        "# shared reason\nCVE-2024-1 exp:2025-12-31\nDS002\tpath:/etc/* # own\n\nX exp:2025-01-01\n", "f"
    )
    assert [(e.id, e.reason, e.origin) for e in entries] == [
        ("CVE-2024-1", "shared reason", "f:2"),
        ("DS002", "own", "f:3"),
        ("X", None, "f:5"),
    ]
    findings = [
        _f("CVE-2024-1", vulnerability_id="CVE-2024-1"),
        _f("PSB-I001", "/etc/a", aliases=("DS002",)),
        _f("PSB-I001", "/srv/a", aliases=("DS002",)),
        _f("X"),
    ]
    kept, ignored, expired = ignore.apply(findings, entries, TODAY)
    assert [f.location.path for f in kept] == ["/srv/a", "/x"]
    assert len(ignored) == 2 and [e.id for e in expired] == ["X"]


@pytest.mark.parametrize("line", ["A exp:2025-13-01", "A when:tomorrow", "A path:"])
def test_malformed_lines_are_usage_errors(line):
    with pytest.raises(UserError, match="f:1"):
        ignore.parse_text(line, "f")
