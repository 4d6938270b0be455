"""PSB-I015: files added in one layer and deleted in a later one are still shipped and recoverable.

Deleting a file in a later layer only hides it: the layer that added it is still in the image, and
`tar -xf` of that layer gives it back. A secret "removed" this way is exposed; other removed files
only cost size and are summarised (info) per pair of layers.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from pysandbox.scanner.image.fsview import FileRecord
from pysandbox.scanner.image.rules.base import FILES, Rule, ScanContext
from pysandbox.scanner.image.source import Kind
from pysandbox.types import Finding, Location, Severity

SENSITIVE_RULES = frozenset({"PSB-I012", "PSB-I013", "PSB-I014", "PSB-I020"})


class RemovedButShipped(Rule):
    id = "PSB-I015"
    severity = Severity.HIGH
    title = "Deleted file still recoverable from an earlier layer"
    fix = (
        "Never write secrets in a build step, even temporarily: use `RUN --mount=type=secret` or a "
        "multi-stage build and copy only the artefacts; rotate the exposed secret."
    )
    scanner = FILES
    order = 10  # reads the hits of the content rules

    def check(self, ctx: ScanContext) -> Iterable[Finding]:
        sensitive: dict[int, list[Finding]] = defaultdict(list)
        records: dict[int, FileRecord] = {}
        for hit in ctx.hits:
            if hit.record.gone_in is not None and hit.finding.rule_id in SENSITIVE_RULES:
                sensitive[id(hit.record)].append(hit.finding)
                records[id(hit.record)] = hit.record
        for key, findings in sensitive.items():
            record = records[key]
            assert record.gone_in is not None
            how = "deleted" if record.removed_in else "overwritten"
            what = "; ".join(
                sorted(
                    {
                        f"{f.rule_id} {f.title}" + (f" (line {f.location.line})" if f.location.line else "")
                        for f in findings
                    }
                )
            )
            yield self.finding(
                f"{record.path} was {how} in layer {record.gone_in.short} but is still recoverable "
                f"from layer {record.layer.short}, which ships: {what}.",
                Location(record.path, layer=record.layer.digest),
                severity=max(self.severity, *(f.severity for f in findings)),
                removed_in=record.gone_in.digest,
            )
        yield from self._summaries(ctx, {id(records[k]) for k in sensitive})

    def _summaries(self, ctx: ScanContext, reported: set[int]) -> Iterable[Finding]:
        groups: dict[tuple[int, int], list[FileRecord]] = defaultdict(list)
        for record in ctx.fs.records:
            if record.removed_in is not None and record.kind is Kind.FILE and id(record) not in reported:
                groups[(record.layer.index, record.removed_in.index)].append(record)
        for (_added, _removed), records in sorted(groups.items()):
            first = records[0]
            assert first.removed_in is not None
            size = sum(r.size for r in records)
            sample = ", ".join(r.path for r in records[:3]) + (", ..." if len(records) > 3 else "")
            yield self.finding(
                f"{len(records)} files ({size} bytes) added in layer {first.layer.short} were deleted "
                f"in layer {first.removed_in.short} but are still shipped: {sample}.",
                Location(first.path, layer=first.layer.digest),
                severity=Severity.INFO,
                removed_in=first.removed_in.digest,
                files=[r.path for r in records[:50]],
            )


RULE = RemovedButShipped()
