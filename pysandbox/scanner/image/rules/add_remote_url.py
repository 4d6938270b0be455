"""PSB-I008: the history shows `ADD <remote URL>` (unverified download into the image)."""

from __future__ import annotations

import re
from collections.abc import Iterable

from pysandbox.scanner.image.rules.base import CONFIG, Rule, ScanContext, config_location, history_steps
from pysandbox.types import Finding, Severity

_ADD_URL = re.compile(r"(?:^|#\(nop\)\s+|\s)ADD\s+(?:--\S+\s+)*(?:\S+:\s+)?(https?://\S+|git@\S+)", re.I)


class AddRemoteUrl(Rule):
    id = "PSB-I008"
    severity = Severity.MEDIUM
    title = "ADD of a remote URL"
    fix = (
        "Download with `RUN curl -fsSLO URL && echo '<sha256>  file' | sha256sum -c -` (or "
        "`ADD --checksum=sha256:...`), or COPY a vendored file."
    )
    scanner = CONFIG
    aliases = ("CIS-DI-0009", "DS005", "AVD-DS-0005")

    def check(self, ctx: ScanContext) -> Iterable[Finding]:
        for step in history_steps(ctx):
            m = _ADD_URL.search(step.created_by)
            if m and "--checksum" not in step.created_by:
                yield self.finding(
                    f"Build step {step.index} ADDs {m.group(1)} without a checksum.",
                    config_location(f"history/{step.index}", layer=step.layer),
                )


RULE = AddRemoteUrl()
