"""Progress of long work, reported by library code and shown by whoever called it.

Library loops (an endpoint update's polling, a shift's bakes, a load run, a pipeline's steps, training) take an
optional `on_progress` callback and call it with a `Progress` as they go; they never print. The CLI shows the
reports (`mlops_cli.progress`: a live display on a terminal, plain lines elsewhere); a process with no terminal of
its own, such as a pipeline step whose output goes to a log, writes them with `PlainProgress`.

Plain lines are for logs and pipes: one when a task starts, changes state or ends, and otherwise at most one every
`every_s` seconds; never a carriage return or an escape sequence.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

# How often a plain log repeats a task whose state has not changed: often enough to show it is alive, seldom
# enough that an hour's wait is a screen, not a scroll.
PLAIN_EVERY_S = 60.0


@dataclass(frozen=True)
class Progress:
    """One report on a task: its state now and, where it is countable, how far along it is."""

    task: str  # what is being done; reports with the same task are one line of a display
    status: str  # its state now, e.g. "Updating", "challenger at 10%: baking"
    completed: float | None = None  # with `total`: how far along, in the task's own units
    total: float | None = None
    detail: str = ""  # the figures behind the state, e.g. per-variant counts and the guard they are judged by
    done: bool = False  # the task's last report


ProgressCallback = Callable[[Progress], None]


def format_elapsed(seconds: float) -> str:
    """A duration as people read it: 45s, 2m 05s, 1h 02m."""
    whole = int(seconds)
    if whole < 60:
        return f"{whole}s"
    if whole < 3600:
        return f"{whole // 60}m {whole % 60:02d}s"
    return f"{whole // 3600}h {whole % 3600 // 60:02d}m"


def _number(value: float) -> str:
    return f"{value:,.0f}" if value >= 100 else f"{value:g}"


def format_line(progress: Progress, elapsed_s: float) -> str:
    """A report as one plain line: task, state, count, elapsed time and figures."""
    line = f"{progress.task}: {progress.status}"
    if progress.total is not None:
        line += f" {_number(progress.completed or 0)}/{_number(progress.total)}"
    line += f" ({'done in ' if progress.done else ''}{format_elapsed(elapsed_s)})"
    if progress.detail:
        line += f" - {progress.detail}"
    return line


@dataclass
class _Seen:
    started: float
    status: str
    written: float


class PlainProgress:
    """A progress callback writing plain lines: on each change of a task's state, else every `every_s` seconds."""

    def __init__(
        self,
        write: Callable[[str], None],
        *,
        every_s: float = PLAIN_EVERY_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.write = write
        self.every_s = every_s
        self.clock = clock
        self._tasks: dict[str, _Seen] = {}

    def __call__(self, progress: Progress) -> None:
        """Write the report if it says something new, or if the task has been quiet for `every_s`."""
        now = self.clock()
        seen = self._tasks.get(progress.task)
        if seen is None:
            seen = self._tasks[progress.task] = _Seen(now, progress.status, now)
        elif progress.status == seen.status and not progress.done and now - seen.written < self.every_s:
            return
        seen.status, seen.written = progress.status, now
        line = format_line(progress, now - seen.started)
        self.write(line.replace("\r", " ").replace("\x1b", ""))
        if progress.done:
            del self._tasks[progress.task]  # the same task started again counts its time afresh


def report(on_progress: ProgressCallback | None, progress: Progress) -> None:
    """Hand a report to the callback, if there is one."""
    if on_progress is not None:
        on_progress(progress)
