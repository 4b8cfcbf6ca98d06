"""Pinning a benchmarked server and its load generator to separate cores."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

from benchmarks.affinity import can_pin, pin_processes, pinned, split_cores
from ml.errors import MlopsError

pytestmark = pytest.mark.skipif(not can_pin(), reason="pinning to cores needs Linux")


def _thread_cores(pid: int) -> dict[int, set[int]]:
    return {int(task.name): os.sched_getaffinity(int(task.name)) for task in Path(f"/proc/{pid}/task").iterdir()}


def test_split_cores_gives_the_server_the_first_and_the_generator_the_rest(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {6, 2, 4, 3})
    assert split_cores(1) == (frozenset({2}), frozenset({3, 4, 6}))
    assert split_cores(2) == (frozenset({2, 3}), frozenset({4, 6}))
    with pytest.raises(MlopsError, match="4"):
        split_cores(4)  # nothing left for the load generator
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0})
    with pytest.raises(MlopsError, match="core"):
        split_cores(1)


def test_pinned_holds_the_threads_started_inside_and_restores_the_caller() -> None:
    before = os.sched_getaffinity(0)
    core = frozenset({min(before)})
    seen: list[set[int]] = []
    with pinned(core):
        thread = threading.Thread(target=lambda: seen.append(os.sched_getaffinity(0)))
        thread.start()
        thread.join()
        assert os.sched_getaffinity(0) == core
    assert seen == [core]
    assert os.sched_getaffinity(0) == before


def test_a_pinned_server_keeps_every_thread_on_its_core_including_those_started_later(onnx_model: Path) -> None:
    """A real two-worker server: the supervisor, both workers, and the inference threads that start on first use."""
    from benchmarks.load import LoadConfig, run_load
    from benchmarks.servers import server_process
    from benchmarks.targets import http_target

    try:
        server_cores, _ = split_cores(1)
    except MlopsError as exc:
        pytest.skip(str(exc))
    with server_process(onnx_model, precision="int8", workers=2, threads=1) as server:
        pids = server.pids()
        assert server.pid in pids and len(pids) >= 3  # the supervisor and two workers
        pin_processes(pids, server_cores)
        threads_before = sum(len(_thread_cores(pid)) for pid in pids)
        summary = run_load(
            http_target(server.url),
            ["write a haiku", "plan my week"],
            LoadConfig(concurrency=4, requests=40, warmup_requests=4),
        ).summary()
        assert summary["errors"] == 0
        cores = {tid: c for pid in server.pids() for tid, c in _thread_cores(pid).items()}
    assert len(cores) > threads_before  # the workers' inference threads started after pinning
    assert {tid: c for tid, c in cores.items() if c != server_cores} == {}


def test_pinning_a_process_that_has_ended_is_not_an_error() -> None:
    import subprocess
    import sys

    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    pin_processes([proc.pid], frozenset(os.sched_getaffinity(0)))
