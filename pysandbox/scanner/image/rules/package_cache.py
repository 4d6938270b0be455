"""PSB-I019: package-manager caches left in the image (size, and stale indexes that leak metadata)."""

from __future__ import annotations

import posixpath
from collections import Counter
from collections.abc import Iterable

from pysandbox.scanner.image.rules.base import FILES, Rule, ScanContext, in_dir
from pysandbox.scanner.image.source import Kind
from pysandbox.types import Finding, Location, Severity

# cache directory -> the command that should have cleaned it in the same RUN step
CACHES: dict[str, str] = {
    "/var/cache/apt/archives": "apt-get clean",
    "/var/lib/apt/lists": "rm -rf /var/lib/apt/lists/*",
    "/var/cache/apk": "apk add --no-cache",
    "/var/cache/yum": "yum clean all",
    "/var/cache/dnf": "dnf clean all",
    "/var/cache/zypp": "zypper clean -a",
    "/root/.cache/pip": "pip install --no-cache-dir",
    "/root/.npm/_cacache": "npm cache clean --force",
    "/usr/local/share/.cache/yarn": "yarn cache clean",
    "/root/.cache/go-build": "go clean -cache",
}
_IGNORED_NAMES = {"lock", "partial", "auxfiles"}


class PackageCache(Rule):
    id = "PSB-I019"
    severity = Severity.LOW
    title = "Package-manager cache left in image"
    fix = "Clean the cache in the same RUN step that fills it (or use a cache mount: RUN --mount=type=cache)."
    scanner = FILES
    aliases = ("DKL-DI-0005", "DKL-DI-0004")

    def check(self, ctx: ScanContext) -> Iterable[Finding]:
        for cache, cleaner in CACHES.items():
            total, count = 0, 0
            by_layer: Counter[str | None] = Counter()
            for path, record in ctx.fs.live.items():
                if record.kind is not Kind.FILE or not in_dir(path, cache) or path == cache:
                    continue
                if posixpath.basename(path) in _IGNORED_NAMES:
                    continue
                total += record.size
                count += 1
                by_layer[record.layer.digest] += record.size
            if count:
                layer = by_layer.most_common(1)[0][0]
                yield self.finding(
                    f"{cache} holds {count} files ({total} bytes) left by the package manager; "
                    f"clean it with `{cleaner}`.",
                    Location(cache, layer=layer),
                    files=count,
                    bytes=total,
                )


RULE = PackageCache()
