"""How many requests per second one Locust worker process generates, against the in-house open loop, in one run.

`mlops bench locust` scales by adding worker processes; how many a target rate needs follows from what one worker
sustains. Each offered rate is run twice against the same near-free target (a one-process uvicorn app that answers
a canned SageMaker-shaped body, so the target is not what limits): once by one Locust worker (`run_swarm`, one
worker, one request per second per user as the command's default) and once by the in-house open-loop generator
(`run_load`, 64 threads), the baseline. Reported per rate: the rate achieved, the schedule lag p99, and the
generator's CPU: the Locust worker's own process CPU (what each worker reports), the in-house generator's this
process's CPU. A worker's sustained rate is the highest offered rate it achieved (>= 95%) below 90% of a core
(Locust warns there); where the machine is shared, what one worker gets of a core is not its own to decide, so the
rate a worker reaches on a core of its own is also derived from its CPU per request at that rate (90% of a core),
and `workers_for_10k_rps` divides 10,000 by that.

Run: python -m benchmarks.locust_worker_rate [--rates 250,500,1000,1500] [--duration 10] [--out FILE]
(with the locust extra installed)
"""

from __future__ import annotations

import argparse
import contextlib
import math
import resource
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from benchmarks.load import LoadConfig, run_load
from benchmarks.report import emit_json
from benchmarks.servers import free_port
from benchmarks.swarm.runner import SwarmConfig, run_swarm
from benchmarks.targets import http_target

# The target rate the project plans for (docs/capacity.md).
GOAL_RPS = 10_000
# Locust warns when a worker passes this share of a core; a worker is counted only below it.
CPU_CEILING = 0.9
ACHIEVED_FLOOR = 0.95
PROMPTS = ["book a table for two at eight", "translate good morning into Spanish", "why is my laptop so slow?"]

_NULL_APP = """
import sys, uvicorn
BODY = b'{"predictions": [{"intent": "other", "confidence": 1.0}]}'
HEADERS = [(b"content-type", b"application/json"), (b"x-amzn-invoked-production-variant", b"AllTraffic")]
async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    while (await receive()).get("more_body"):
        pass
    await send({"type": "http.response.start", "status": 200, "headers": HEADERS})
    await send({"type": "http.response.body", "body": BODY})
uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), http="httptools", loop="asyncio", ws="none",
            log_level="warning", access_log=False, lifespan="off")
"""


@contextlib.contextmanager
def null_target() -> Iterator[str]:
    """A near-free /invocations target in its own process."""
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-c", _NULL_APP, str(port)])
    url = f"http://127.0.0.1:{port}/invocations"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(urllib.request.Request(url, data=b"{}"), timeout=1).read()
                break
            except OSError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise
                time.sleep(0.2)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def _cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def measure(rates: list[float], duration_s: float, payloads: Path) -> dict[str, Any]:
    """Each rate with one Locust worker and with the in-house open loop, interleaved."""
    rows = []
    with null_target() as url:
        for rate in rates:
            swarm = run_swarm(url, SwarmConfig(rate_rps=rate, duration_s=duration_s, workers=1), payloads=payloads)
            summary = swarm.summary()
            worker = next(iter(summary["workers"].values()))
            locust_row = {
                "achieved_rps": summary["throughput_rps"],
                "cpu_share_of_core": round(worker["cpu_s"] / summary["wall_s"], 3),
                "cpu_us_per_request": summary["generator_overhead_us"],
                "schedule_lag_p99_ms": summary["schedule_lag_p99_ms"],
                "p95_ms": summary["p95_ms"],
                "errors": summary["errors"],
            }
            config = LoadConfig(mode="open", concurrency=64, rate_rps=rate, requests=None, duration_s=duration_s)
            before = _cpu_s()
            result = run_load(http_target(url), PROMPTS, config)
            cpu = _cpu_s() - before
            inhouse = result.summary()
            inhouse_row = {
                "achieved_rps": inhouse["throughput_rps"],
                "cpu_share_of_core": round(cpu / result.wall_s, 3),
                "cpu_us_per_request": round(cpu / max(len(result.samples), 1) * 1e6, 1),
                "schedule_lag_p99_ms": inhouse["schedule_lag_p99_ms"],
                "p95_ms": inhouse["p95_ms"],
                "errors": inhouse["errors"],
            }
            rows.append({"offered_rps": rate, "locust_worker": locust_row, "in_house_open_loop": inhouse_row})
    return {"duration_s": duration_s, "rates": rows, **derive(rows)}


def derive(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """The rate one worker sustains, measured and on a core of its own, and the workers GOAL_RPS needs."""
    kept_up = [
        r
        for r in rows
        if r["locust_worker"]["achieved_rps"] >= ACHIEVED_FLOOR * r["offered_rps"]
        and r["locust_worker"]["cpu_share_of_core"] < CPU_CEILING
    ]
    if not kept_up:
        return {"per_worker_sustained_rps": None, "per_worker_rps_at_cpu_ceiling": None, "workers_for_10k_rps": None}
    best = max(kept_up, key=lambda r: r["offered_rps"])
    # A worker's CPU per request at the highest rate it kept up with (fixed costs, heartbeats and statistics, are
    # spread thinnest there; above it a starved worker's backlog inflates the figure): on a core of its own it
    # reaches CPU_CEILING of the core at this rate.
    per_core = round(CPU_CEILING * 1e6 / best["locust_worker"]["cpu_us_per_request"])
    return {
        "per_worker_sustained_rps": best["offered_rps"],
        "per_worker_rps_at_cpu_ceiling": per_core,
        "workers_for_10k_rps": math.ceil(GOAL_RPS / per_core),
    }


def main(argv: list[str] | None = None) -> None:
    """Parse the arguments, measure, print (and write) the JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rates", default="250,500,1000,1500", help="offered rates, requests per second")
    parser.add_argument("--duration", type=float, default=10.0, help="seconds measured per rate and generator")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        payloads = Path(tmp) / "prompts.txt"
        payloads.write_text("\n".join(PROMPTS) + "\n")
        result = measure([float(r) for r in args.rates.split(",")], args.duration, payloads)
    emit_json(result, args.out)


if __name__ == "__main__":
    main()
