"""Run a Locust master and N worker processes at a target arrival rate and merge their exact samples into the report
of `mlops bench run` (benchmarks/load.py's summary: p50/p95/p99, throughput, errors, per-variant statistics).

The Locust processes are started with this interpreter (`python -m locust -f benchmarks/swarm/locustfile.py`), each
configured through one environment variable (benchmarks/swarm/settings.py). On several machines the same command
runs there with `--worker-only --master-host H` and starts only workers; the master counts them in
`expect_workers` (docs/capacity.md, "Distributed load with Locust").
"""

from __future__ import annotations

import contextlib
import dataclasses
import importlib.util
import json
import logging
import math
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchmarks.load import LoadConfig, LoadResult, Sample
from benchmarks.swarm.settings import SAGEMAKER_PREFIX, USER_RPS_OPTION, SwarmSettings, split_url, user_class
from ml.errors import MlopsError
from ml.progress import Progress, ProgressCallback, report

log = logging.getLogger(__name__)

LOCUSTFILE = Path(__file__).with_name("locustfile.py")
# Locust's default master port; workers on other machines connect to it.
DEFAULT_MASTER_PORT = 5557
# The project's optional extra that installs Locust (pyproject.toml).
LOCUST_EXTRA = "intent-mlops[locust]"
# How long the master waits for the expected workers to connect before it gives up.
WORKERS_CONNECT_S = 120
# After the measured time: users spawning, requests in flight finishing (up to the request timeout), processes quitting.
SHUTDOWN_GRACE_S = 60


@dataclass(frozen=True)
class SwarmConfig:
    """How much load, from how many Locust worker processes; see `users` for how the rate is shared out."""

    rate_rps: float
    duration_s: float
    workers: int = 1  # worker processes this command starts on this machine
    expect_workers: int | None = None  # workers the master waits for in all (default: `workers`)
    user_rps: float = 1.0  # each simulated user's rate: users = rate / user_rps, the most requests in flight
    master_host: str | None = None  # a master elsewhere (with worker_only); default: this machine
    master_port: int = DEFAULT_MASTER_PORT
    worker_only: bool = False
    timeout_s: float = 30.0  # per request

    def __post_init__(self) -> None:
        if not self.rate_rps > 0 or not self.duration_s > 0 or not self.user_rps > 0:
            raise MlopsError("--rate, --duration and the per-user rate must be positive")
        if self.workers < 0 or (self.expect_workers is not None and self.expect_workers < 1):
            raise MlopsError("worker counts cannot be negative, and the master needs at least one worker")
        if self.total_workers < 1:
            raise MlopsError(
                "no worker to generate load", hint="give --workers N, or --expect-workers N for remote ones"
            )
        if self.worker_only and (self.workers < 1 or not self.master_host):
            raise MlopsError(
                "--worker-only starts workers for a master elsewhere", hint="give --master-host and --workers"
            )
        if self.master_host and not self.worker_only:
            raise MlopsError("--master-host is where workers connect", hint="add --worker-only on the worker machines")

    @property
    def total_workers(self) -> int:
        """Workers the master waits for."""
        return self.expect_workers if self.expect_workers is not None else self.workers

    @property
    def users(self) -> int:
        """Simulated users: enough for the rate at user_rps each, and at least one per worker."""
        return max(math.ceil(self.rate_rps / self.user_rps - 1e-9), self.total_workers)


@dataclass
class SwarmResult:
    """The merged samples of every worker and what each worker reported of itself."""

    samples: list[Sample]
    wall_s: float
    config: SwarmConfig
    users: int
    workers: dict[str, dict[str, Any]] = field(default_factory=dict)  # worker id -> requests, received, cpu_s
    lags_s: list[float] = field(default_factory=list)

    def load_result(self) -> LoadResult:
        """As the in-house open loop reports it: concurrency is the number of users (the most requests in flight)."""
        load = LoadConfig(
            mode="open",
            concurrency=self.users,
            rate_rps=self.config.rate_rps,
            requests=None,
            duration_s=self.config.duration_s,
        )
        errors: dict[str, int] = {}
        for sample in self.samples:
            if sample.error:
                errors[sample.error] = errors.get(sample.error, 0) + 1
        cpu_s = sum(float(w.get("cpu_s", 0.0)) for w in self.workers.values())
        overhead_us = cpu_s / len(self.samples) * 1e6 if self.samples else 0.0
        lag = sorted(self.lags_s)[int(0.99 * (len(self.lags_s) - 1))] * 1000 if self.lags_s else None
        return LoadResult(
            self.samples,
            self.wall_s,
            load,
            overhead_us,
            schedule_lag_ms_p99=round(lag, 3) if lag is not None else None,
            errors_by_type=errors,
        )

    def summary(self) -> dict[str, Any]:
        """`mlops bench run`'s summary plus the generator ("locust"), its users and each worker's own figures.

        generator_overhead_us is the workers' CPU time per request: one core of a worker sustains about
        1e6 / generator_overhead_us requests per second (docs/capacity.md, "Distributed load with Locust").
        """
        out = self.load_result().summary()
        workers = {}
        for index, (node, figures) in enumerate(sorted(self.workers.items())):
            requests = int(figures.get("requests", 0))
            workers[f"worker-{index}"] = {
                "id": node,
                "requests": requests,
                "received": int(figures.get("received", 0)),
                "cpu_s": round(float(figures.get("cpu_s", 0.0)), 3),
                "rate_rps": round(requests / self.wall_s, 2) if self.wall_s > 0 else 0.0,
            }
        return {
            **out,
            "generator": "locust",
            "users": self.users,
            "user_rps": self.config.rate_rps / self.users,
            "workers": workers,
        }


def require_locust() -> None:
    """Raise a clear error when Locust is not installed in this interpreter."""
    if importlib.util.find_spec("locust") is None:
        raise MlopsError(
            f"Locust is not installed in {sys.executable}",
            hint=f"install the locust extra: pip install '{LOCUST_EXTRA}' (or pip install locust)",
        )


def _settings(target: str, config: SwarmConfig, payloads: Path | None, **target_options: Any) -> SwarmSettings:
    """Check the target and the payloads here, before any process starts; then the settings every process gets."""
    from benchmarks.payloads import load_payloads

    user_class(target)
    load_payloads(payloads)
    return SwarmSettings(
        target=target,
        user_rps=config.rate_rps / config.users,
        payloads=str(Path(payloads).resolve()) if payloads else None,
        timeout_s=config.timeout_s,
        **target_options,
    )


def _environment(settings: SwarmSettings) -> dict[str, str]:
    """This process's environment, the settings, and the project on the path (the locustfile imports it)."""
    root = str(Path(__file__).resolve().parents[2])
    path = os.pathsep.join(p for p in (root, os.environ.get("PYTHONPATH", "")) if p)
    return {**os.environ, **settings.to_env(), "PYTHONPATH": path}


def _locust(*args: str) -> list[str]:
    return [sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), "--loglevel", "WARNING", *args]


def _worker_command(config: SwarmConfig, host: str) -> list[str]:
    return _locust("--worker", "--master-host", host, "--master-port", str(config.master_port))


def _master_command(target: str, config: SwarmConfig, bind_host: str) -> list[str]:
    args = [
        "--master",
        "--headless",
        "--only-summary",
        "--master-bind-host",
        bind_host,
        "--master-bind-port",
        str(config.master_port),
        "--expect-workers",
        str(config.total_workers),
        "--expect-workers-max-wait",
        str(WORKERS_CONNECT_S),
        "--users",
        str(config.users),
        "--spawn-rate",
        str(config.users),  # all users within a second: measuring starts once they run
        "--stop-timeout",
        str(math.ceil(config.timeout_s)),  # requests in flight at the end finish and are measured
        "--exit-code-on-error",
        "0",  # failed requests are the gate's business, not the process's
        USER_RPS_OPTION,
        repr(config.rate_rps / config.users),
    ]
    if not target.startswith(SAGEMAKER_PREFIX):
        args += ["--host", split_url(target)[0]]
    return _locust(*args, user_class(target))


@contextlib.contextmanager
def _processes(commands: list[list[str]], env: dict[str, str], logs: Path) -> Iterator[list[subprocess.Popen[bytes]]]:
    """Start each command with its output in logs/<n>.log; whatever is still running at the end is killed."""
    procs: list[subprocess.Popen[bytes]] = []
    try:
        for index, command in enumerate(commands):
            with (logs / f"{index}.log").open("wb") as out:
                procs.append(subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT))
        yield procs
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def _tail(path: Path, chars: int = 2000) -> str:
    return path.read_text(errors="replace")[-chars:] if path.exists() else ""


def run_swarm(
    target: str,
    config: SwarmConfig,
    *,
    payloads: Path | None = None,
    endpoint_url: str | None = None,
    region: str | None = None,
    target_variant: str | None = None,
    on_progress: ProgressCallback | None = None,
    task: str = "locust",
) -> SwarmResult:
    """Start the master and this machine's workers, wait for the measured run, and merge every worker's samples."""
    if config.worker_only:
        raise MlopsError("run_swarm runs the master; use run_workers for --worker-only")
    settings = _settings(
        target, config, payloads, endpoint_url=endpoint_url, region=region, target_variant=target_variant
    )
    require_locust()
    with tempfile.TemporaryDirectory(prefix="mlops-locust-") as tmp:
        work = Path(tmp)
        out = work / "samples.json"
        master = dataclasses.replace(settings, duration_s=config.duration_s, out=str(out))
        # All workers here: listen on loopback only; workers elsewhere: on every interface (Locust's default).
        bind = "127.0.0.1" if config.total_workers == config.workers else "*"
        report(
            on_progress, Progress(task, f"{config.users} users on {config.total_workers} workers", 0, config.duration_s)
        )
        started = time.monotonic()
        deadline = started + WORKERS_CONNECT_S + config.duration_s + config.timeout_s + SHUTDOWN_GRACE_S
        with _processes([_master_command(target, config, bind)], _environment(master), work) as (master_proc,):
            host = "127.0.0.1"
            worker_cmds = [_worker_command(config, host)] * config.workers
            logs = work / "workers"
            logs.mkdir()
            with _processes(worker_cmds, _environment(settings), logs):
                while master_proc.poll() is None:
                    if time.monotonic() > deadline:
                        raise MlopsError(
                            "the Locust master did not finish in time",
                            hint=f"its log ends:\n{_tail(work / '0.log')}",
                        )
                    time.sleep(0.5)
        if not out.exists():
            raise MlopsError(
                f"the Locust run produced no samples (master exit {master_proc.returncode})",
                hint=f"its log ends:\n{_tail(work / '0.log')}\nworker 0's log ends:\n{_tail(logs / '0.log')}",
            )
        document = json.loads(out.read_text())
    result = _merge(document, config)
    report(
        on_progress,
        Progress(task, "measured", config.duration_s, config.duration_s, f"{len(result.samples)} requests", done=True),
    )
    return result


def _merge(document: dict[str, Any], config: SwarmConfig) -> SwarmResult:
    samples = [
        Sample(latency, variant, error)
        for latency, variant, error in zip(document["latency_s"], document["variant"], document["error"], strict=True)
    ]
    return SwarmResult(
        samples, float(document["wall_s"]), config, int(document["users"]), document["workers"], document["lag_s"]
    )


def run_workers(
    target: str,
    config: SwarmConfig,
    *,
    payloads: Path | None = None,
    endpoint_url: str | None = None,
    region: str | None = None,
    target_variant: str | None = None,
) -> None:
    """Start `config.workers` workers for the master at `config.master_host` and wait until the master ends them."""
    if not config.worker_only or not config.master_host:
        raise MlopsError("run_workers needs --worker-only and --master-host")
    settings = _settings(
        target, config, payloads, endpoint_url=endpoint_url, region=region, target_variant=target_variant
    )
    require_locust()
    with tempfile.TemporaryDirectory(prefix="mlops-locust-") as tmp:
        commands = [_worker_command(config, config.master_host)] * config.workers
        with _processes(commands, _environment(settings), Path(tmp)) as procs:
            for proc in procs:
                proc.wait()
        failed = [i for i, proc in enumerate(procs) if proc.returncode]
        if failed:
            raise MlopsError(
                f"{len(failed)} of {len(procs)} workers failed",
                hint=f"worker {failed[0]}'s log ends:\n{_tail(Path(tmp) / f'{failed[0]}.log')}",
            )
