"""Helpers shared by several rules (not a rule module: the leading underscore keeps it out of discovery)."""

from __future__ import annotations

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
