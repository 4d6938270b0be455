"""PSB-I004: a secret is visible in the build history (`created_by`: build args, RUN commands).

Build args given with `--build-arg` are recorded by both the classic builder and BuildKit as
`|N NAME=VALUE ... /bin/sh -c ...` in the history of every RUN step that uses them.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterable, Iterator

from pysandbox.scanner.image.rules.base import (
    CONFIG,
    HistoryStep,
    Rule,
    ScanContext,
    config_location,
    history_steps,
)
from pysandbox.scanner.image.secrets import a_or_an, find_secrets, redact, secret_assignment
from pysandbox.types import Finding, Severity

_BUILD_ARGS = re.compile(r"^(?:RUN\s+)?\|(\d+)\s+(.*)$", re.S)
_ENV_OR_LABEL = re.compile(r"^(?:/bin/sh -c #\(nop\)\s+)?(ENV|LABEL)\s+(.*)$", re.S)


def _words(text: str) -> list[str]:
    try:
        return shlex.split(text)
    except ValueError:
        return text.split()


def build_args(created_by: str) -> list[tuple[str, str]]:
    m = _BUILD_ARGS.match(created_by.strip())
    if not m:
        return []
    count = int(m.group(1))
    return [(w.partition("=")[0], w.partition("=")[2]) for w in _words(m.group(2))[:count] if "=" in w]


class HistorySecret(Rule):
    id = "PSB-I004"
    severity = Severity.HIGH
    title = "Secret in build history"
    fix = (
        "Use BuildKit secret mounts (`RUN --mount=type=secret,...`) instead of build args or inline "
        "values: history is shipped with the image. Rotate the exposed secret."
    )
    scanner = CONFIG
    aliases = ("CIS-DI-0010",)

    def check(self, ctx: ScanContext) -> Iterable[Finding]:
        current = {str(e) for e in ctx.image_config.get("Env") or []}
        labels = ctx.image_config.get("Labels") or {}
        current |= {f"{k}={v}" for k, v in labels.items()} if isinstance(labels, dict) else set()
        for step in history_steps(ctx):
            yield from self._check_step(step, current)

    def _check_step(self, step: HistoryStep, current: set[str]) -> Iterator[Finding]:
        where = config_location(f"history/{step.index}", layer=step.layer)
        text = step.created_by
        env = _ENV_OR_LABEL.match(text.strip())
        if env:
            # Still in the config: reported by PSB-I002/PSB-I003; only values since changed count here.
            text = " ".join(w for w in _words(env.group(2)) if w not in current)
        reported: set[str] = set()
        for name, value in build_args(step.created_by):
            if secret_assignment(name, value) or find_secrets(value.encode()):
                reported.add(value)
                yield self.finding(
                    f"Build step {step.index} was given build arg {name}={redact(value.encode())}.",
                    where,
                    step=step.created_by[:200],
                )
        for value in reported:
            text = text.replace(value, "")
        for m in find_secrets(text.encode()):
            yield self.finding(
                f"Build step {step.index} contains {a_or_an(m.pattern.title)} ({m.secret}).",
                where,
                severity=max(self.severity, m.pattern.severity),
                aliases=(m.pattern.id,),
            )


RULE = HistorySecret()
