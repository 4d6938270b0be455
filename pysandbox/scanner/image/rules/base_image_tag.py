"""PSB-I007: the base image was referenced by `latest` (or no tag) or without a digest.

Seen where the image records it: the OCI base-image annotations/labels
(`org.opencontainers.image.base.name`/`.digest`, set by BuildKit) or a `FROM` in the history.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

from pysandbox.scanner.image.rules.base import CONFIG, Rule, ScanContext, config_location, history_steps
from pysandbox.types import Finding, Location, Severity

BASE_NAME = "org.opencontainers.image.base.name"
BASE_DIGEST = "org.opencontainers.image.base.digest"
_FROM = re.compile(r"(?:^|\s)FROM\s+(?:--platform=\S+\s+)?([A-Za-z0-9][^\s]*)", re.I)


def tag_of(ref: str) -> str | None:
    """The tag of an image reference, or None when there is none (which means `latest`)."""
    last = ref.rsplit("/", 1)[-1]
    return last.split(":", 1)[1] if ":" in last else None


class BaseImageTag(Rule):
    id = "PSB-I007"
    severity = Severity.MEDIUM
    title = "Base image not pinned"
    fix = "Pin the base image by digest: `FROM name:tag@sha256:<digest>` (and let a bot update it)."
    scanner = CONFIG
    aliases = ("DS001", "AVD-DS-0001", "DKL-DI-0006")

    def check(self, ctx: ScanContext) -> Iterable[Finding]:
        seen: set[str] = set()
        for ref, digest, where in self._bases(ctx):
            if ref.lower() == "scratch" or ref in seen:
                continue
            seen.add(ref)
            tag = tag_of(ref.split("@", 1)[0])
            if tag in (None, "latest"):
                yield self.finding(
                    f"Base image {ref} uses the `latest` tag: builds are not reproducible.", where
                )
            elif "@" not in ref and not digest:
                yield self.finding(f"Base image {ref} is not pinned by digest.", where, severity=Severity.LOW)

    @staticmethod
    def _bases(ctx: ScanContext) -> Iterator[tuple[str, str | None, Location]]:
        labels = ctx.image_config.get("Labels") or {}
        for source, what in ((ctx.source.annotations, "annotations"), (labels, "Labels")):
            if isinstance(source, dict) and source.get(BASE_NAME):
                yield str(source[BASE_NAME]), source.get(BASE_DIGEST), config_location(f"{what}/{BASE_NAME}")
        for step in history_steps(ctx):
            for m in _FROM.finditer(step.created_by):
                yield m.group(1), None, config_location(f"history/{step.index}", layer=step.layer)


RULE = BaseImageTag()
