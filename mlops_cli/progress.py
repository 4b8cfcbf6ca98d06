"""Show the library's progress reports (`ml.progress`) on stderr, where stdout stays free for results and --json.

On a terminal: a live display, a line per task with a spinner or bar, its state, elapsed time and figures. Anywhere
else (a pipe, a log file, CI): plain lines (`ml.progress.PlainProgress`), with no carriage returns or colours.
rich is imported only for a terminal: it costs more start-up time than a command that prints plain lines needs.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator
from typing import IO, TYPE_CHECKING, Any

import click

from ml.progress import PlainProgress, Progress, ProgressCallback

if TYPE_CHECKING:
    from rich.console import Console


def is_terminal(stream: IO[str]) -> bool:
    """Whether `stream` is an interactive terminal that can redraw a line (not a pipe, a file or TERM=dumb)."""
    try:
        interactive = stream.isatty()
    except (AttributeError, ValueError):  # a closed or stand-in stream
        return False
    return interactive and os.environ.get("TERM", "") != "dumb"


@contextlib.contextmanager
def progress_display(*, plain: bool = True, console: Console | None = None) -> Iterator[ProgressCallback]:
    """A progress callback for the length of a command: live on a terminal (or on `console`), else plain lines.

    `plain=False`: off a terminal the reports are dropped, for a command that prints its own line per state change.
    """
    if console is None and not is_terminal(sys.stderr):
        show: ProgressCallback = PlainProgress(lambda line: click.echo(line, err=True)) if plain else _ignore
        yield show
        return
    with _LiveProgress(console) as live:
        yield live


def _ignore(progress: Progress) -> None:
    """A progress callback that shows nothing."""


class _LiveProgress:
    """rich's Progress: one line per task, updated in place; a finished task keeps its last line."""

    def __init__(self, console: Console | None) -> None:
        from rich.console import Console
        from rich.progress import BarColumn, Progress, SpinnerColumn, TaskProgressColumn, TextColumn, TimeElapsedColumn

        self.display = Progress(
            SpinnerColumn(finished_text="[green]✓"),
            TextColumn("{task.description}"),
            BarColumn(bar_width=20),
            TaskProgressColumn(),
            TimeElapsedColumn(),
            TextColumn("[dim]{task.fields[detail]}"),
            console=console or Console(stderr=True),
        )
        self.tasks: dict[str, Any] = {}

    def __enter__(self) -> _LiveProgress:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.display.live.is_started:
            self.display.stop()

    def __call__(self, progress: Progress) -> None:
        """Add or update the task's line (the display starts with the first); a done task stops its clock."""
        from rich.markup import escape

        if not self.display.live.is_started:  # a command that reports nothing leaves no trace
            self.display.start()

        description = escape(f"{progress.task}: {progress.status}")
        task = self.tasks.get(progress.task)
        if task is None:  # a new task, or one that ended and started again: a new line
            task = self.tasks[progress.task] = self.display.add_task(description, total=None, detail="")
        total = progress.total if progress.total is not None else (1.0 if progress.done else None)
        completed = progress.completed if progress.completed is not None else 0.0
        self.display.update(
            task, description=description, total=total, completed=completed, detail=escape(progress.detail)
        )
        if progress.done:
            self.display.update(task, completed=total)
            self.display.stop_task(task)
            del self.tasks[progress.task]
