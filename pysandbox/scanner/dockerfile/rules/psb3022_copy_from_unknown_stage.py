"""PSB3022: COPY --from that names no earlier stage (or an untagged image)."""

from __future__ import annotations

from collections.abc import Iterator

from pysandbox.scanner.dockerfile.model import Dockerfile, ImageRef
from pysandbox.scanner.dockerfile.rule import Rule
from pysandbox.types import Finding, Severity, is_decimal


def _is_image_reference(value: str) -> bool:
    """`--from=composer:2`, `--from=docker.io/x/y`: an image, which BuildKit pulls."""
    return any(c in value for c in ":/@")


class CopyFromUnknownStage(Rule):
    id = "PSB3022"
    severity = Severity.MEDIUM
    title = "COPY --from does not reference a previous stage"
    message = (
        "COPY --from names no stage defined above, so BuildKit tries to pull an image of that name: "
        "define the stage with `FROM ... AS <name>` before it, or give the full image reference with a tag."
    )
    aliases = ("DL3022",)

    def check(self, df: Dockerfile) -> Iterator[Finding]:
        for stage in df.stages:
            known = {s.name for s in df.stages[: stage.index + 1] if s.name}  # its own name: PSB3023
            for inst in stage.of("COPY"):
                source = inst.flag("from")
                if source is None:
                    continue
                value = inst.word(source)
                if value.lower() in known or "$" in value or (is_decimal(value) and int(value) < stage.index):
                    continue
                if not _is_image_reference(value):
                    yield self.at(df, inst, f"COPY --from={value}: no stage named {value} is defined above.")
                elif ImageRef.parse(value).tag is None and ImageRef.parse(value).digest is None:
                    yield self.at(
                        df, inst, f"COPY --from={value} pulls an untagged image (:latest): pin a tag."
                    )
