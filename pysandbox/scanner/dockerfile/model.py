"""The parsed Dockerfile that rules see: instructions, stages, variables, shell analysis."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from pysandbox.scanner.dockerfile.shell import ShellScript, analyze, analyze_argv
from pysandbox.scanner.dockerfile.words import expand, process_word

# Instructions BuildKit knows; anything else fails the build ("unknown instruction").
KNOWN_INSTRUCTIONS = frozenset(
    {"ADD", "ARG", "CMD", "COPY", "ENTRYPOINT", "ENV", "EXPOSE", "FROM", "HEALTHCHECK", "LABEL",
     "MAINTAINER", "ONBUILD", "RUN", "SHELL", "STOPSIGNAL", "USER", "VOLUME", "WORKDIR"}
)  # fmt: skip

_HEREDOC_MARK = re.compile(r"^<<-?(['\"]?)([A-Za-z0-9_.-]+)\1$")
_SHELL_NAMES = frozenset({"sh", "bash", "ash", "dash", "zsh", "ksh"})


def _runs_heredoc_as_script(value: str) -> bool:
    """`RUN <<EOF`, `RUN <<EOF bash`, `RUN bash -e <<EOF`: the heredoc is the shell script itself."""
    words = [w for w in value.split() if not _HEREDOC_MARK.match(w)]
    if not words:
        return True
    return words[0].rsplit("/", 1)[-1] in _SHELL_NAMES and all(w.startswith("-") for w in words[1:])


@dataclass(frozen=True)
class Heredoc:
    name: str
    content: str
    fd: int = 0


@dataclass(frozen=True)
class ParseError:
    message: str
    line: int
    column: int | None = None


@dataclass
class Instruction:
    """One instruction. `cmd` is upper-case; for `ONBUILD RUN x`, cmd is ONBUILD and sub_cmd RUN."""

    cmd: str
    args: tuple[str, ...]
    flags: tuple[str, ...]
    json: bool
    original: str
    line: int
    end_line: int
    heredocs: tuple[Heredoc, ...] = ()
    sub_cmd: str | None = None
    stage: int = -1  # index of its stage; -1 for ARGs before the first FROM
    env: Mapping[str, str | None] = field(default_factory=dict)  # ARG/ENV in scope *before* it
    escape: str = "\\"

    @property
    def kind(self) -> str:
        """The instruction a rule reasons about: `RUN` for both `RUN x` and `ONBUILD RUN x`."""
        return self.sub_cmd or self.cmd

    def flag_values(self, name: str) -> list[str]:
        """Values of `--name=value` (repeatable, e.g. --mount); `--name` alone gives ""."""
        prefix = "--" + name
        out: list[str] = []
        for f in self.flags:
            if f == prefix:
                out.append("")
            elif f.startswith(prefix + "="):
                out.append(f[len(prefix) + 1 :])
        return out

    def flag(self, name: str) -> str | None:
        values = self.flag_values(name)
        return values[-1] if values else None

    def has_flag(self, name: str) -> bool:
        return bool(self.flag_values(name))

    def mounts(self) -> list[dict[str, str]]:
        """`RUN --mount=type=cache,target=/x` -> [{"type": "cache", "target": "/x"}]."""
        out = []
        for spec in self.flag_values("mount"):
            fields: dict[str, str] = {}
            for item in spec.split(","):
                key, sep, value = item.partition("=")
                fields[key.strip().lower()] = value if sep else "true"
            out.append(fields)
        return out

    def word(self, text: str) -> str:
        """Quotes removed and variables substituted with what is in scope here."""
        return process_word(text, self.env, self.escape)

    def words(self) -> list[str]:
        return [self.word(a) for a in self.args]

    def pairs(self) -> list[tuple[str, str | None]]:
        """ENV/LABEL: (key, value) with quotes removed and variables substituted; ARG: (name, default)."""
        if self.kind in ("ENV", "LABEL"):
            a = self.args
            return [
                (self.word(a[i]), self.word(a[i + 1]) if i + 1 < len(a) else "") for i in range(0, len(a), 2)
            ]
        if self.kind == "ARG":
            out: list[tuple[str, str | None]] = []
            for word in self.args:
                key, sep, value = word.partition("=")
                out.append((key, self.word(value) if sep else None))
            return out
        return []

    @property
    def text(self) -> str:
        """The instruction's arguments as one string (shell form command, paths...)."""
        return " ".join(self.args)

    @cached_property
    def shell(self) -> ShellScript | None:
        """Shell analysis of RUN/CMD/ENTRYPOINT (computed once, on first use)."""
        if self.kind not in ("RUN", "CMD", "ENTRYPOINT"):
            return None
        if self.json:
            return analyze_argv(self.args)
        script = self.args[0] if len(self.args) == 1 else " ".join(self.args)
        if self.heredocs:
            script = _heredoc_script(script, self.heredocs)
        return analyze(script)


def _heredoc_script(value: str, heredocs: tuple[Heredoc, ...]) -> str:
    if len(heredocs) == 1 and _runs_heredoc_as_script(value):
        return heredocs[0].content
    parts = [value]
    for doc in heredocs:
        parts.append(doc.content.rstrip("\n"))
        parts.append(doc.name)
    return "\n".join(parts)


_REF = re.compile(
    r"^(?:(?P<registry>[^/]+)/)?(?P<repo>[^:@]+(?:/[^:@]+)*)(?::(?P<tag>[^@]+))?(?:@(?P<digest>.+))?$"
)


@dataclass(frozen=True)
class ImageRef:
    """A base image reference as written (after substitution): registry/repository:tag@digest."""

    raw: str
    registry: str | None
    repository: str
    tag: str | None
    digest: str | None

    @classmethod
    def parse(cls, raw: str) -> ImageRef:
        name, _, digest = raw.partition("@")
        tag: str | None = None
        last_slash = name.rfind("/")
        colon = name.rfind(":")
        if colon > last_slash:
            name, tag = name[:colon], name[colon + 1 :]
        registry: str | None = None
        first, sep, rest = name.partition("/")
        if sep and ("." in first or ":" in first or first == "localhost"):
            registry, name = first, rest
        return cls(raw, registry, name, tag, digest or None)

    @property
    def is_scratch(self) -> bool:
        return self.raw.lower() == "scratch"

    @property
    def has_variables(self) -> bool:
        return "$" in self.raw


@dataclass
class Stage:
    index: int
    from_: Instruction
    image: str  # base image after substitution of global ARGs
    name: str | None  # `AS name`, lower-cased as BuildKit compares it
    platform: str | None
    instructions: list[Instruction] = field(default_factory=list)  # after FROM, in order
    parent: Stage | None = None  # set when the base image is an earlier stage

    @property
    def ref(self) -> ImageRef:
        return ImageRef.parse(self.image)

    def of(self, *kinds: str) -> Iterator[Instruction]:
        return (i for i in self.instructions if i.kind in kinds)


@dataclass
class Dockerfile:
    path: str  # as given by the user ("-" for stdin)
    text: str
    instructions: list[Instruction] = field(default_factory=list)
    stages: list[Stage] = field(default_factory=list)
    global_args: dict[str, str | None] = field(default_factory=dict)
    directives: dict[str, str] = field(default_factory=dict)
    error: ParseError | None = None
    context_dir: Path | None = None  # directory holding the Dockerfile (None for stdin)

    @cached_property
    def lines(self) -> list[str]:
        return self.text.splitlines()

    @property
    def escape(self) -> str:
        return self.directives.get("escape", "\\")

    @property
    def final_stage(self) -> Stage | None:
        return self.stages[-1] if self.stages else None

    def of(self, *kinds: str) -> Iterator[Instruction]:
        """Instructions of these kinds (ONBUILD X counts as X), in file order."""
        return (i for i in self.instructions if i.kind in kinds)

    def stage_named(self, name: str) -> Stage | None:
        lowered = name.lower()
        return next((s for s in self.stages if s.name == lowered), None)

    def stage_of(self, inst: Instruction) -> Stage | None:
        return self.stages[inst.stage] if 0 <= inst.stage < len(self.stages) else None

    def expand(self, text: str, inst: Instruction) -> str:
        return expand(text, inst.env, self.escape)
