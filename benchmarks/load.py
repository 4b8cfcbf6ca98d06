"""Load generation: closed loop (N clients back to back) and open loop (fixed arrival rate).

Open-loop latency is measured from each request's *scheduled* start, so a target that falls behind shows its
queueing delay instead of silently slowing the generator down (no coordinated omission).
"""

from __future__ import annotations

import contextlib
import itertools
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Literal

from benchmarks.stats import latency_summary
from ml.errors import MlopsError
from ml.progress import Progress, ProgressCallback, report

# A target takes one prompt, returns the name of the variant that answered (or None), raises on failure.
Target = Callable[[str], str | None]


@dataclass(frozen=True)
class LoadConfig:
    """How much load, in which shape."""

    mode: Literal["closed", "open"] = "closed"
    concurrency: int = 1
    rate_rps: float | None = None
    requests: int | None = 200
    duration_s: float | None = None
    warmup_requests: int = 10

    def __post_init__(self) -> None:
        if self.mode not in ("closed", "open"):
            raise MlopsError(f"mode must be 'closed' or 'open', got {self.mode!r}")
        if self.concurrency < 1:
            raise MlopsError(f"concurrency must be >= 1, got {self.concurrency}")
        if self.mode == "open" and not (self.rate_rps and self.rate_rps > 0):
            raise MlopsError("open-loop load needs a positive --rate (requests per second)")
        if self.requests is None and self.duration_s is None:
            raise MlopsError("give a request count or a duration")
        if (self.requests is not None and self.requests < 1) or (self.duration_s is not None and self.duration_s <= 0):
            raise MlopsError("request count and duration must be positive")
        if self.warmup_requests < 0:
            raise MlopsError("warm-up requests cannot be negative")


@dataclass
class Sample:
    """One measured request."""

    latency_s: float
    variant: str | None
    error: str | None = None


@dataclass
class LoadResult:
    """Samples of one load run and the generator's own cost."""

    samples: list[Sample]
    wall_s: float
    config: LoadConfig
    overhead_us: float  # mean time per request spent in the generator, not the target
    schedule_lag_ms_p99: float | None = None  # open loop: how late requests were dispatched
    errors_by_type: dict[str, int] = field(default_factory=dict)

    def summary(self) -> dict[str, Any]:
        """Overall and per-variant statistics as a JSON-ready dict with stable field names."""
        ok = [s.latency_s for s in self.samples if s.error is None]
        errors = len(self.samples) - len(ok)
        out: dict[str, Any] = {
            "mode": self.config.mode,
            "concurrency": self.config.concurrency,
            "rate_rps": self.config.rate_rps,
            **latency_summary(ok, wall_s=self.wall_s, errors=errors),
            "wall_s": round(self.wall_s, 3),
            "generator_overhead_us": round(self.overhead_us, 2),
            "schedule_lag_p99_ms": self.schedule_lag_ms_p99,
            "errors_by_type": dict(sorted(self.errors_by_type.items())),
        }
        variants = sorted({s.variant for s in self.samples if s.variant})
        if variants:
            out["variants"] = {
                v: latency_summary(
                    [s.latency_s for s in self.samples if s.variant == v and s.error is None],
                    wall_s=self.wall_s,
                    errors=sum(1 for s in self.samples if s.variant == v and s.error is not None),
                )
                for v in variants
            }
        return out


def _call(target: Target, text: str) -> tuple[str | None, str | None]:
    try:
        return target(text), None
    except Exception as exc:  # noqa: BLE001 - every failure is a measured error, never a crash of the run
        return None, type(exc).__name__


# How often a load run in progress reports its count (from a thread of its own, not from the clients').
PROGRESS_EVERY_S = 0.5


def run_load(
    target: Target,
    payloads: Sequence[str],
    config: LoadConfig,
    *,
    on_progress: ProgressCallback | None = None,
    task: str = "load",
    status: str = "measuring",
) -> LoadResult:
    """Warm up, then drive the target with the configured load; return every sample.

    With `on_progress`, the run reports `task` with `status` and the requests answered so far every
    PROGRESS_EVERY_S, and once more when it is done.
    """
    if not payloads:
        raise MlopsError("no payloads to send", hint="give prompts with --payloads FILE or use the test split")
    report(on_progress, Progress(task, f"{status}: warming up", 0, config.requests))
    _warm_up(target, payloads, config)
    runner = _run_open if config.mode == "open" else _run_closed
    answered = _Answered()
    with _reporting(on_progress, task, status, config, answered):
        result = runner(target, payloads, config, answered)
    done = len(result.samples)
    report(on_progress, Progress(task, status, done, config.requests, f"{done} requests", done=True))
    return result


class _Answered:
    """How many requests a run has measured so far: the runner says how to count them while its clients run."""

    def __init__(self) -> None:
        self.count: Callable[[], int] = lambda: 0


@contextlib.contextmanager
def _reporting(
    on_progress: ProgressCallback | None,
    task: str,
    status: str,
    config: LoadConfig,
    answered: _Answered,
) -> Iterator[None]:
    """Report the count every PROGRESS_EVERY_S from a thread of its own while the block runs."""
    if on_progress is None:
        yield
        return
    stop = threading.Event()

    def tick() -> None:
        while not stop.wait(PROGRESS_EVERY_S):
            count = answered.count()
            on_progress(Progress(task, status, count, config.requests, f"{count} requests"))

    thread = threading.Thread(target=tick, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


def _warm_up(target: Target, payloads: Sequence[str], config: LoadConfig) -> None:
    """Unmeasured requests from as many threads as the run will use (up to the warm-up count).

    Sent concurrently so that a target which opens a connection (or a pooled client) per concurrent caller has
    opened all of them before measuring starts, not during the first measured requests.
    """
    total = config.warmup_requests
    counter = itertools.count()

    def client() -> None:
        while (index := next(counter)) < total:
            _call(target, payloads[index % len(payloads)])

    threads = [threading.Thread(target=client, daemon=True) for _ in range(min(config.concurrency, total))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def _run_closed(target: Target, payloads: Sequence[str], config: LoadConfig, answered: _Answered) -> LoadResult:
    lock = threading.Lock()
    counter = itertools.count()
    samples: list[Sample] = []
    overhead: list[float] = []
    buckets: list[list[Sample]] = []  # each client's samples, counted while they run
    answered.count = lambda: sum(len(bucket) for bucket in buckets)
    limit = config.requests
    started = time.perf_counter()
    deadline = started + config.duration_s if config.duration_s else None

    def client() -> None:
        local_samples: list[Sample] = []
        local_overhead = 0.0
        buckets.append(local_samples)
        while True:
            t_a = time.perf_counter()
            index = next(counter)
            if (limit is not None and index >= limit) or (deadline is not None and t_a >= deadline):
                break
            text = payloads[index % len(payloads)]
            t_b = time.perf_counter()
            variant, error = _call(target, text)
            t_c = time.perf_counter()
            local_samples.append(Sample(t_c - t_b, variant, error))
            local_overhead += (t_b - t_a) + (time.perf_counter() - t_c)
        with lock:
            samples.extend(local_samples)
            overhead.append(local_overhead)

    threads = [threading.Thread(target=client, daemon=True) for _ in range(config.concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - started
    return _result(samples, wall, config, sum(overhead))


def _run_open(target: Target, payloads: Sequence[str], config: LoadConfig, answered: _Answered) -> LoadResult:
    if config.rate_rps is None:
        raise MlopsError("an open loop needs a rate", hint="give --rate")
    interval = 1.0 / config.rate_rps
    total = config.requests if config.requests is not None else int(config.duration_s * config.rate_rps)  # type: ignore[operator]
    samples: list[Sample | None] = [None] * total
    answered.count = lambda: sum(sample is not None for sample in samples)
    lags: list[float] = []
    overhead = 0.0
    started = time.perf_counter()

    def fire(index: int, scheduled: float) -> None:
        variant, error = _call(target, payloads[index % len(payloads)])
        # Measured from the scheduled start: time spent waiting for a free worker counts as latency.
        samples[index] = Sample(time.perf_counter() - scheduled, variant, error)

    with ThreadPoolExecutor(max_workers=config.concurrency) as pool:
        for index in range(total):
            scheduled = started + index * interval
            delay = scheduled - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            t_a = time.perf_counter()
            lags.append(t_a - scheduled)
            pool.submit(fire, index, scheduled)
            overhead += time.perf_counter() - t_a
    wall = time.perf_counter() - started
    lag_ms = sorted(lags)[int(0.99 * (len(lags) - 1))] * 1000 if lags else None
    result = _result([s for s in samples if s is not None], wall, config, overhead)
    result.schedule_lag_ms_p99 = round(lag_ms, 3) if lag_ms is not None else None
    return result


def _result(samples: list[Sample], wall: float, config: LoadConfig, overhead_s: float) -> LoadResult:
    errors: dict[str, int] = {}
    for sample in samples:
        if sample.error:
            errors[sample.error] = errors.get(sample.error, 0) + 1
    per_request_us = overhead_s / len(samples) * 1e6 if samples else 0.0
    return LoadResult(samples, wall, config, per_request_us, errors_by_type=errors)
