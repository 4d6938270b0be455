"""PSB1001: a credential (by its shape) written into the Dockerfile."""

from __future__ import annotations

from collections.abc import Iterator

from pysandbox.scanner.dockerfile.model import Dockerfile
from pysandbox.scanner.dockerfile.rule import Rule
from pysandbox.scanner.dockerfile.rules._secrets import is_secret_name, secret_in_value
from pysandbox.types import Finding, Severity

_CHECKED = ("ARG", "ENV", "LABEL", "RUN", "CMD", "ENTRYPOINT", "HEALTHCHECK", "ADD")


def _literal(value: str | None) -> bool:
    """A value written out, not a variable or an empty placeholder."""
    return bool(value) and not value.startswith("$") and value.lower() not in ("changeme", "none", "null")  # type: ignore[union-attr]


class SecretValues(Rule):
    id = "PSB1001"
    severity = Severity.CRITICAL
    title = "Credential written in the Dockerfile"
    message = (
        "A credential in the Dockerfile is visible to everyone who can read the repository or pull "
        "the image: revoke it, and pass it at build time with `RUN --mount=type=secret`."
    )
    fix = "RUN --mount=type=secret,id=token,env=TOKEN ./fetch.sh"

    def check(self, df: Dockerfile) -> Iterator[Finding]:
        for inst in df.instructions:
            if inst.kind not in _CHECKED:
                continue
            text = inst.original + "".join(h.content for h in inst.heredocs)
            kind = secret_in_value(text)
            if kind is not None:
                yield self.at(df, inst, f"{inst.kind} contains {kind}: revoke it and use a build secret.")
            elif inst.kind == "LABEL":
                names = [k for k, v in inst.pairs() if is_secret_name(k) and _literal(v)]
                if names:
                    yield self.at(df, inst, f"LABEL {', '.join(names)} holds a secret: labels are public "
                                            "image metadata, remove it.")  # fmt: skip
