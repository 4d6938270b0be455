"""Parse a Dockerfile with BuildKit's own Go parser (the `dockerfile` package) into the model.

On top of the Go parser: parser directives, line numbers for its errors (it reports none),
BuildKit's "unknown instruction" check, stages with their names and base images, and ARG/ENV
scoping per stage (global ARGs before the first FROM are visible in FROM lines, and in a stage
only once re-declared with `ARG NAME`; ENV is inherited by stages built `FROM` another stage).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from pysandbox.scanner.dockerfile.model import (
    KNOWN_INSTRUCTIONS,
    Dockerfile,
    Heredoc,
    Instruction,
    ParseError,
    Stage,
)
from pysandbox.scanner.dockerfile.words import expand, process_word

_DIRECTIVE = re.compile(r"^#\s*([A-Za-z][A-Za-z0-9_-]*)\s*=\s*(.*?)\s*$")
_KNOWN_DIRECTIVES = frozenset({"syntax", "escape", "check"})


def parse(text: str, path: str = "Dockerfile", context_dir: Path | None = None) -> Dockerfile:
    import dockerfile as gobuild

    df = Dockerfile(path=path, text=text, context_dir=context_dir)
    df.directives = parse_directives(text)
    escape = df.directives.get("escape", "\\")
    if escape not in ("\\", "`"):
        df.error = ParseError(f"invalid escape token {escape!r}: it must be \\ or `", 1)
        return df
    try:
        commands = gobuild.parse_string(text)
    except gobuild.GoParseError as exc:
        df.error = _locate_error(str(exc), text)
        return df
    for cmd in commands:
        keyword = cmd.cmd.upper()
        if keyword not in KNOWN_INSTRUCTIONS:
            df.error = ParseError(f"unknown instruction: {cmd.cmd}", cmd.start_line)
            return df
    df.instructions = [_instruction(c, escape) for c in commands]
    _build_stages(df)
    return df


def parse_directives(text: str) -> dict[str, str]:
    """`# syntax=...`, `# escape=...`, `# check=...` at the very top, as BuildKit reads them."""
    found: dict[str, str] = {}
    for line in text.lstrip("\ufeff").splitlines():
        match = _DIRECTIVE.match(line.strip())
        if not match:
            break
        key = match.group(1).lower()
        if key not in _KNOWN_DIRECTIVES or key in found:
            break
        found[key] = match.group(2)
    return found


def _instruction(cmd: Any, escape: str) -> Instruction:
    return Instruction(
        cmd=cmd.cmd.upper(),
        args=tuple(cmd.value),
        flags=tuple(cmd.flags),
        json=bool(cmd.json),
        original=cmd.original,
        line=cmd.start_line,
        end_line=cmd.end_line,
        heredocs=tuple(Heredoc(h.name, h.content, h.file_descriptor) for h in cmd.heredocs),
        sub_cmd=cmd.sub_cmd.upper() if cmd.sub_cmd else None,
        escape=escape,
    )


def _build_stages(df: Dockerfile) -> None:
    escape = df.escape
    global_args: dict[str, str | None] = {}
    stage: Stage | None = None
    scope: dict[str, str | None] = {}
    stage_env: dict[int, dict[str, str | None]] = {}  # ENV visible at the end of each stage
    for inst in df.instructions:
        if inst.cmd == "FROM":
            stage = _new_stage(df, inst, global_args, escape)
            parent_env = stage_env.get(stage.parent.index, {}) if stage.parent else {}
            scope = dict(parent_env)
            inst.stage = stage.index
            stage_env[stage.index] = dict(parent_env)
            continue
        inst.env = scope if stage is not None else dict(global_args)
        if stage is None:
            if inst.cmd == "ARG":
                for key, value in inst.pairs():
                    global_args[key] = value
            continue
        inst.stage = stage.index
        stage.instructions.append(inst)
        if inst.cmd == "ARG":
            scope = dict(scope)
            for key, value in inst.pairs():
                scope[key] = value if value is not None else scope.get(key, global_args.get(key))
        elif inst.cmd == "ENV":
            scope = dict(scope)
            for key, value in inst.pairs():
                scope[key] = value
                stage_env[stage.index][key] = value
    df.global_args = global_args


def _new_stage(df: Dockerfile, inst: Instruction, global_args: dict[str, str | None], escape: str) -> Stage:
    inst.env = dict(global_args)
    args = list(inst.args)
    name: str | None = None
    if len(args) >= 3 and args[-2].lower() == "as":
        name = process_word(args[-1], global_args, escape).lower()
        args = args[:-2]
    image = expand(args[0], global_args, escape) if args else ""
    platform = inst.flag("platform")
    stage = Stage(len(df.stages), inst, image, name, platform)
    stage.parent = df.stage_named(image) if image else None
    df.stages.append(stage)
    return stage


def _locate_error(message: str, text: str) -> ParseError:
    """The Go parser's errors carry no line: find the shortest prefix of the file that fails the same way."""
    import dockerfile as gobuild

    lines = text.splitlines(keepends=True)
    if "no instructions" in message or not lines:
        return ParseError(message, 1 if not lines else len(lines))

    def fails(n: int) -> bool:
        try:
            gobuild.parse_string("".join(lines[:n]))
        except gobuild.GoParseError as exc:
            return str(exc) == message
        return False

    lo, hi = 1, len(lines)
    if not fails(hi):
        return ParseError(message, 1)
    while lo < hi:
        mid = (lo + hi) // 2
        if fails(mid):
            hi = mid
        else:
            lo = mid + 1
    return ParseError(message, _instruction_start(lines, lo))


def _instruction_start(lines: list[str], line: int) -> int:
    """Walk back over continuation lines to the line where the failing instruction begins."""
    start = line
    while start > 1 and lines[start - 2].rstrip("\r\n").endswith(("\\", "`")):
        start -= 1
    return start
