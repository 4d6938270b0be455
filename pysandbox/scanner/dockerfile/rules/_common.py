"""Helpers shared by several rules (not a rule module: the leading underscore keeps it out of discovery)."""

from __future__ import annotations

from pysandbox.scanner.dockerfile.model import Dockerfile, Instruction, Stage

ARCHIVE_EXTENSIONS = (".tar", ".Z", ".bz2", ".gz", ".lz", ".lzma", ".tZ", ".tb2", ".tbz", ".tbz2", ".tgz",
                      ".tlz", ".tpz", ".txz", ".xz", ".zst", ".tzst")  # fmt: skip
ROOT_USERS = frozenset({"root", "0"})


def unquote(text: str) -> str:
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "\"'":
        return text[1:-1]
    return text


def basename(path: str) -> str:
    return unquote(path).replace("\\", "/").rstrip("/").rsplit("/", 1)[-1]


def is_archive(path: str) -> bool:
    return unquote(path).endswith(ARCHIVE_EXTENSIONS)


def is_url(path: str) -> bool:
    return unquote(path).lower().startswith(("http://", "https://"))


def is_root_user(user: str) -> bool:
    """`root`, `0`, `root:root`, `0:0`: the user part names uid 0."""
    return unquote(user.strip()).split(":", 1)[0] in ROOT_USERS


def source_and_dest(args: tuple[str, ...], heredoc_names: set[str]) -> tuple[list[str], str | None]:
    """COPY/ADD arguments (shell or JSON form) -> (sources, destination); heredoc markers dropped."""
    if not args:
        return [], None
    words = [a for a in args if not (a.startswith("<<") and a.lstrip("<-").strip("\"'") in heredoc_names)]
    if len(args) == 1:
        return [], args[0]
    return words[:-1], args[-1]


NON_POSIX_SHELLS = ("pwsh", "powershell", "cmd")  # Windows shells: no POSIX pipes, no pipefail


def program(word: str) -> str:
    """`C:\\Windows\\System32\\cmd.exe` -> `cmd.exe`, `/bin/bash` -> `bash` (lower-case)."""
    return basename(word).lower()


def active_shell(df: Dockerfile, inst: Instruction) -> Instruction | None:
    """The last SHELL instruction before `inst` in its stage (None: the default /bin/sh -c)."""
    stage = df.stage_of(inst)
    shell = None
    for other in stage.instructions if stage is not None else ():
        if other is inst:
            break
        if other.cmd == "SHELL":
            shell = other
    return shell


def runs_non_posix(df: Dockerfile, inst: Instruction) -> bool:
    """A RUN that PowerShell or cmd interprets: by the stage's SHELL, or `RUN powershell ...` itself."""
    shell = active_shell(df, inst)
    if shell is not None and shell.args and program(shell.args[0]).startswith(NON_POSIX_SHELLS):
        return True
    script = inst.shell
    first = script.commands[0].words[0] if script is not None and script.commands else ""
    return program(first).startswith(NON_POSIX_SHELLS) if first else False


def stage_chain(stage: Stage) -> list[Stage]:
    """The stage and the earlier stages it is built FROM, nearest first."""
    chain = [stage]
    while chain[-1].parent is not None and chain[-1].parent not in chain:
        chain.append(chain[-1].parent)
    return chain


def shipped_stages(df: Dockerfile) -> list[Stage]:
    """Stages whose layers end up in the image: the final stage and the stages it is built FROM.

    (A build stage that is only copied from leaves its caches behind; hadolint's DL3009/DL3060 also
    skip such stages.)
    """
    return stage_chain(df.final_stage)[::-1] if df.final_stage is not None else []
