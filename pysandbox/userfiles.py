"""Files the user names (a profile, a config, --env-file, ...): their text, or one error in one wording.

Every message names the file, the problem and the caller's fix:
    cannot read {what} {path}: {strerror}: {fix}
    {what} {path} is a directory: {fix}
    {what} {path} is larger than {size}: {fix}
    {what} {path} is not UTF-8 text (invalid byte at offset N): {fix}

Light on purpose: `run --env-file` reads through here, so only `os` is imported (no typing, no yaml).
"""

from __future__ import annotations

import os

from pysandbox.types import UserError

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing on the run path
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

_MiB = 1 << 20
# Profiles, configs, manifests and env files are kilobytes: a larger file is a wrong path
# (`--profile /dev/zero` would otherwise be read until memory runs out).
MAX_BYTES = 16 * _MiB


def read_text(
    path: str | os.PathLike[str],
    what: str,
    fix: str,
    *,
    max_bytes: int = MAX_BYTES,
    error: Callable[[str], Exception] = UserError,
) -> str:
    """The file as UTF-8 text (newlines as open() in text mode gives them), or `error(message)`.

    At most max_bytes + 1 bytes are read: a FIFO or a device cannot feed us forever.
    """
    name = os.fspath(path)
    if os.path.isdir(name):
        raise error(f"{what} {name} is a directory: {fix}")
    try:
        data = _read(name, max_bytes)
    except OSError as exc:
        raise error(f"cannot read {what} {name}: {exc.strerror}: {fix}") from None
    if len(data) > max_bytes:
        raise error(f"{what} {name} is larger than {_size(max_bytes)}: {fix}")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise error(f"{what} {name} is not UTF-8 text (invalid byte at offset {exc.start}): {fix}") from None
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _read(name: str, max_bytes: int) -> bytes:
    # O_NONBLOCK: opening a FIFO nobody writes to returns at once (reads then see end of file) instead
    # of waiting for a writer; blocking again for the reads, so a slow writer is waited for, not lost.
    fd = os.open(name, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    with open(fd, "rb") as fh:
        os.set_blocking(fd, True)
        return fh.read(max_bytes + 1)


def _size(n: int) -> str:
    return f"{n // _MiB} MiB" if n >= _MiB and n % _MiB == 0 else f"{n} bytes"


def parse_yaml(text: str, what: str, path: object, *, fast: bool = False, documents: bool = False) -> Any:
    """The YAML document (`documents`: the list of documents, empty ones dropped) of a file the
    user named, through PyYAML's safe loader (`fast`: its C one, when built); one line, naming
    the file, for a syntax error or a document nested too deeply for the loader to build."""
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader) if fast else yaml.SafeLoader
    try:
        if documents:
            return [d for d in yaml.load_all(text, Loader=loader) if d is not None]
        return yaml.load(text, Loader=loader)
    except yaml.YAMLError as exc:
        raise UserError(f"{what} {path} is not valid YAML: {yaml_problem(exc)}: fix the syntax") from None
    except RecursionError:
        raise UserError(f"{what} {path} is nested too deeply to read: flatten its nesting") from None


def yaml_problem(exc: Exception) -> str:
    """`line N: problem` for a yaml.YAMLError, or just the problem when it has no position."""
    problem = getattr(exc, "problem", None) or str(exc) or type(exc).__name__
    first = str(problem).splitlines()[0]
    mark = getattr(exc, "problem_mark", None)
    return f"line {mark.line + 1}: {first}" if mark is not None else first
