"""Separate cores for a benchmarked server and its load generator (Linux): the generator's CPU is not the server's.

On a small machine the load generator shares the cores it measures: its own CPU per request then caps every
target alike, and a server change that saves CPU shows only part of its gain. Clients of a real endpoint run
elsewhere; pinning the server to some cores and the generator to the others measures the server the same way.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterable, Iterator
from pathlib import Path

from ml.errors import MlopsError


def can_pin() -> bool:
    """Whether this platform lets a process pin other processes' threads to cores (Linux with /proc)."""
    return hasattr(os, "sched_setaffinity") and Path("/proc/self/task").is_dir()


def split_cores(server_cores: int = 1) -> tuple[frozenset[int], frozenset[int]]:
    """This process's first `server_cores` cores for the server, the rest for the load generator."""
    if not can_pin():
        raise MlopsError("this platform cannot pin processes to cores (needs Linux)")
    cores = sorted(os.sched_getaffinity(0))
    if server_cores < 1 or len(cores) <= server_cores:
        raise MlopsError(
            f"cannot give a server {server_cores} core(s) of its own: this process may use {len(cores)}",
            hint="run on a machine with more cores, or skip the comparison that pins the server",
        )
    return frozenset(cores[:server_cores]), frozenset(cores[server_cores:])


def pin_processes(pids: Iterable[int], cpus: frozenset[int]) -> None:
    """Pin every thread of these processes to `cpus`; threads they start later inherit it."""
    for pid in pids:
        try:
            tasks = [int(task.name) for task in Path(f"/proc/{pid}/task").iterdir()]
        except FileNotFoundError:  # the process ended meanwhile
            continue
        for task in tasks:
            with contextlib.suppress(ProcessLookupError):  # the thread ended meanwhile
                os.sched_setaffinity(task, cpus)


@contextlib.contextmanager
def pinned(cpus: frozenset[int]) -> Iterator[None]:
    """Run the calling thread, and the threads it starts meanwhile, on `cpus` only; restore its cores afterwards."""
    before = os.sched_getaffinity(0)
    os.sched_setaffinity(0, cpus)
    try:
        yield
    finally:
        os.sched_setaffinity(0, before)
