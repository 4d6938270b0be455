"""What every image rule is: metadata (id, severity, title, fix, aliases) and up to three hooks.

- `keep(path, size)`: ask the layered view to hold this file's content (small config files).
- `consumer(ctx)`: a streaming consumer that sees file contents as each layer streams past.
- `check(ctx)`: runs once the whole image is read (config, live view, history of every path).
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, ClassVar

from pysandbox.report import RuleInfo
from pysandbox.scanner.image.fsview import ContentConsumer, FileRecord, LayeredFS
from pysandbox.scanner.image.source import ImageSource
from pysandbox.types import Finding, Location, Severity

CONFIG, FILES, SECRET = "config", "files", "secret"


@dataclass(frozen=True)
class Hit:
    """A finding about one version of one file (so the engine can tell if it was removed later)."""

    record: FileRecord
    finding: Finding


@dataclass
class ScanContext:
    source: ImageSource
    fs: LayeredFS = field(default_factory=LayeredFS)
    hits: list[Hit] = field(default_factory=list)

    @property
    def image_config(self) -> dict[str, Any]:
        return self.source.container_config


class Rule:
    id: ClassVar[str]
    severity: ClassVar[Severity]
    title: ClassVar[str]
    fix: ClassVar[str]
    scanner: ClassVar[str]
    aliases: ClassVar[tuple[str, ...]] = ()
    order: ClassVar[int] = 0  # rules that read other rules' hits run later

    def keep(self, path: str, size: int) -> bool:
        return False

    def consumer(self, ctx: ScanContext) -> ContentConsumer | None:
        return None

    def check(self, ctx: ScanContext) -> Iterable[Finding]:
        return ()

    @classmethod
    def info(cls) -> RuleInfo:
        return RuleInfo(cls.id, cls.title, cls.severity, help=cls.fix, aliases=cls.aliases)

    def finding(
        self,
        message: str,
        location: Location,
        severity: Severity | None = None,
        aliases: tuple[str, ...] = (),
        **extra: Any,
    ) -> Finding:
        return Finding(
            rule_id=self.id,
            severity=self.severity if severity is None else severity,
            title=self.title,
            message=message,
            location=location,
            fix=self.fix,
            aliases=tuple(dict.fromkeys((*self.aliases, *aliases))),
            extra=extra,
        )

    def file_finding(
        self,
        ctx: ScanContext,
        record: FileRecord,
        message: str,
        line: int | None = None,
        severity: Severity | None = None,
        aliases: tuple[str, ...] = (),
        **extra: Any,
    ) -> Finding:
        """A finding located at a file version, remembered as a hit for the removed-file rule."""
        location = Location(record.path, line, layer=record.layer.digest)
        found = self.finding(message, location, severity, aliases, **extra)
        ctx.hits.append(Hit(record, found))
        return found


def config_location(what: str, layer: str | None = None) -> Location:
    """Config findings point at the image config (there is no file in the image to point at)."""
    return Location(f"image-config/{what}", layer=layer)


@dataclass(frozen=True)
class HistoryStep:
    index: int
    created_by: str
    layer: str | None  # digest of the layer this step produced (None for metadata-only steps)


def history_steps(ctx: ScanContext) -> list[HistoryStep]:
    """Build steps from the config history, each tied to the layer it produced (if any)."""
    layers = iter(ctx.source.layers)
    steps = []
    for index, entry in enumerate(ctx.source.history):
        layer = None
        if not entry.get("empty_layer"):
            nxt = next(layers, None)
            layer = nxt.ref.digest if nxt else None
        steps.append(HistoryStep(index, str(entry.get("created_by") or entry.get("comment") or ""), layer))
    return steps


def in_dir(path: str, *dirs: str) -> bool:
    return any(path == d or path.startswith(d.rstrip("/") + "/") for d in dirs)


def basename(path: str) -> str:
    return posixpath.basename(path)
