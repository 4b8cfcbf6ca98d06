"""One instance's capacity: the open-loop arrival rate a served model sustains within a p95 budget.

Method (docs/capacity.md): start `mlops serve` for the measurement, time single requests (one client), then step
the open-loop arrival rate up geometrically, each step bounded in duration, until p95 crosses the budget or a
request fails; bisect between the highest rate that held and the lowest that did not until they are close; the
knee is the highest rate that held. A steady open-loop run at the knee, longer than a step, confirms it; when it
does not hold, the rate is lowered by one bisection tolerance and confirmed again, a bounded number of times.

Open-loop latency is measured from each request's scheduled start (benchmarks.load), so a server that falls
behind shows its queue in p95 instead of slowing the generator down.
"""

from __future__ import annotations

import datetime
import logging
import os
import platform
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks.load import LoadConfig, LoadResult, run_load
from benchmarks.servers import server_process
from benchmarks.targets import http_target
from inference.deploy.capacity import PROFILE_KIND, PROFILE_SCHEMA, describe
from ml.errors import MlopsError
from ml.model import ONNX_FILES, check_model_dir
from ml.progress import ProgressCallback
from ml.settings import P95_BUDGET_MS

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RampConfig:
    """How the ramp searches for the knee, and how long each part runs."""

    p95_budget_ms: float = P95_BUDGET_MS
    start_rps: float | None = None  # None: from the single-request latency and the CPUs (see start_rate)
    factor: float = 2.0  # geometric step between rates until one fails
    step_s: float = 10.0  # measured seconds per ramp step
    confirm_s: float = 30.0  # measured seconds of the steady confirm run
    tolerance: float = 0.1  # bisect until the failed rate is within this fraction above the held one
    max_steps: int = 24  # ramp and bisection steps together
    max_confirms: int = 3
    single_requests: int = 50
    max_in_flight: int = 256  # the generator's in-flight cap: beyond it, requests queue (and count) in the generator

    def __post_init__(self) -> None:
        if self.p95_budget_ms <= 0:
            raise MlopsError(
                f"the p95 budget must be positive, got {self.p95_budget_ms:g} ms", hint="e.g. --p95-ms 500"
            )
        if self.start_rps is not None and self.start_rps <= 0:
            raise MlopsError(f"the start rate must be positive, got {self.start_rps:g} req/s")
        if self.factor <= 1:
            raise MlopsError(f"the ramp factor must be above 1, got {self.factor:g}")
        if self.step_s <= 0 or self.confirm_s <= 0:
            raise MlopsError("step and confirm durations must be positive seconds")
        if not 0 < self.tolerance < 1:
            raise MlopsError(f"the bisection tolerance must be in (0, 1), got {self.tolerance:g}")
        if self.max_steps < 2 or self.max_confirms < 1 or self.single_requests < 1:
            raise MlopsError("the ramp needs at least 2 steps, 1 confirm run and 1 single request")


def machine() -> dict[str, Any]:
    """The machine measured: CPU model, logical CPUs, CPUs this process may use, OS and Python."""
    model = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return {
        "cpu_model": model,
        "logical_cpus": os.cpu_count(),
        "usable_cpus": usable,
        "platform": platform.platform(),
        "python": platform.python_version(),
    }


def cpus_used(workers: int | None, threads: int | None) -> int:
    """The CPUs a server of this layout can use here: workers x threads when both are given, at most the usable."""
    usable = int(machine()["usable_cpus"] or 1)
    return min(usable, workers * threads) if workers and threads else usable


def start_rate(single_p50_ms: float, cpus: int) -> float:
    """A first ramp rate well below saturation: a quarter of what `cpus` busy cores would answer at the single-request
    latency (each request on one core)."""
    return max(0.5, 0.25 * cpus * 1000.0 / max(single_p50_ms, 0.01))


def queue_growth(result: LoadResult, rate: float) -> float:
    """How fast latency grows over an open-loop run, in ms per second of the run (least squares over every answered
    request against its scheduled start); about 0 while the server keeps up, 1000 x (1 - capacity / rate) once it
    does not, whatever the run's length."""
    import numpy as np

    points = [(index / rate, s.latency_s * 1000.0) for index, s in enumerate(result.samples) if s.error is None]
    if len(points) < 3:
        return 0.0
    times, latencies = np.asarray(points).T
    if float(np.ptp(times)) == 0.0:
        return 0.0
    return float(np.polyfit(times, latencies, 1)[0])


def step_record(
    result: LoadResult, rate: float, phase: str, budget_ms: float, horizon_s: float = 0.0
) -> dict[str, Any]:
    """One ramp step as the profile keeps it: rate, percentiles, errors, queue growth, and whether it held.

    A step holds when no request failed, its p95 is within the budget, and its p95 plus the latency its queue would
    add at the rate it grew over `horizon_s` more seconds stays within the budget too: a step shorter than the
    confirm run cannot show an overload that only a longer run fills the queue enough to cross the budget with.
    """
    summary = result.summary()
    p95 = summary.get("p95_ms")
    growth = queue_growth(result, rate)
    projected = None if p95 is None else p95 + max(growth, 0.0) * horizon_s
    held = summary["errors"] == 0 and projected is not None and projected <= budget_ms
    return {
        "phase": phase,
        "rate_rps": round(rate, 3),
        "requests": summary["requests"],
        "errors": summary["errors"],
        "p50_ms": summary.get("p50_ms"),
        "p95_ms": p95,
        "p99_ms": summary.get("p99_ms"),
        "throughput_rps": summary["throughput_rps"],
        "schedule_lag_p99_ms": summary.get("schedule_lag_p99_ms"),
        "latency_growth_ms_per_s": round(growth, 3),
        "projected_p95_ms": None if projected is None else round(projected, 3),
        "errors_by_type": summary.get("errors_by_type", {}),
        "held": held,
    }


Runner = Callable[[float, float, str], dict[str, Any]]  # (rate, seconds, phase) -> step record


def find_knee(run: Runner, first_rate: float, config: RampConfig) -> tuple[float | None, list[dict[str, Any]]]:
    """Ramp and bisect with `run`; return the highest rate that held (None: not even the lowest tried) and the steps.

    Up by `factor` from `first_rate` while steps hold; if the first step fails, down by `factor` until one holds
    (at most max_steps in all). Then bisect (geometric mean) until failed / held <= 1 + tolerance.
    """
    steps: list[dict[str, Any]] = []
    held: float | None = None
    failed: float | None = None
    rate = first_rate
    while len(steps) < config.max_steps:
        step = run(rate, config.step_s, "ramp")
        steps.append(step)
        if step["held"]:
            held = rate
            if failed is not None:
                break
            rate *= config.factor
        else:
            failed = rate
            if held is not None:
                break
            rate /= config.factor
    while held is not None and failed is not None and failed / held > 1 + config.tolerance:
        if len(steps) >= config.max_steps:
            break
        rate = (held * failed) ** 0.5
        step = run(rate, config.step_s, "bisect")
        steps.append(step)
        if step["held"]:
            held = rate
        else:
            failed = rate
    return held, steps


def measure(
    model_dir: Path,
    *,
    precision: str = "int8",
    workers: int | None = None,
    threads: int | None = None,
    payloads: list[str],
    config: RampConfig,
    model_label: str | None = None,
    on_progress: ProgressCallback | None = None,
) -> dict[str, Any]:
    """Serve `model_dir` with this precision and layout, find its knee at the p95 budget, confirm it; the profile."""
    budget = config.p95_budget_ms
    check_model_dir(model_dir)  # a clear error before a server is started for nothing
    graph = model_dir / ONNX_FILES[precision]
    if not graph.is_file():
        raise MlopsError(
            f"{model_dir} has no {precision} ONNX graph ({graph.name})",
            hint=f"export it with `mlops export {model_dir}`, or measure a registry version (exported at registration)",
        )
    with server_process(model_dir, precision=precision, workers=workers, threads=threads, log_level="warning") as srv:
        target = http_target(srv.url)

        def load(cfg: LoadConfig, task: str, status: str) -> LoadResult:
            return run_load(target, payloads, cfg, on_progress=on_progress, task=task, status=status)

        single = load(
            LoadConfig(mode="closed", concurrency=1, requests=config.single_requests, warmup_requests=10),
            "capacity",
            "single requests",
        ).summary()
        if single["errors"]:
            raise MlopsError(
                f"{single['errors']} of {single['requests']} single requests failed ({single['errors_by_type']})",
                hint="check that the model serves: `mlops serve MODEL` and POST to /invocations",
            )
        single_p95 = float(single["p95_ms"])
        if single_p95 > budget:
            raise MlopsError(
                f"no rate can hold p95 <= {budget:g} ms: one request at a time already takes p95 {single_p95:g} ms "
                f"(p50 {single['p50_ms']:g} ms) on this server",
                hint="raise --p95-ms above the single-request latency, or serve a faster layout, precision or model",
            )
        cpus = cpus_used(workers, threads)
        first = config.start_rps or start_rate(float(single["p50_ms"]), cpus)

        def run(rate: float, seconds: float, phase: str) -> dict[str, Any]:
            cfg = LoadConfig(
                mode="open",
                rate_rps=rate,
                concurrency=config.max_in_flight,
                requests=max(1, round(rate * seconds)),
                warmup_requests=0,
            )
            # Ramp steps project their queue over the confirm run's length; the confirm run is judged as measured.
            horizon = config.confirm_s if phase != "confirm" else 0.0
            result = load(cfg, "capacity", f"{phase} {rate:.1f} req/s")
            step = step_record(result, rate, phase, budget, horizon)
            log.info("%s %.2f req/s: p95 %s ms, %s errors", phase, rate, step["p95_ms"], step["errors"])
            return step

        knee, steps = find_knee(run, first, config)
        if knee is None:
            raise MlopsError(
                f"no ramp rate held p95 <= {budget:g} ms down to {steps[-1]['rate_rps']:g} req/s "
                f"(single-request p95 {single_p95:g} ms)",
                hint="give a lower --start-rps, or a higher --p95-ms",
            )
        confirms: list[dict[str, Any]] = []
        rate = knee
        for _ in range(config.max_confirms):
            cpu_before = srv.cpu_seconds()
            step = run(rate, config.confirm_s, "confirm")
            step["server_cpu_cores"] = round((srv.cpu_seconds() - cpu_before) / max(step["requests"] / rate, 1e-9), 3)
            confirms.append(step)
            if step["held"]:
                break
            rate /= 1 + config.tolerance
        confirmed = confirms[-1]
        if not confirmed["held"]:
            raise MlopsError(
                f"the knee {knee:.1f} req/s did not hold in {len(confirms)} steady runs down to {rate:.1f} req/s "
                f"(last p95 {confirmed['p95_ms']} ms, {confirmed['errors']} errors)",
                hint="the machine may be busy: measure again on a quiet machine, or with longer --step-seconds",
            )
    return {
        "kind": PROFILE_KIND,
        "schema": PROFILE_SCHEMA,
        "model": model_label or str(model_dir),
        "precision": precision,
        "layout": {"workers": workers, "threads": threads},
        "p95_budget_ms": budget,
        "rate_at_budget_rps": round(float(confirmed["rate_rps"]), 3),
        "single_request": {k: single[k] for k in ("requests", "p50_ms", "p95_ms", "p99_ms")},
        "ramp": steps,
        # False when no step failed within max_steps: the knee is then only a lower bound.
        "saturated": any(not step["held"] for step in steps),
        "confirm": confirms,
        "cpus_used": cpus,
        "server_cpu_cores_at_knee": confirmed.get("server_cpu_cores"),
        "machine": machine(),
        "method": {
            "factor": config.factor,
            "step_s": config.step_s,
            "confirm_s": config.confirm_s,
            "tolerance": config.tolerance,
            "max_in_flight": config.max_in_flight,
            "generator": "in-process open loop (benchmarks.load) on the same machine as the server",
        },
        "measured_at": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
    }


def plot(profile: dict[str, Any], path: Path) -> Path | None:
    """Latency percentiles against arrival rate, with the budget and the knee, as a PNG (None without matplotlib)."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        log.warning("matplotlib is not installed: no plot written (pip install matplotlib)")
        return None
    steps = sorted((s for s in profile["ramp"] if s["p95_ms"] is not None), key=lambda s: s["rate_rps"])
    fig, ax = plt.subplots(figsize=(7, 4.2))
    rates = [s["rate_rps"] for s in steps]
    for key, style in (("p50_ms", "o-"), ("p95_ms", "s-"), ("p99_ms", "^-")):
        ax.plot(rates, [s[key] for s in steps], style, label=key.removesuffix("_ms"))
    projected = [s.get("projected_p95_ms", s["p95_ms"]) for s in steps]
    ax.plot(rates, projected, "x:", color="gray", label="p95 + queue growth over the confirm run")
    ax.axhline(
        profile["p95_budget_ms"], color="red", linestyle="--", label=f"p95 budget {profile['p95_budget_ms']:g} ms"
    )
    ax.axvline(profile["rate_at_budget_rps"], color="gray", linestyle=":", label="confirmed knee")
    ax.set_xlabel("arrival rate (req/s, open loop)")
    ax.set_ylabel("latency (ms)")
    ax.set_yscale("log")
    ax.set_title(
        f"{describe(profile)}: {profile['rate_at_budget_rps']:g} req/s within p95 {profile['p95_budget_ms']:g} ms"
    )
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
