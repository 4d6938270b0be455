"""`pysandbox scan`: open the target, run the image rules, trivy and the Dockerfile linter, apply
ignores, and return one report. The CLI only parses flags and renders."""

from __future__ import annotations

import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pysandbox.report import Report, RuleInfo, sort_findings
from pysandbox.scanner import ignore as ignores
from pysandbox.scanner.image.engine import PACKAGES, ImageScan, scan_image
from pysandbox.scanner.image.packages import Package
from pysandbox.scanner.image.rules.base import CONFIG, FILES, SECRET
from pysandbox.scanner.image.source import ImageSource
from pysandbox.types import EXIT_USAGE, Finding, UserError

VULN = "vuln"
SCANNERS = (CONFIG, FILES, SECRET, PACKAGES, VULN)
PROGRESS_MIN_BYTES = 32 * 1024 * 1024  # below this a scan is quick enough without a progress bar


@dataclass
class ScanReport(Report):
    packages: list[Package] = field(default_factory=list)


@dataclass
class ScanOptions:
    target: str | None = None
    dockerfile: Path | None = None
    scanners: str | None = None  # comma list; None = every scanner available
    ignore: list[str] = field(default_factory=list)
    ignore_file: Path | None = None
    trivy: str | None = None
    trivy_cache_dir: Path | None = None
    offline: bool = False
    require_vulns: bool = False
    progress: bool = False
    also: tuple[str, ...] = ()  # scanners an output format needs (cyclonedx needs packages)
    notice: Callable[[str], None] = lambda line: print(f"pysandbox: {line}", file=sys.stderr)


def parse_scanners(text: str | None) -> set[str]:
    if text is None:
        return set(SCANNERS)
    chosen = {s.strip().lower() for s in text.split(",") if s.strip()}
    chosen = {
        "secret" if s == "secrets" else "vuln" if s in ("vulns", "vulnerabilities") else s for s in chosen
    }
    unknown = sorted(chosen - set(SCANNERS))
    if unknown or not chosen:
        raise UserError(
            f"unknown scanner {', '.join(unknown) or '(none)'}: use a comma list of {','.join(SCANNERS)}"
        )
    return chosen


def run_scan(opts: ScanOptions) -> ScanReport:
    if opts.target is None and opts.dockerfile is None:
        raise UserError(
            "nothing to scan: give an image (archive, OCI layout, store name) or a rootfs directory, "
            "and/or --dockerfile PATH"
        )
    scanners = parse_scanners(opts.scanners) | set(opts.also)
    entries = _ignore_entries(opts)
    findings: list[Finding] = []
    rules: dict[str, RuleInfo] = {}
    extra: dict[str, Any] = {}
    packages: list[Package] = []
    target_name = opts.target or str(opts.dockerfile)
    if opts.target is not None:
        from pysandbox.scanner.image.targets import open_target

        source = open_target(opts.target)
        target_name = source.name
        result = _scan_with_progress(source, scanners, opts.progress)
        findings += result.findings
        rules.update({r.id: r.info() for r in result.rules})
        packages = result.packages
        extra["image"] = _image_summary(source)
        if VULN in scanners:
            findings += _vulnerabilities(source, scanners, opts, findings)
    if opts.dockerfile is not None:
        lint = _lint(opts.dockerfile)
        findings += lint.findings
        rules.update(lint.rules)
    kept, ignored, expired = ignores.apply(findings, entries)
    for entry in expired:
        assert entry.expires is not None
        opts.notice(
            f"notice: {entry.origin}: ignore of {entry.id} expired on {entry.expires.isoformat()}: "
            "it no longer applies"
        )
    if ignored:
        extra["ignored"] = [i.to_json() for i in ignored]
    return ScanReport(
        tool="pysandbox scan",
        target=target_name,
        findings=sort_findings(kept),
        rules=rules,
        extra=extra,
        packages=packages,
    )


def _ignore_entries(opts: ScanOptions) -> list[ignores.IgnoreEntry]:
    entries = ignores.from_flags(opts.ignore)
    path = opts.ignore_file
    if path is None and Path(ignores.DEFAULT_NAME).is_file():
        path = Path(ignores.DEFAULT_NAME)
    if path is not None:
        entries += ignores.load(path)
    return entries


def _scan_with_progress(source: ImageSource, scanners: set[str], progress: bool) -> ImageScan:
    total = sum(layer.size for layer in source.layers)
    if not progress or total < PROGRESS_MIN_BYTES:
        return scan_image(source, scanners)
    with _progress_bar(total, source.name) as advance:
        return scan_image(source, scanners, progress=advance)


@contextmanager
def _progress_bar(total: int, name: str) -> Iterator[Callable[[int], None]]:
    from rich.console import Console
    from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeElapsedColumn

    columns = (
        TextColumn("[bold]scanning[/] {task.description}"),
        BarColumn(),
        DownloadColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task(name, total=total)
        yield lambda size: bar.advance(task, size)


def _image_summary(source: ImageSource) -> dict[str, Any]:
    return {
        "name": source.name,
        "kind": source.kind,
        "layers": [
            {
                "index": layer.ref.index,
                "digest": layer.ref.digest,
                "diff_id": layer.ref.diff_id,
                "created_by": layer.ref.created_by,
            }
            for layer in source.layers
        ],
    }


def _vulnerabilities(
    source: ImageSource, scanners: set[str], opts: ScanOptions, ours: list[Finding]
) -> list[Finding]:
    from pysandbox.scanner import trivy

    options = trivy.TrivyOptions(
        binary=opts.trivy,
        cache_dir=opts.trivy_cache_dir,
        offline=opts.offline,
        secrets=SECRET in scanners,
        misconfig=CONFIG in scanners,
    )
    try:
        with _trivy_workdir() as tmp:
            target = source.trivy_target
            if target is None and source.trivy_prepare is not None:
                target = source.trivy_prepare(Path(tmp))
            if target is None:
                raise trivy.TrivyUnavailable(f"trivy cannot read {source.kind} targets")
            doc = trivy.run(target, options)
    except trivy.TrivyUnavailable as exc:
        if opts.require_vulns:
            raise UserError(f"vulnerability scan required but unavailable: {exc}", EXIT_USAGE) from None
        opts.notice(f"notice: vulnerability scan skipped: {exc}")
        return []
    digests = {
        layer.ref.diff_id: layer.ref.digest
        for layer in source.layers
        if layer.ref.diff_id and layer.ref.digest
    }
    return trivy.dedupe(ours, trivy.to_findings(doc, digests))


@contextmanager
def _trivy_workdir() -> Iterator[str]:
    """Beside the image store (same filesystem), so store blobs can be hard-linked for trivy."""
    from pysandbox import paths

    base = paths.cache_dir()
    try:
        base.mkdir(parents=True, exist_ok=True)
    except OSError:
        base = Path(tempfile.gettempdir())
    with tempfile.TemporaryDirectory(prefix="psb-trivy-", dir=base) as tmp:
        yield tmp


def _lint(path: Path) -> Report:
    if not path.is_file():
        raise UserError(f"--dockerfile {path}: no such file: pass the path of the Dockerfile")
    from pysandbox.scanner.dockerfile import lint_paths

    return lint_paths([str(path)])
