"""`.pysandboxignore`: findings to ignore, each with an optional expiry date and a reason.

One entry per line, like trivy's `.trivyignore`:

    # comment lines before an entry are its reason
    CVE-2023-1234 exp:2025-06-30          # waiting for the Debian fix
    PSB-I006                              # our orchestrator probes the port instead
    PSB-I014 path:/srv/fixtures/*         # test data, not real keys

An ID matches a finding's rule id or any of its aliases (CIS-DI-/DKL-/trivy ids, CVE ids);
`path:GLOB` limits the entry to matching locations. An expired entry no longer applies (the scan
says so in one line); a malformed one is a usage error (exit 2) naming the line.
"""

from __future__ import annotations

import datetime as dt
import fnmatch
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from pysandbox.types import Finding, UserError
from pysandbox.userfiles import read_text

DEFAULT_NAME = ".pysandboxignore"


@dataclass(frozen=True)
class IgnoreEntry:
    id: str
    expires: dt.date | None = None
    paths: tuple[str, ...] = ()
    reason: str | None = None
    origin: str = "--ignore"  # FILE:LINE or --ignore

    def expired(self, today: dt.date) -> bool:
        return self.expires is not None and today > self.expires

    def matches(self, finding: Finding) -> bool:
        ids = {finding.rule_id.upper(), *(a.upper() for a in finding.aliases)}
        vid = finding.extra.get("vulnerability_id")
        if isinstance(vid, str):
            ids.add(vid.upper())
        if self.id.upper() not in ids:
            return False
        if not self.paths:
            return True
        path = finding.location.path
        return any(
            fnmatch.fnmatchcase(path, g) or fnmatch.fnmatchcase(path.lstrip("/"), g.lstrip("/"))
            for g in self.paths
        )


@dataclass(frozen=True)
class Ignored:
    finding: Finding
    entry: IgnoreEntry

    def to_json(self) -> dict[str, object]:
        return {
            "rule_id": self.finding.rule_id,
            "path": self.finding.location.path,
            "reason": self.entry.reason,
            "expires": self.entry.expires.isoformat() if self.entry.expires else None,
            "by": self.entry.origin,
        }


def parse_text(text: str, origin: str) -> list[IgnoreEntry]:
    entries: list[IgnoreEntry] = []
    pending: list[str] = []
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line:
            pending = []
            continue
        if line.startswith("#"):
            pending.append(line.lstrip("#").strip())
            continue
        body, _, comment = re.sub(r"\s#", " #", line, count=1).partition(" #")
        reason = comment.strip() or " ".join(p for p in pending if p) or None
        entries.append(_entry(body.split(), reason, f"{origin}:{number}"))
        pending = []
    return entries


def _entry(tokens: list[str], reason: str | None, where: str) -> IgnoreEntry:
    rule_id, expires, paths = tokens[0], None, []
    for token in tokens[1:]:
        key, sep, value = token.partition(":")
        if sep and key == "exp":
            try:
                expires = dt.date.fromisoformat(value)
            except ValueError:
                raise UserError(f"{where}: invalid expiry {value!r}: write exp:YYYY-MM-DD") from None
        elif sep and key == "path" and value:
            paths.append(value)
        else:
            raise UserError(
                f"{where}: unexpected {token!r}: write `ID [exp:YYYY-MM-DD] [path:GLOB] [# reason]`"
            )
    return IgnoreEntry(rule_id, expires, tuple(paths), reason, where)


def load(path: Path) -> list[IgnoreEntry]:
    return parse_text(read_text(path, "ignore file", "check --ignore-file"), str(path))


def from_flags(ids: Iterable[str]) -> list[IgnoreEntry]:
    return [IgnoreEntry(i.strip()) for raw in ids for i in raw.split(",") if i.strip()]


def apply(
    findings: list[Finding], entries: list[IgnoreEntry], today: dt.date | None = None
) -> tuple[list[Finding], list[Ignored], list[IgnoreEntry]]:
    """Split findings into kept and ignored; also return the expired entries (which did not apply)."""
    today = today or dt.date.today()
    active = [e for e in entries if not e.expired(today)]
    expired = [e for e in entries if e.expired(today)]
    kept: list[Finding] = []
    ignored: list[Ignored] = []
    for f in findings:
        entry = next((e for e in active if e.matches(f)), None)
        if entry is None:
            kept.append(f)
        else:
            ignored.append(Ignored(f, entry))
    return kept, ignored, expired
