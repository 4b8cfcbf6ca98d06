"""How much load the generator itself can produce: a no-op in-process target, closed and open loop.

Run: .venv/bin/python -m benchmarks.harness_overhead
"""

from __future__ import annotations

import json

from benchmarks.load import LoadConfig, run_load


def noop(text: str) -> None:
    """The trivial target: does nothing."""


def main() -> int:
    """Print achieved throughput, generator overhead and schedule lag for a no-op target."""
    runs = {
        "closed, 1 client, 20k requests": LoadConfig(concurrency=1, requests=20_000),
        "closed, 4 clients, 20k requests": LoadConfig(concurrency=4, requests=20_000),
        "open, 2000 rps, 10k requests": LoadConfig(mode="open", rate_rps=2000, concurrency=8, requests=10_000),
        "open, 5000 rps, 20k requests": LoadConfig(mode="open", rate_rps=5000, concurrency=8, requests=20_000),
    }
    out = {}
    for name, config in runs.items():
        s = run_load(noop, ["a prompt"], config).summary()
        out[name] = {k: s[k] for k in ("throughput_rps", "generator_overhead_us", "schedule_lag_p99_ms", "p99_ms")}
    print(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
