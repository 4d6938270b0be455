"""The parsed model: BuildKit's parser plus directives, stages, substitution and error lines."""

from __future__ import annotations

import pytest

from pysandbox.scanner.dockerfile.parser import parse
from pysandbox.scanner.dockerfile.words import process_word


def test_instructions_flags_and_forms() -> None:
    df = parse(
        "FROM --platform=$BUILDPLATFORM golang:1.22 AS build\n"
        "COPY --from=build --chown=1:1 --chmod=755 --link a /b/\n"
        "RUN --mount=type=cache,target=/root/.cache go build \\\n    ./...\n"
        'CMD ["app", "--serve"]\n'
    )
    assert df.error is None
    frm, copy, run, cmd = df.instructions
    assert frm.flag("platform") == "$BUILDPLATFORM"
    assert copy.flag("from") == "build" and copy.flag("chmod") == "755" and copy.has_flag("link")
    assert run.mounts() == [{"type": "cache", "target": "/root/.cache"}]
    assert (run.line, run.end_line) == (3, 4)
    assert cmd.json and cmd.args == ("app", "--serve")
    assert df.stages[0].name == "build" and df.stages[0].platform == "$BUILDPLATFORM"


def test_directives_and_escape() -> None:
    directives = "# syntax=docker/dockerfile:1\n# escape=`\n"
    df = parse(directives + "FROM mcr.microsoft.com/windows:ltsc2022\nRUN dir `\n  C:\\\n")
    assert df.directives == {"syntax": "docker/dockerfile:1", "escape": "`"}
    assert df.escape == "`"
    run = df.instructions[1]
    assert (run.line, run.end_line) == (4, 5)
    assert "C:\\" in run.text


def test_directives_stop_at_first_other_line() -> None:
    assert parse("FROM a:1\n# escape=`\n").directives == {}


def test_heredoc_run_is_analysed_as_script() -> None:
    df = parse("FROM debian:12\nRUN <<EOF bash\napt-get update\napt-get install -y curl\nEOF\n")
    run = df.instructions[1]
    assert run.heredocs[0].name == "EOF"
    assert run.shell is not None
    assert [c.words[:2] for c in run.shell] == [("apt-get", "update"), ("apt-get", "install")]


def test_heredoc_as_input_of_a_command() -> None:
    df = parse("FROM debian:12\nRUN cat <<EOF > /etc/x.conf\nkey=value\nEOF\n")
    shell = df.instructions[1].shell
    assert shell is not None and shell.names() == {"cat"}


def test_stage_scoping_of_args_and_env() -> None:
    df = parse(
        "ARG TAG=3.20\nARG BASE=alpine\n"
        "FROM ${BASE}:${TAG} AS base\nENV APP=/srv\nARG TAG\n"
        "FROM base AS child\nRUN true\n"
        "FROM debian:${DEBIAN:-12}\nRUN true\n"
    )
    base, child, debian = df.stages
    assert base.image == "alpine:3.20" and base.ref.tag == "3.20"
    assert child.parent is base
    assert child.instructions[0].env["APP"] == "/srv"  # ENV inherited from the parent stage
    assert "TAG" not in child.instructions[0].env  # ARG is per stage
    assert df.stages[0].instructions[1].env["APP"] == "/srv"
    assert debian.image == "debian:12"
    assert df.global_args == {"TAG": "3.20", "BASE": "alpine"}


def test_redeclared_global_arg_gets_its_default() -> None:
    df = parse("ARG V=1.2\nFROM alpine:3\nARG V\nRUN echo $V\n")
    assert df.instructions[-1].env["V"] == "1.2"


@pytest.mark.parametrize(
    "word, expected",
    [
        ("${A:-x}", "1"),
        ("${UNSET:-x}", "x"),
        ("${EMPTY:-x}", "x"),
        ("${EMPTY-x}", ""),
        ("${A:+yes}", "yes"),
        ("${UNSET:+yes}", ""),
        ("$A/$UNSET", "1/$UNSET"),
        ("'$A' \"$A\"", "$A 1"),
        ("a\\ b", "a b"),
    ],
)
def test_substitution(word: str, expected: str) -> None:
    assert process_word(word, {"A": "1", "EMPTY": ""}) == expected


def test_env_and_label_pairs_are_unquoted() -> None:
    df = parse('FROM a:1\nENV X="a b" Y=\'c d\' Z=$X\nLABEL "k"="v 1"\nARG N M=2\n')
    env, label, arg = df.instructions[1:]
    assert env.pairs() == [("X", "a b"), ("Y", "c d"), ("Z", "$X")]
    assert label.pairs() == [("k", "v 1")]
    assert arg.pairs() == [("N", None), ("M", "2")]


@pytest.mark.parametrize(
    "text, line, fragment",
    [
        ("FROM a:1\nRUN true\nENV X\n", 3, "ENV must have two arguments"),
        ("FROM a:1\nRUN echo \\\n  hi\nLABEL onlykey\n", 4, "LABEL"),
        ("# just a comment\n", 1, "no instructions"),
        ("FROM a:1\nMADEUP foo\n", 2, "unknown instruction"),
        ('FROM a:1\nCMD ["a", ["b"]]\n', 2, "JSON"),
        ("# escape=x\nFROM a:1\n", 1, "escape"),
    ],
)
def test_errors_have_a_line(text: str, line: int, fragment: str) -> None:
    df = parse(text)
    assert df.error is not None
    assert df.error.line == line
    assert fragment in df.error.message
