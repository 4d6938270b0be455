"""Progress bars for pulls and imports: rich on a terminal, nothing under --quiet or when piped."""

from __future__ import annotations

import sys
from contextlib import AbstractContextManager
from types import TracebackType
from typing import Any


class Progress(AbstractContextManager["Progress"]):
    """One bar per blob. The silent base class is used when there is no terminal."""

    def task(self, description: str, total: int | None) -> int:
        return 0

    def advance(self, task: int, amount: int) -> None:
        return None

    def finish(self, task: int, note: str | None = None) -> None:
        return None

    def __exit__(
        self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None
    ) -> None:
        return None


class _RichProgress(Progress):
    def __init__(self) -> None:
        from rich.console import Console
        from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TransferSpeedColumn

        self._p = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            DownloadColumn(),
            TransferSpeedColumn(),
            console=Console(stderr=True),
            transient=False,
        )

    def __enter__(self) -> Progress:
        self._p.__enter__()
        return self

    def task(self, description: str, total: int | None) -> int:
        return int(self._p.add_task(description, total=total))

    def advance(self, task: int, amount: int) -> None:
        self._p.advance(task, amount)  # type: ignore[arg-type]

    def finish(self, task: int, note: str | None = None) -> None:
        t: Any = task
        total = self._p.tasks[[x.id for x in self._p.tasks].index(t)].total
        self._p.update(t, completed=total, description=note) if note else self._p.update(t, completed=total)

    def __exit__(
        self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._p.__exit__(et, ev, tb)


def make_progress(quiet: bool) -> Progress:
    if quiet or not sys.stderr.isatty():
        return Progress()
    return _RichProgress()
