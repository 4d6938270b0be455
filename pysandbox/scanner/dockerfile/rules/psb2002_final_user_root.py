"""PSB2002: the final image runs as root (no USER, or the last USER is root)."""

from __future__ import annotations

from collections.abc import Iterator

from pysandbox.scanner.dockerfile.model import Dockerfile, Instruction
from pysandbox.scanner.dockerfile.rule import Rule
from pysandbox.scanner.dockerfile.rules._common import is_root_user, stage_chain
from pysandbox.types import Finding, Severity


def last_user(df: Dockerfile) -> Instruction | None:
    """The USER in effect in the final image (the final stage or the stages it is built FROM)."""
    final = df.final_stage
    if final is None:
        return None
    for stage in stage_chain(final):
        users = [i for i in stage.instructions if i.cmd == "USER"]
        if users:
            return users[-1]
    return None


class FinalUserRoot(Rule):
    id = "PSB2002"
    severity = Severity.HIGH
    title = "Image runs as root"
    message = (
        "The final image runs its process as root, so a compromise of the process is root in the "
        "container: create a user and end the final stage with `USER <uid>`."
    )
    fix = "RUN useradd -l -u 10001 app\nUSER 10001:10001"
    aliases = ("DS-0002", "AVD-DS-0002", "CKV_DOCKER_3")

    def check(self, df: Dockerfile) -> Iterator[Finding]:
        final = df.final_stage
        if final is None:
            return
        user = last_user(df)
        if user is not None:
            if is_root_user(user.word(user.text)):
                yield self.at(
                    df, user, "The last USER of the final image is root: switch to a non-root USER."
                )
            return
        base = stage_chain(final)[-1].ref
        if "nonroot" in (base.tag or "") or "nonroot" in base.repository:  # distroless :nonroot images
            return
        yield self.at(df, final.from_, "The final stage sets no USER, so the image runs as root: "
                                       "add `USER <uid>`.")  # fmt: skip
