"""PSB-I011: world-writable files, and world-writable directories without the sticky bit."""

from __future__ import annotations

import stat
from collections.abc import Iterable

from pysandbox.scanner.image.rules.base import FILES, Rule, ScanContext, in_dir
from pysandbox.scanner.image.source import Kind
from pysandbox.types import Finding, Severity

_SKIP = ("/proc", "/sys", "/dev")  # pseudo filesystems are mounted over these at run time


class WorldWritable(Rule):
    id = "PSB-I011"
    severity = Severity.MEDIUM
    title = "World-writable path"
    fix = (
        "Remove write permission for others (`chmod o-w PATH`), or set the sticky bit on shared directories."
    )
    scanner = FILES

    def check(self, ctx: ScanContext) -> Iterable[Finding]:
        for record in sorted(ctx.fs.live.values(), key=lambda r: r.path):
            if not record.mode & stat.S_IWOTH or in_dir(record.path, *_SKIP):
                continue
            if record.kind is Kind.DIR and not record.mode & stat.S_ISVTX:
                yield self.file_finding(
                    ctx,
                    record,
                    f"Directory {record.path} is world-writable without the sticky "
                    f"bit (mode {record.mode:04o}): anyone can delete or replace its files.",
                )
            elif record.kind in (Kind.FILE, Kind.HARDLINK):
                yield self.file_finding(
                    ctx, record, f"File {record.path} is world-writable (mode {record.mode:04o})."
                )


RULE = WorldWritable()
