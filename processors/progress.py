"""Progress of long operator work: a live line on a terminal, silence everywhere else.

``progress(...)`` yields a ``Tracker``. On a terminal (stderr is a TTY) it draws one line with
rich: what is being done, items done (of the total when known), the rate and the time left.
Off a terminal (CI, a pipe, a log collector) it draws nothing: the commands' structured logs
and their final answer are what such a reader gets.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Protocol, TextIO

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    SpinnerColumn,
    Task,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.text import Text

__all__ = ["Tracker", "progress"]


class Tracker(Protocol):
    """What long work reports as it goes."""

    def advance(self, done: int = 1) -> None:
        """``done`` more items are finished."""
        ...

    def total(self, total: int | None) -> None:
        """The total became known (or changed)."""
        ...


class _Silent:
    def advance(self, done: int = 1) -> None:
        """Nothing to draw off a terminal."""

    def total(self, total: int | None) -> None:
        """Nothing to draw off a terminal."""


class _Live:
    def __init__(self, bar: Progress, label: str, total: int | None) -> None:
        self._bar = bar
        self._task = bar.add_task(label, total=total)

    def advance(self, done: int = 1) -> None:
        self._bar.advance(self._task, done)

    def total(self, total: int | None) -> None:
        self._bar.update(self._task, total=total)


class _Rate(ProgressColumn):
    """Items per second, as rich measures it over the last moments."""

    def render(self, task: Task) -> Text:
        """The rate, or nothing before rich has measured one."""
        return Text("" if task.speed is None else f"{task.speed:,.0f}/s", style="progress.data")


@contextmanager
def progress(
    label: str, *, total: int | None = None, stream: TextIO | None = None
) -> Iterator[Tracker]:
    """Report long work: a live line (done, rate, ETA) on a terminal, nothing elsewhere."""
    console = Console(file=stream or sys.stderr)
    if not console.is_terminal:
        yield _Silent()
        return
    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TaskProgressColumn(),
        _Rate(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=console,
        transient=False,
    ) as bar:
        yield _Live(bar, label, total)
