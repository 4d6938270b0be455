"""What a config-audit rule is, and how it words its findings."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

from pysandbox.audit.config.model import Container, Workload
from pysandbox.report import RuleInfo
from pysandbox.types import Finding, Location, Severity

Check = Callable[[Workload], Iterable[Finding]]


@dataclass(frozen=True)
class Rule:
    id: str
    severity: Severity  # the usual severity; a finding may be graver or milder for the case at hand
    title: str
    fix: str
    # Every control this rule can correspond to; each finding names the ones its case violates.
    aliases: tuple[str, ...]
    check: Check
    fixes: Mapping[str, str] = field(
        default_factory=dict
    )  # format -> fix, where the format words it otherwise

    def info(self) -> RuleInfo:
        return RuleInfo(self.id, self.title, self.severity, help=self.fix, aliases=self.aliases)

    def finding(
        self,
        w: Workload,
        c: Container | None,
        message: str,
        line: int | None,
        *,
        severity: Severity | None = None,
        aliases: Iterable[str] | None = None,
        fix: str | None = None,
    ) -> Finding:
        chosen = tuple(self.aliases if aliases is None else aliases)
        unknown = set(chosen) - set(self.aliases)
        assert not unknown, f"{self.id}: aliases {unknown} not declared by the rule"
        return Finding(
            rule_id=self.id,
            severity=self.severity if severity is None else severity,
            title=self.title,
            message=f"{subject(w, c)}: {message}",
            location=Location(path=w.path, line=line),
            fix=fix or self.fixes.get(w.format, self.fix),
            aliases=chosen,
            extra={"workload": w.label, "container": c.name if c else None, "format": w.format},
        )


def subject(w: Workload, c: Container | None) -> str:
    """How a finding names what it is about: `Deployment web, container app`, `service db`."""
    head = {"service": "service", "container": "container", "bundle": "bundle", "profile": "profile"}
    if w.kind in head:
        return f"{head[w.kind]} {w.name}"
    if c is None:
        return f"{w.kind} {w.name}"
    role = {"initContainer": "init container", "ephemeralContainer": "ephemeral container"}.get(
        c.role, "container"
    )
    return f"{w.kind} {w.name}, {role} {c.name}"
