"""Run the selected image rules (and the package inventory) over one pass of the image's layers."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass, field

from pysandbox.scanner.image import packages as pkgs
from pysandbox.scanner.image.fsview import ContentConsumer, LayeredFS
from pysandbox.scanner.image.rules import ALL_RULES
from pysandbox.scanner.image.rules.base import CONFIG, Rule, ScanContext
from pysandbox.scanner.image.source import ImageSource, Progress
from pysandbox.types import Finding

PACKAGES = "packages"


@dataclass
class ImageScan:
    source: ImageSource
    findings: list[Finding] = field(default_factory=list)
    packages: list[pkgs.Package] = field(default_factory=list)
    rules: tuple[Rule, ...] = ()


def select_rules(scanners: set[str]) -> tuple[Rule, ...]:
    return tuple(r for r in ALL_RULES if r.scanner in scanners)


def scan_image(source: ImageSource, scanners: set[str], progress: Progress | None = None) -> ImageScan:
    rules = select_rules(scanners)
    ctx = ScanContext(source)
    want_packages = PACKAGES in scanners
    if want_packages or any(r.scanner != CONFIG for r in rules):
        ctx.fs = _read_layers(source, rules, ctx, want_packages, progress)
    streamed = len(ctx.hits)  # findings the content consumers produced while the layers streamed
    findings = [hit.finding for hit in ctx.hits[:streamed]]
    for rule in rules:
        findings.extend(rule.check(ctx))
    result = ImageScan(source, _annotate_removed(ctx, findings), rules=rules)
    if want_packages:
        result.packages = pkgs.inventory(ctx.fs)
    return result


def _read_layers(
    source: ImageSource,
    rules: Sequence[Rule],
    ctx: ScanContext,
    want_packages: bool,
    progress: Progress | None,
) -> LayeredFS:
    keepers = [r for r in rules if type(r).keep is not Rule.keep]

    def keep(path: str, size: int) -> bool:
        return (want_packages and pkgs.wanted(path, size)) or any(r.keep(path, size) for r in keepers)

    consumers: list[ContentConsumer] = [c for r in rules if (c := r.consumer(ctx)) is not None]
    return LayeredFS.build(source, keep, consumers, progress)


def _annotate_removed(ctx: ScanContext, findings: list[Finding]) -> list[Finding]:
    """Say so on findings about a file version a later layer deleted or overwrote."""
    gone = {id(h.finding): h.record for h in ctx.hits if h.record.gone_in is not None}
    out = []
    for f in findings:
        record = gone.get(id(f))
        if record is not None and record.gone_in is not None:
            how = "deleted" if record.removed_in else "overwritten"
            note = (
                f" The file was {how} in layer {record.gone_in.short} but is still in layer "
                f"{record.layer.short} of the image."
            )
            f = dataclasses.replace(
                f, message=f.message + note, extra={**f.extra, "removed_in": record.gone_in.digest}
            )
        out.append(f)
    return out
