"""PSB3057: the final image has no HEALTHCHECK."""

from __future__ import annotations

from collections.abc import Iterator

from pysandbox.scanner.dockerfile.model import Dockerfile
from pysandbox.scanner.dockerfile.rule import Rule
from pysandbox.scanner.dockerfile.rules._common import stage_chain
from pysandbox.types import Finding, Severity


class NoHealthcheck(Rule):
    id = "PSB3057"
    severity = Severity.LOW
    title = "No HEALTHCHECK in the final image"
    message = (
        "Without HEALTHCHECK the engine only knows whether the process runs, not whether it works: "
        "add a HEALTHCHECK to the final stage (or `HEALTHCHECK NONE` to say it is deliberate)."
    )
    fix = "HEALTHCHECK --interval=30s --timeout=3s CMD curl -fsS http://localhost:8080/health || exit 1"
    aliases = ("DL3057", "DS-0026", "AVD-DS-0026", "CKV_DOCKER_2")

    def check(self, df: Dockerfile) -> Iterator[Finding]:
        final = df.final_stage
        if final is None:
            return
        if any(i.cmd == "HEALTHCHECK" for s in stage_chain(final) for i in s.instructions):
            return
        yield self.at(df, final.from_)
